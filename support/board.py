"""What the staff board reads about the support line: callers on hold, agents, voicemails,
missed calls."""

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from orders.hours import local

from .agents import busy, on_shift
from .models import CALL_HOLDING, CallEvent, SupportCall, Voicemail


def callers_waiting():
    """Callers in line (on hold, or waiting for a call-back they asked for from the hold),
    longest wait first, each with `said`: the last thing they said to the ordering line
    before asking for a person, if any."""
    said = CallEvent.objects.filter(
        Q(call=OuterRef("pk")) | Q(call=OuterRef("callback_of")), kind=CallEvent.Kind.SAID
    ).exclude(detail__said="")
    return (
        SupportCall.objects.filter(status__in=CALL_HOLDING)
        .select_related("current_offer__agent")
        .annotate(said=Subquery(said.order_by("-pk").values("detail__said")[:1]))
        .order_by("waiting_since", "pk")
    )


def agents_on_shift():
    """Agents on shift, each with `busy` (on or ringing for a call)."""
    return on_shift().annotate(busy=busy())


def voicemails_waiting():
    """Voicemails nobody has marked done yet, oldest first."""
    return (
        Voicemail.objects.filter(done_at__isnull=True)
        .select_related("call")
        .order_by("created_at", "pk")
    )


def missed_calls_today(now=None):
    """Today's missed calls (since the shop's midnight) and how many were texted "sorry we
    missed your call" (support/missed.py), as {"missed": n, "texted": n}: one query."""
    midnight = local(now or timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    return CallEvent.objects.filter(
        created_at__gte=midnight,
        kind__in=[CallEvent.Kind.MISSED_TEXTED, CallEvent.Kind.MISSED_NOT_TEXTED],
    ).aggregate(
        missed=Count("call", distinct=True),
        texted=Count("call", distinct=True, filter=Q(kind=CallEvent.Kind.MISSED_TEXTED)),
    )
