"""Texts to the shop: the webhook's insert (receive_sms), then the worker's turn
(handle_pending_inbound, handle_inbound): opt-out words, who may be answered, the reply
cap, and the other apps' handlers."""

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from . import handlers
from .models import Message
from .numbers import caller_id, is_withheld, to_e164
from .outbox import MAX_BODY, replies_delivered_by_caller, send_sms
from .reach import (
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    is_opted_out,
    opt_in,
    opt_out,
    reason_not_to_text,
    split_channel,
)
from .segments import count_segments
from .turnstile import sqlite_writer
from .webhooks import twilio_media_url

logger = logging.getLogger(__name__)

Status = Message.Status
Channel = Message.Channel
SORRY = "Sorry, something went wrong on our side. We have been told and will get back to you."


def _keyword(body):
    return "".join(ch for ch in (body or "").strip().upper() if ch.isalnum())


def receive_sms(params):
    """Log an inbound SMS; the worker handles it. True when it is new, not a repeat.

    Verify, record, acknowledge: the only write is the message row, inserted with
    ON CONFLICT (sid) DO NOTHING, so a repeated or racing delivery of the same
    MessageSid makes one row and one conversation turn. The row is the queue:
    `manage.py telephony_worker` picks up unhandled rows (`handle_pending_inbound`)
    and the replies go out as queued outbound texts, with delivery tracking and
    retries like any other. This keeps the webhook within a small multiple of a
    bare signature check under load (bench/).
    """
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()[:64]
    if not sid:
        raise ValueError("MessageSid missing")
    channel, raw_from = split_channel(params.get("From"))
    sender = caller_id(raw_from)  # WITHHELD for Twilio's stand-ins, never a "number"
    media = []
    try:
        num_media = min(int(params.get("NumMedia") or 0), 10)
    except ValueError:
        num_media = 0
    for i in range(num_media):
        if url := params.get(f"MediaUrl{i}"):
            if kept := twilio_media_url(url):
                media.append(kept)
            else:
                logger.warning("Dropped MediaUrl%d of %s: not on Twilio's hosts", i, sid)
    body = (params.get("Body") or "")[: MAX_BODY * 4]
    with sqlite_writer():  # between two of the telephony worker's batches
        return _insert_inbound(
            sid=sid,
            channel=channel,
            from_number=(sender or raw_from)[:32],
            to_number=split_channel(params.get("To"))[1][:32],
            body=body,
            media_urls=media,
            num_segments=min(count_segments(body) or 1, 255),
        )


_INBOUND_COLUMNS = (
    "direction", "status", "error_message", "attempts", "object_id", "created_at",
    "updated_at", "sid", "channel", "from_number", "to_number", "body", "media_urls",
    "num_segments",
)  # fmt: skip
_insert_sql = {}


