"""Every missed call becomes a text.

A call to the line is missed when the caller hung up before reaching anyone (in the menu,
on hold, or while an agent's phone rang), or was offered voicemail (no agent on shift, the
shop closed, or the wait too long) and left none. Hearing their order's status (menu 1), or
placing an order by voice, is not missed: they got what they called for. Hanging up in the
middle of an order by voice is: the text invites them to finish it by text.

`end_call` marks such a call (`missed_text_due_at`, MISSED_CALL_TEXT_DELAY_SECONDS later:
Twilio may post the voicemail's recording after the hang-up, callbacks come in any
order). The telephony worker's minute sweep (`text_missed_calls`, settings.TELEPHONY_SWEEPS)
then looks again and sends one text through the outbox, in the caller's language:
"Sorry we missed your call. You can order by text right here...". Its reply is an ordinary
text conversation. Not texted, each with the reason in the call's history: a number we may
not text (withheld, premium, another country, opted out: telephony.reach's one rule), a
number texted for a missed call in the last MISSED_CALL_TEXT_HOURS, a call that turned out
not missed after all (a voicemail arrived, an agent answered: no mark at all). Each missed
call keeps one of two marks in its history, "missed call texted" or "missed call not texted"
(with the reason), which the board and the reports count. MISSED_CALL_TEXT=false turns the
texts off.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from orders import lookup
from telephony.models import Message
from telephony.numbers import mask
from telephony.reach import reason_not_to_text
from telephony.sms import send_sms

from .models import CallEvent, SupportCall

logger = logging.getLogger(__name__)

Status = SupportCall.Status
Kind = CallEvent.Kind


def mark_if_missed(call, now=None):
    """After `call` ended (in the transaction that ended it): if it looks missed, have the
    sweep look at it once MISSED_CALL_TEXT_DELAY_SECONDS have passed."""
    if not settings.MISSED_CALL_TEXT or call.direction != SupportCall.Direction.INBOUND:
        return
    if call.status == Status.ABANDONED or (
        call.status == Status.COMPLETED and call.answered_at is None
    ):
        delay = timedelta(seconds=settings.MISSED_CALL_TEXT_DELAY_SECONDS)
        call.missed_text_due_at = (now or timezone.now()) + delay
        call.save(update_fields=["missed_text_due_at"])


def text_missed_calls(now=None, limit=200):
    """A sweep (settings.TELEPHONY_SWEEPS): text the callers of the missed calls that are
    due. Returns how many were texted."""
    now = now or timezone.now()
    due = SupportCall.objects.filter(missed_text_due_at__lte=now).order_by("missed_text_due_at")
    texted = 0
    for call_id in list(due.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            call = (
                SupportCall.objects.select_for_update()
                .filter(pk=call_id, missed_text_due_at__isnull=False)
                .first()
            )
            if call is None:
                continue
            call.missed_text_due_at = None
            call.save(update_fields=["missed_text_due_at"])
            if not _still_missed(call):
                continue  # a voicemail arrived, or an agent answered, after all
            reason = _reason_not_to_text(call, now)
            if reason:
                call.record(Kind.MISSED_NOT_TEXTED, reason=reason)
                continue
            with translation.override(lookup.language_for_number(call.caller_number)):
                body = render_to_string("support/sms/missed_call.txt").strip()
            send_sms(call.caller_number, body, about=call, checked=True)
            call.record(Kind.MISSED_TEXTED)
            logger.info("Missed call %s: texted %s", call.pk, mask(call.caller_number))
            texted += 1
    return texted


def _still_missed(call):
    if call.answered_at is not None or hasattr(call, "voicemail"):
        return False
    served = call.events.filter(
        kind=Kind.MENU, detail__choice__in=["order status", "ordered by voice"]
    )
    return not served.exists()


def _reason_not_to_text(call, now):
    if not settings.MISSED_CALL_TEXT:
        return "missed-call texts are off (MISSED_CALL_TEXT)"
    refused = reason_not_to_text(call.caller_number)
    if refused:
        return refused
    since = now - timedelta(hours=settings.MISSED_CALL_TEXT_HOURS)
    if Message.objects.filter(
        to_number=call.caller_number,
        direction=Message.Direction.OUTBOUND,
        content_type=ContentType.objects.get_for_model(SupportCall),
        created_at__gte=since,
    ).exists():
        return f"texted for a missed call in the last {settings.MISSED_CALL_TEXT_HOURS} hours"
    return None
