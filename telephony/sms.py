"""Texts out: `send_sms` queues one (an outbound Message row), and `TEXTS`, the outbox of
texts (telephony/outbox.py), says how one is handed to the provider, found again after an
unclear attempt, and stored once sent."""

import logging

from django.conf import settings
from django.utils import timezone

from . import outbox, processes, sql
from .backends import ProviderError, get_backend
from .models import Message, about_fields
from .numbers import to_e164
from .reach import UNSUBSCRIBED, on_channel, opt_out, reason_not_to_text, split_channel
from .segments import count_segments

logger = logging.getLogger(__name__)

MAX_BODY = 1600
Status = Message.Status
Channel = Message.Channel


def send_sms(
    to,
    body,
    media_urls=(),
    about=None,
    *,
    in_reply_to=None,
    from_=None,
    channel=Channel.SMS,
    send_after=None,
    checked=False,
    sent_by_caller=False,
):
    """Queue a text (SMS, or MMS with media; on WhatsApp with channel="whatsapp") to `to`.
    Returns the Message row.

    `to` is a number (`whatsapp:+1...` also means WhatsApp); `from_` defaults to the
    shop's number on the channel: TWILIO_PHONE_NUMBER, or TWILIO_WHATSAPP_NUMBER (falling
    back to the former). Both are stored plain; the send adds the prefix Twilio wants.

    The row is written `queued` in the caller's transaction, so nobody is texted about a
    change that rolled back; the telephony worker sends it once that commits (the outbox,
    telephony/outbox.py). A number that may not be texted gets a `failed` row saying why,
    and no provider call. `send_after` holds the text until then (a paced promotion, an
    offer): held texts go after fresh ones. `checked`: the caller has just found `to`
    textable (`reason_not_to_text`) in this transaction, so it is not asked again.
    `sent_by_caller`: the caller claims the row in its transaction and sends it once that
    commits (the telephony worker's replies: inbound.answer_pending).
    """
    prefixed, plain = split_channel(str(to))
    if prefixed == Channel.WHATSAPP:
        channel = Channel.WHATSAPP
    number = to_e164(plain)
    body = (body or "")[:MAX_BODY]
    if not from_ and channel == Channel.WHATSAPP:
        from_ = settings.TWILIO_WHATSAPP_NUMBER
    message = Message(
        direction=Message.Direction.OUTBOUND,
        channel=channel,
        from_number=from_ or settings.TWILIO_PHONE_NUMBER,
        to_number=number or str(to)[:32],
        in_reply_to=in_reply_to,
        body=body,
        media_urls=list(media_urls),
        status=Status.QUEUED,
        num_segments=count_segments(body) or 1,
        next_attempt_at=send_after,
        **about_fields(about),
    )
    reason = None if checked else reason_not_to_text(number)
    if reason:
        message.status = Status.FAILED
        message.error_message = reason
        message.save()
        logger.info("Not texting %s: %s", message.to_number, reason)
        return message
    sql.insert(message)  # message.save(), a statement the worker runs for every reply
    return message if sent_by_caller else outbox.written(message)


class Texts(outbox.Outbox):
    model = Message
    what = "SMS"

    def pending(self):
        return Message.objects.filter(direction=Message.Direction.OUTBOUND, sid__isnull=True)

    def describe(self, message):
        return f"SMS {message.pk} to {message.to_number}"

    def refusal(self, message):
        return reason_not_to_text(message.to_number)

    def refused_for_good(self, message, exc):
        if exc.code == UNSUBSCRIBED:
            opt_out(message.to_number, keyword="21610")

    def call_provider(self, message):
        return get_backend().send_sms(**_request(message))

    def sends_async(self, message):
        """A message with no unclear attempt before, on a backend that can send from a
        coroutine (twilio: its asynchronous client)."""
        return not message.unclear_since and hasattr(get_backend(), "send_sms_async")

    async def send_async(self, message):
        """`send` from a coroutine, for a backend that offers `send_sms_async` and a message
        with no unclear attempt before (that one is looked up first: `send`). Reads and
        writes nothing in the database."""
        try:
            return await get_backend().send_sms_async(**_request(message))
        except ProviderError as exc:
            return exc

    def find_earlier(self, message):
        """Texts to the same number since the unclear attempt, with the same body (Twilio's
        trial accounts put a prefix before it), not already in our log under another row."""
        service_sid = settings.TWILIO_MESSAGING_SERVICE_SID
        candidates = get_backend().find_messages(
            to=on_channel(message.to_number, message.channel),
            from_=None if service_sid else on_channel(message.from_number, message.channel),
            sent_after=message.unclear_since,
        )
        matching = [c for c in candidates if c.body and c.body.endswith(message.body)]
        known = set(
            Message.objects.filter(sid__in=[c.sid for c in matching]).values_list("sid", flat=True)
        )
        unknown = [c for c in matching if c.sid not in known]
        return unknown[-1] if unknown else None  # newest first: the earliest attempt

    def store_done(self, done):
        """The SIDs in one statement per shape (the worker stores a batch of replies')."""
        sent = {}
        for message, result in done:
            fields = _sent_fields(result)
            sent.setdefault(tuple(fields), []).append((message.pk, fields))
        for rows in sent.values():
            sql.update(Message, rows)

    def claim_fresh(self, messages):
        """Claim replies the caller has just queued, and found textable, in the transaction
        that wrote them: one conditional UPDATE for all of them, no row lock or opt-out
        look-up (`claim` does both, for rows queued long ago). Returns the claimed
        messages: all of them, unless another worker took some (`claim_due`)."""
        messages = {m.pk: m for m in messages}
        if not messages:
            return []
        now = timezone.now()
        count = sql.claim_queued(
            Message,
            list(messages),
            now,
            queued=Status.QUEUED.value,
            claimed=Status.CLAIMED.value,
            claimed_by=processes.current(),
        )
        ours = set(messages)
        if count < len(messages):  # rare: tell ours from the rows another worker claimed
            ours = set(
                Message.objects.filter(
                    pk__in=messages, status=Status.CLAIMED, updated_at=now
                ).values_list("pk", flat=True)
            )
        for pk in ours:
            message = messages[pk]
            message.status, message.attempts = Status.CLAIMED, message.attempts + 1
            message.updated_at = now
        return [m for pk, m in messages.items() if pk in ours]


TEXTS = Texts()


def _request(message):
    service_sid = settings.TWILIO_MESSAGING_SERVICE_SID
    return {
        "to": on_channel(message.to_number, message.channel),
        "body": message.body,
        "from_": None if service_sid else on_channel(message.from_number, message.channel),
        "messaging_service_sid": service_sid or None,
        "media_urls": tuple(message.media_urls),
        "status_callback": outbox.callback_url("telephony:sms-status"),
    }


def _sent_fields(result):
    # A status callback may not have arrived yet (it needs the SID we are storing now).
    now = timezone.now()
    status = result.status if result.status in Status.values else Status.SENT
    fields = {
        "status": Status.SENT if status == Status.CLAIMED else status,
        "updated_at": now,
        "claimed_by": None,
        "sid": result.sid,
        "sent_at": now,
        "error_code": None,
        "error_message": "",
        "unclear_since": None,
    }
    if result.num_segments:
        fields["num_segments"] = result.num_segments
    return fields