def _insert_inbound(*, sid, channel, from_number, to_number, body, media_urls, num_segments):
    """INSERT ... ON CONFLICT (sid) DO NOTHING; True when the row is new.

    One statement, on its own (a single statement is atomic), rather than
    Model.objects.create in a transaction: on the webhook's hot path the ORM's
    per-field work and the transaction bookkeeping cost more than the insert
    itself (profiled: bench/README.md). Columns not named keep their defaults.
    """
    connection = transaction.get_connection()
    sql = _insert_sql.get(connection.vendor)
    if sql is None:
        quote, meta = connection.ops.quote_name, Message._meta
        columns = ", ".join(quote(meta.get_field(name).column) for name in _INBOUND_COLUMNS)
        values = ", ".join(["%s"] * len(_INBOUND_COLUMNS))
        sql = _insert_sql[connection.vendor] = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values}) "
            "ON CONFLICT (sid) DO NOTHING"
        )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [
        Message.Direction.INBOUND.value, Status.RECEIVED.value, "", 0, "", now, now,
        sid, Channel(channel).value, from_number, to_number, body, json.dumps(media_urls),
        num_segments,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def handle_pending_inbound(limit=100):
    """Handle inbound texts nobody has handled yet, oldest first. Returns how many.

    Several workers may run this at once: each message is claimed in
    `handle_inbound`, so one of them handles it and the others skip it.
    """
    pending = list(
        Message.objects.filter(direction=Message.Direction.INBOUND, handled_at__isnull=True)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    handled = 0
    for message_id in pending:
        try:
            handle_inbound(message_id)
            handled += 1
        except DatabaseError:
            logger.exception("Inbound message %s not handled; will try again", message_id)
    return handled


def handle_inbound(message_id):
    """Run one inbound text through opt-out rules and the conversation, once.

    The message is claimed (handled_at set) in the same transaction as everything
    the handlers change, and the replies are queued there too: if anything fails,
    all of it rolls back and the next poll tries again. Returns the reply rows.
    """
    with transaction.atomic():
        claimed = Message.objects.filter(
            pk=message_id, direction=Message.Direction.INBOUND, handled_at__isnull=True
        ).update(handled_at=timezone.now())
        if not claimed:
            return []
        message = Message.objects.get(pk=message_id)
        return _converse(message, to_e164(message.from_number))


def _converse(message, sender):
    """Opt-out rules, then the handlers, for a sender we may answer.

    Whether we may answer is decided before the handlers run: a sender we cannot text
    back (a country we do not serve, a premium-rate number, opted out, over the reply
    cap) changes nothing, since nobody could be told the price or the order number. Their
    text stays in the log marked "not answered: why" and the other apps are told
    (TELEPHONY_UNANSWERED_HANDLERS) so staff see it.
    """
    if not sender:
        why = "caller ID withheld" if is_withheld(message.from_number) else "not a phone number"
        _mark_unanswered(message, why)
        return []
    word = _keyword(message.body)
    if word in OPT_OUT_WORDS and len(message.body.split()) == 1:
        opt_out(sender, keyword=word)  # Twilio confirms it to the customer itself
        handlers.report_opt_out(message, word)
        return []
    if word in OPT_IN_WORDS or (word == "YES" and is_opted_out(sender)):
        opt_in(sender)
        if word != "YES":
            return []  # Twilio confirms it to the customer itself
    unreachable = _reason_not_to_reply(sender)
    if unreachable:
        _mark_unanswered(message, unreachable)
        handlers.report_unanswered(message, unreachable)
        return []
    try:
        with transaction.atomic():
            replies = handlers.dispatch(message)
    except DatabaseError:
        raise
    except Exception:
        # A bug in a handler must not lose the message or leave the customer unanswered.
        logger.exception("SMS handler failed on message %s", message.pk)
        replies = [SORRY]
    return [
        send_sms(
            sender,
            reply,
            about=message.about if message.content_type_id else None,
            in_reply_to=message,
            from_=message.to_number or None,
            channel=message.channel,
            checked=True,  # _reason_not_to_reply just now
        )
        for reply in replies
        if reply
    ]


def _mark_unanswered(message, reason):
    message.error_message = f"not answered: {reason}"[:500]
    Message.objects.filter(pk=message.pk).update(error_message=message.error_message)
    logger.info("Not answering message %s from %s: %s", message.pk, message.from_number, reason)


def _reason_not_to_reply(sender):
    reason = reason_not_to_text(sender)
    if reason:
        return reason
    since = timezone.now() - timedelta(hours=1)
    recent = Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        to_number=sender,
        created_at__gte=since,
        in_reply_to__isnull=False,
    ).count()
    if recent >= settings.SMS_REPLIES_PER_HOUR:
        return (
            f"reply limit reached ({settings.SMS_REPLIES_PER_HOUR} per hour, SMS_REPLIES_PER_HOUR)"
        )
    return None


# --- answering in turn: the telephony worker's path -------------------------------------


def answer_in_turn(message_id, number=None):
    """Handle the oldest unhandled text of `message_id`'s sender, if it is their turn.
    (`number`: that text's `from_number`, when the caller has it already.)

    Returns None when it is not: another worker is handling an older text of theirs, or
    a reply to an earlier text of theirs has not left yet (queued, sending, or waiting
    for a retry). Otherwise the text is handled as `handle_inbound` does, in one
    transaction, and the reply rows are returned, queued but with no delivery task:
    the caller delivers them (`outbox.deliver`) once this has returned, i.e. after
    commit. If the caller dies first, `outbox.deliver_stranded_replies` sends them.

    So several workers may run, and each customer's replies leave in the order of
    their texts: a customer's next text is handled only once the previous reply has
    been handed to Twilio (or has failed for good).
    """
    token = replies_delivered_by_caller.set(True)
    try:
        with transaction.atomic():
            inbound = Message.objects.filter(
                direction=Message.Direction.INBOUND, handled_at__isnull=True
            )
            if number is None:
                number = inbound.filter(pk=message_id).values_list("from_number", flat=True).first()
            if number is None:
                return None
            # The sender's oldest unhandled text, locked; skip_locked and the check after
            # it make a worker skip a sender whose older text another worker holds.
            # (SQLite ignores the lock: its transactions take the write lock at BEGIN.)
            mine = inbound.filter(from_number=number).order_by("created_at", "id")
            message = mine.select_for_update(skip_locked=True).first()
            if message is None:
                return None
            if transaction.get_connection().features.has_select_for_update_skip_locked:
                older = Q(created_at__lt=message.created_at) | Q(
                    created_at=message.created_at, id__lt=message.pk
                )
                if mine.filter(older).exists():
                    return None  # held by another worker: its turn comes first
            sender = to_e164(number)
            if sender and _reply_pending(sender):
                return None
            Message.objects.filter(pk=message.pk).update(handled_at=timezone.now())
            return _converse(message, sender)
    finally:
        replies_delivered_by_caller.reset(token)


def _reply_pending(number):
    """Whether a reply to `number` has not left yet (queued, sending, or due a retry)."""
    return Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        to_number=number,
        in_reply_to__isnull=False,
        status__in=[Message.Status.QUEUED, Message.Status.SENDING],
        sid__isnull=True,  # Twilio answers a send with "queued": a SID means it left
    ).exists()
