"""Texts to the shop, the one way in: the webhook stores each (`receive_sms`), the
telephony worker answers them (`answer_pending`: in batches, each customer in turn,
`_converse`: opt-out words, who may be answered, the reply cap, the other apps'
handlers) and hands the replies to its senders (telephony/outbox.py). README, "A text's
trip", names every step."""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone

from . import handlers, sql
from .logging import concerning
from .models import Message, OptOut
from .numbers import caller_id, is_withheld, sender_number
from .outbox import InlineSenders
from .reach import (
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    keyword,
    opt_in,
    opt_out,
    reason_not_to_text,
    split_channel,
)
from .segments import count_segments
from .sms import MAX_BODY, TEXTS, send_sms
from .webhooks import twilio_media_url

logger = logging.getLogger(__name__)

Status = Message.Status
Channel = Message.Channel
INBOUND = Message.Direction.INBOUND.value
SORRY = "Sorry, something went wrong on our side. We have been told and will get back to you."


def message_sid(params):
    return (params.get("MessageSid") or params.get("SmsSid") or "").strip()[:64]


def receive_sms(params, received_at=None):
    """Log an inbound SMS; the worker handles it. True when it is new, not a repeat.
    (`received_at`: when the webhook had it, for a text replayed from the spool.)

    Verify, record, acknowledge: the only write is the message row, inserted with
    ON CONFLICT (sid) DO NOTHING, so a repeated or racing delivery of the same
    MessageSid makes one row and one conversation turn. The row is the queue:
    `manage.py telephony_worker` picks up unhandled rows (`answer_pending`) and the
    replies go out as queued outbound texts, with delivery tracking and retries like
    any other. This keeps the webhook within a small multiple of a bare signature
    check under load (bench/).
    """
    sid = message_sid(params)
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
    new = _insert_inbound(
        sid=sid,
        channel=channel,
        from_number=(sender or raw_from)[:32],
        to_number=split_channel(params.get("To"))[1][:32],
        body=body,
        media_urls=media,
        num_segments=min(count_segments(body) or 1, 255),
    )
    if new and received_at is not None:  # in its place among the sender's texts
        Message.objects.filter(sid=sid).update(created_at=received_at)
    return new


def _insert_inbound(**fields):
    """INSERT ... ON CONFLICT (sid) DO NOTHING; True when the row is new. One statement on
    its own (atomic), not Model.objects.create in a transaction (telephony/sql.py says why)."""
    message = Message(direction=Message.Direction.INBOUND, status=Status.RECEIVED, **fields)
    return sql.insert(message, on_conflict="sid")


# --- the telephony worker: answering, in batches, each customer in turn ---------------------


TAKE_FIRST, TAKE_MOST = 8, 64  # texts a batch takes: at first, and at most


def answer_pending(limit=100, senders=None, batch_seconds=None):
    """Answer the texts waiting, oldest first, up to `limit`. Returns how many were handled.

    The one way a text is answered: the telephony worker runs it in a loop, and the
    tests, the phone simulator and `simulate_sms` run it once.

    Each sender's texts are answered in order, a text once the reply to the one
    before it has left: a sender whose turn it is not (another worker holds their
    older text, or a reply to them is in flight or waiting for a retry) is passed over
    until the next call. A text whose handling fails stays unhandled and is tried
    again. The replies go to `senders` (outbox.Senders; by default each is sent
    before the next text is read).

    Texts are answered in batches: as many as `batch_seconds` (TELEPHONY_BATCH_SECONDS)
    allow in one transaction, each in a savepoint of its own, so a backlog costs one
    commit per batch rather than per text (on PostgreSQL with synchronous_commit, a
    wait for the disk each). Each batch first takes the oldest waiting texts under a
    row lock that other workers skip (`SKIP LOCKED`), about twice as many as the last
    batch answered: so several workers share a backlog, each answering texts of its
    own, instead of all trying the same oldest texts and finding them held. On SQLite
    (no row locks) a batch holds the one write lock for TELEPHONY_BATCH_SECONDS at most,
    and the webhook's inserts wait for it in SQLite's busy handler.
    """
    senders = senders or InlineSenders()
    if batch_seconds is None:
        batch_seconds = settings.TELEPHONY_BATCH_SECONDS
    passed_over, handled, take = set(), 0, TAKE_FIRST
    while handled < limit:
        senders.gather()
        try:
            with transaction.atomic():
                senders.store()  # the sends that finished meanwhile, in the same commit
                asked = min(take, limit - handled)
                waiting = sql.take_waiting(Message, INBOUND, asked, passed_over)
                replies, answered = _answer_batch(waiting, passed_over, batch_seconds)
                claimed = TEXTS.claim_fresh(r for r in replies if r.status == Status.QUEUED)
        except DatabaseError:  # the commit itself failed: the texts are tried again
            logger.exception("A batch of inbound messages not handled; will try again")
            close_old_connections()
            break
        senders.stored()
        handled += answered
        senders.send(TEXTS, claimed)  # committed: they leave now
        if answered == len(waiting) < asked:
            break  # all there was, answered: the next call looks again (a transaction fewer)
        take = min(max(2 * answered, TAKE_FIRST), TAKE_MOST)
    return handled


