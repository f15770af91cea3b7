"""Texts to the shop: the webhook's insert (receive_sms), then the worker's turn
(handle_pending_inbound, handle_inbound): opt-out words, who may be answered, the reply
cap, and the other apps' handlers."""

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from . import handlers, sql
from .models import Message, OptOut
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


def _insert_sql(connection):
    quote, meta = connection.ops.quote_name, Message._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in _INBOUND_COLUMNS)
    values = ", ".join(["%s"] * len(_INBOUND_COLUMNS))
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values}) "
        "ON CONFLICT (sid) DO NOTHING"
    )


def _insert_inbound(*, sid, channel, from_number, to_number, body, media_urls, num_segments):
    """INSERT ... ON CONFLICT (sid) DO NOTHING; True when the row is new.

    One statement, on its own (a single statement is atomic), rather than
    Model.objects.create in a transaction: on the webhook's hot path the ORM's
    per-field work and the transaction bookkeeping cost more than the insert
    itself (profiled: bench/README.md). Columns not named keep their defaults.
    """
    connection = transaction.get_connection()
    statement = sql.statement(connection, _insert_sql)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [
        Message.Direction.INBOUND.value, Status.RECEIVED.value, "", 0, "", now, now,
        sid, Channel(channel).value, from_number, to_number, body, json.dumps(media_urls),
        num_segments,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
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


def _converse(message, sender, turn=None):
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
    opted_out = turn.opted_out if turn else None
    if word in OPT_IN_WORDS or (word == "YES" and (opted_out or is_opted_out(sender))):
        opt_in(sender)
        opted_out = False
        if word != "YES":
            return []  # Twilio confirms it to the customer itself
    recent = turn.recent_replies if turn else None
    unreachable = _reason_not_to_reply(sender, opted_out=opted_out, recent_replies=recent)
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


def _reason_not_to_reply(sender, *, opted_out=None, recent_replies=None):
    """Why `sender` gets no reply, or None. (What the caller looked up already is not
    looked up again: whether they opted out, how many replies they had this hour.)"""
    reason = reason_not_to_text(sender, opted_out=opted_out)
    if reason:
        return reason
    if recent_replies is None:
        recent_replies = _recent_replies(sender).count()
    if recent_replies >= settings.SMS_REPLIES_PER_HOUR:
        return (
            f"reply limit reached ({settings.SMS_REPLIES_PER_HOUR} per hour, SMS_REPLIES_PER_HOUR)"
        )
    return None


def _recent_replies(sender):
    """Automatic replies to `sender` in the last hour (what SMS_REPLIES_PER_HOUR caps)."""
    return Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        to_number=sender,
        created_at__gte=timezone.now() - timedelta(hours=1),
        in_reply_to__isnull=False,
    )


# --- answering in turn: the telephony worker's path -------------------------------------


def answer_in_turn(message_id, number=None, *, taken=None):
    """Handle the oldest unhandled text of `message_id`'s sender, if it is their turn.
    (`number`: that text's `from_number`, when the caller has it already; `taken`: the
    text itself, when the caller's transaction has locked it already, as the worker's
    batch does, so it is not read again.)

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
            message = taken or _oldest_unhandled(message_id, number)
            if message is None:
                return None
            sender = to_e164(message.from_number)
            turn = _turn(message, sender)
            if turn.older_waiting or turn.reply_pending:
                return None  # an older text, or the reply to one, goes first
            sql.update(Message, [(message.pk, {"handled_at": timezone.now()})])
            return _converse(message, sender, turn)
    finally:
        replies_delivered_by_caller.reset(token)


def _oldest_unhandled(message_id, number):
    """The oldest unhandled text of `message_id`'s sender that no other worker holds,
    locked. (SQLite ignores the lock: its transactions take the write lock at BEGIN.)"""
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND, handled_at__isnull=True)
    if number is None:
        number = inbound.filter(pk=message_id).values_list("from_number", flat=True).first()
    if number is None:
        return None
    mine = inbound.filter(from_number=number).order_by("created_at", "id")
    return mine.select_for_update(skip_locked=True).first()


@dataclass(frozen=True)
class Turn:
    older_waiting: bool  # an older unhandled text of theirs (another worker holds it)
    reply_pending: bool  # a reply to them has not left yet
    opted_out: bool
    recent_replies: int  # automatic replies to them in the last hour


def _turn(message, sender):
    """Whether it is `message`'s turn, and whether its sender may be answered, in one
    query (four lookups, one round trip: the worker runs this for every text).

    Written as SQL once per database vendor (`_turn_sql`) and run with a cursor: the
    same statement built with the ORM (Exists, Subquery, Coalesce) cost the telephony
    worker more CPU to compile than to run, a fifth of its time per text (py-spy at
    150 texts/s, bench/README.md). tests/test_inbound_turn.py checks it against the
    ORM's querysets it stands for (`_replies_pending`, `_recent_replies`)."""
    connection = transaction.get_connection()
    statement = sql.statement(connection, _turn_sql)
    number = sender or message.from_number
    adapt = connection.ops.adapt_datetimefield_value
    created_at = adapt(message.created_at)
    since = adapt(timezone.now() - timedelta(hours=1))
    params = [message.from_number, created_at, created_at, message.pk]
    params += [number, number, number, since]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        older, pending, opted_out, recent = cursor.fetchone()
    return Turn(bool(older), bool(pending), bool(opted_out), recent)


def _turn_sql(connection):
    quote = connection.ops.quote_name
    messages = quote(Message._meta.db_table)
    optouts = quote(OptOut._meta.db_table)
    opted_out_number = quote(OptOut._meta.get_field("phone_number").column)
    field = {f.name: quote(f.column) for f in Message._meta.concrete_fields}
    out, inbound = Message.Direction.OUTBOUND.value, Message.Direction.INBOUND.value
    pending = ", ".join(f"'{s}'" for s in (Status.QUEUED, Status.SENDING))
    # SQLite's planner, with no statistics, reads "sid IS NULL" through the unique index
    # on sid: every reply never sent (failed ones too) instead of the customer's own. A
    # unary + keeps a term off an index (sqlite.org/optoverview.html), so msg_out_to is used.
    unindexed = "+" if connection.vendor == "sqlite" else ""
    return f"""SELECT
        EXISTS(SELECT 1 FROM {messages} WHERE {field["direction"]} = '{inbound}'
            AND {field["from_number"]} = %s AND {field["handled_at"]} IS NULL
            AND ({field["created_at"]} < %s
                 OR ({field["created_at"]} = %s AND {field["id"]} < %s))),
        EXISTS(SELECT 1 FROM {messages} WHERE {field["direction"]} = '{out}'
            AND {field["to_number"]} = %s AND {field["in_reply_to"]} IS NOT NULL
            AND {field["status"]} IN ({pending}) AND {unindexed}{field["sid"]} IS NULL),
        EXISTS(SELECT 1 FROM {optouts} WHERE {opted_out_number} = %s),
        (SELECT COUNT(*) FROM {messages} WHERE {field["direction"]} = '{out}'
            AND {field["to_number"]} = %s AND {field["in_reply_to"]} IS NOT NULL
            AND {field["created_at"]} >= %s)"""


def _replies_pending(number):
    """Replies to `number` that have not left yet (queued, sending, or due a retry)."""
    return Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        to_number=number,
        in_reply_to__isnull=False,
        status__in=[Message.Status.QUEUED, Message.Status.SENDING],
        sid__isnull=True,  # Twilio answers a send with "queued": a SID means it left
    )
