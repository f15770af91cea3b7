"""What the staff board reads about the support line: callers on hold, agents, voicemails."""

from .agents import busy, on_shift
from .models import CALL_HOLDING, SupportCall, Voicemail


def callers_waiting():
    """Callers on hold (waiting or ringing an agent), longest wait first."""
    return (
        SupportCall.objects.filter(status__in=CALL_HOLDING)
        .select_related("current_offer__agent")
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