def _answer_batch(waiting, passed_over, seconds):
    """Answer texts from the front of `waiting`, each in a savepoint, for up to
    `seconds`. Returns the replies queued and how many texts were handled."""
    deadline = time.monotonic() + seconds
    queued, answered, numbers = [], 0, set()
    for message in waiting:
        number = message.from_number
        if number in numbers:
            break  # their next text, once this batch's reply to them has left
        if number in passed_over:
            continue
        try:
            replies = answer_in_turn(message.pk, taken=message)
        except DatabaseError:
            logger.exception("Inbound message %s not handled; will try again", message.pk)
            replies = None
        if replies is None:
            passed_over.add(number)
            continue
        queued += replies
        answered += 1
        numbers.add(number)
        if time.monotonic() >= deadline:
            break
    return queued, answered


def answer_in_turn(message_id, number=None, *, taken=None):
    """Handle the oldest unhandled text of `message_id`'s sender, if it is their turn.
    (`number`: that text's `from_number`, when the caller has it already; `taken`: the
    text itself, when the caller's transaction has locked it already, as a batch does,
    so it is not read again.)

    Returns None when it is not: another worker is handling an older text of theirs, or
    a reply to an earlier text of theirs has not left yet (queued, sending, or waiting
    for a retry). Otherwise the text is claimed (handled_at) and answered in one
    transaction, and the reply rows are returned, queued: the caller claims them in its
    transaction (`Texts.claim_fresh`) and sends them (`senders.send`) after commit. If the
    caller dies first, the next worker takes them back (outbox.take_back) and sends them.

    So several workers may run, and each customer's replies leave in the order of
    their texts: a customer's next text is handled only once the previous reply has
    been handed to Twilio (or has failed for good).
    """
    with transaction.atomic():
        message = taken or _oldest_unhandled(message_id, number)
        if message is None:
            return None
        sender = sender_number(message.from_number)
        turn = _turn(message, sender)
        if turn.older_waiting or turn.reply_pending:
            return None  # an older text, or the reply to one, goes first
        sql.update(Message, [(message.pk, {"handled_at": timezone.now()})])
        if settings.LOG_FORMAT != "json":
            return _converse(message, sender, turn)
        with concerning(message_sid=message.sid):  # on every line, and one line per text
            replies = _converse(message, sender, turn)
            logger.info("Answered text %s with %s repl(ies)", message.pk, len(replies))
        return replies


def _oldest_unhandled(message_id, number):
    """The oldest unhandled text of `message_id`'s sender that no other worker holds,
    locked. (SQLite ignores the lock: its transactions take the write lock at BEGIN.)"""
    inbound = Message.objects.filter(direction=INBOUND, handled_at__isnull=True)
    if number is None:
        number = inbound.filter(pk=message_id).values_list("from_number", flat=True).first()
    if number is None:
        return None
    mine = inbound.filter(from_number=number).order_by("created_at", "id")
    return mine.select_for_update(skip_locked=True).first()


@dataclass(frozen=True)
class Turn:
    older_waiting: bool  # an older unhandled text of theirs (another worker holds it)
    reply_pending: bool  # a reply to them has not left yet (queued or claimed, no SID)
    opted_out: bool
    recent_replies: int  # automatic replies to them in the last hour (SMS_REPLIES_PER_HOUR)


def _turn(message, sender):
    """Whether it is `message`'s turn, and whether its sender may be answered: the rules
    of the worker's turn, in one query (telephony/sql.py: four lookups, one round trip;
    the same built with the ORM cost the worker a fifth of its time per text)."""
    older, pending, opted_out, recent = sql.turn(
        Message,
        OptOut,
        inbound=INBOUND,
        outbound=Message.Direction.OUTBOUND.value,
        pending=(Status.QUEUED.value, Status.CLAIMED.value),
        message=message,
        number=sender or message.from_number,
        since=timezone.now() - timedelta(hours=1),
    )
    return Turn(bool(older), bool(pending), bool(opted_out), recent)


def _converse(message, sender, turn):
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
    word = keyword(message.body)
    if word in OPT_OUT_WORDS and len(message.body.split()) == 1:
        opt_out(sender, keyword=word)  # Twilio confirms it to the customer itself
        handlers.report_opt_out(message, word)
        return []
    opted_out = turn.opted_out
    if word in OPT_IN_WORDS or (word == "YES" and opted_out):
        opt_in(sender)
        opted_out = False
        if word != "YES":
            return []  # Twilio confirms it to the customer itself
    unreachable = _reason_not_to_reply(sender, opted_out, turn.recent_replies)
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
            sent_by_caller=True,  # answer_pending's senders, once this commits
        )
        for reply in replies
        if reply
    ]


def _mark_unanswered(message, reason):
    message.error_message = f"not answered: {reason}"[:500]
    Message.objects.filter(pk=message.pk).update(error_message=message.error_message)
    logger.info("Not answering message %s from %s: %s", message.pk, message.from_number, reason)


def _reason_not_to_reply(sender, opted_out, recent_replies):
    """Why `sender` gets no reply, or None, from what the turn looked up: whether they
    opted out, and how many automatic replies they had in the last hour."""
    reason = reason_not_to_text(sender, opted_out=opted_out)
    if reason:
        return reason
    if recent_replies >= settings.SMS_REPLIES_PER_HOUR:
        return (
            f"reply limit reached ({settings.SMS_REPLIES_PER_HOUR} per hour, SMS_REPLIES_PER_HOUR)"
        )
    return None
