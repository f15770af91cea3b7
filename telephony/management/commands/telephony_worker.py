"""The telephony worker: answers inbound texts and keeps outbound ones moving.

Looks for inbound messages nobody has handled (the webhook only records them), runs
each through the conversation (`answer_in_turn`) and hands the replies to Twilio
itself, right after the transaction that wrote them commits (still through the
outbox row: claimed, sent outside any transaction, retried by a task when Twilio
fails). It also sends other fresh outbound texts (a staff move's) without waiting for
their task (`deliver_due_outbound`). When idle it waits for a notification on
PostgreSQL, or polls elsewhere (telephony/wakeup.py). Every few seconds it sends
replies a dead worker queued but never sent (`deliver_stranded_replies`); every
minute it re-queues due retries and the texts and voice requests a dead worker left
behind, and runs the other apps' sweeps (settings.TELEPHONY_SWEEPS: the support line
ends calls whose final status Twilio never sent). Run one or more beside db_worker:
each customer's texts are answered one at a time, in order, whichever worker takes
them (README, "Scaling out").
"""

import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, transaction

from telephony import sql, wakeup
from telephony.handlers import run_sweeps
from telephony.inbound import answer_in_turn
from telephony.models import Message
from telephony.outbox import (
    deliver_due_outbound,
    deliver_stranded_replies,
    requeue_due_messages,
    requeue_due_requests,
)
from telephony.senders import InlineSenders, Senders
from telephony.turnstile import WORKER_EVERY, sqlite_writer

logger = logging.getLogger(__name__)


def answer_pending(limit=100, senders=None, batch_seconds=None):
    """Answer the texts waiting, oldest first, up to `limit`. Returns how many were handled.

    Each sender's texts are answered in order, a text once the reply to the one
    before it has left: a sender whose turn it is not (another worker holds their
    older text, or a reply to them is in flight or waiting for a retry) is passed over
    until the next call. A text whose handling fails stays unhandled and is tried
    again. The replies go to `senders` (telephony/senders.py; by default each is sent
    before the next text is read).

    Texts are answered in batches: as many as `batch_seconds` (TELEPHONY_BATCH_SECONDS)
    allow in one transaction, each in a savepoint of its own, so a backlog costs one
    commit per batch rather than per text (on PostgreSQL with synchronous_commit, a
    wait for the disk each). Each batch first takes the oldest waiting texts under a
    row lock that other workers skip (`SKIP LOCKED`), about twice as many as the last
    batch answered: so several workers share a backlog, each answering texts of its
    own, instead of all trying the same oldest texts and finding them held. On SQLite
    (no row locks) a batch holds the one write lock, and the webhook's inserts get in
    between two batches (telephony/turnstile.py).
    """
    senders = senders or InlineSenders()
    if batch_seconds is None:
        batch_seconds = settings.TELEPHONY_BATCH_SECONDS
    passed_over, handled, take = set(), 0, TAKE_FIRST
    while handled < limit:
        senders.gather()
        try:
            with sqlite_writer(every=WORKER_EVERY, first=False), transaction.atomic():
                senders.store()  # the sends that finished meanwhile, in the same commit
                asked = min(take, limit - handled)
                waiting = _take_waiting(asked, passed_over)
                replies, answered = _answer_batch(waiting, passed_over, batch_seconds)
                claimed = senders.claim(r for r in replies if r.status == Message.Status.QUEUED)
        except DatabaseError:  # the commit itself failed: the texts are tried again
            logger.exception("A batch of inbound messages not handled; will try again")
            close_old_connections()
            break
        senders.stored()
        handled += answered
        senders.send(claimed)  # committed: they leave now
        if answered == len(waiting) < asked:
            break  # all there was, answered: the next call looks again (a transaction fewer)
        take = min(max(2 * answered, TAKE_FIRST), TAKE_MOST)
    return handled


TAKE_FIRST, TAKE_MOST = 8, 64  # texts a batch takes: at first, and at most


def _take_waiting(count, passed_over):
    """The oldest `count` unhandled texts no other worker holds, locked for this
    transaction; senders in `passed_over` left out.

    Message.objects.filter(direction="in", handled_at=None).exclude(from_number__in=...)
    .order_by("created_at", "id").select_for_update(skip_locked=True)[:count], written
    out (run with `raw`, which still reads the rows through the fields): once a batch,
    and building it cost the worker more than running it."""
    connection = transaction.get_connection()
    statement = sql.statement(connection, _waiting_sql)
    params = [Message.Direction.INBOUND.value]
    if passed_over:
        params += passed_over
        column = connection.ops.quote_name(Message._meta.get_field("from_number").column)
        others = f"AND {column} NOT IN ({', '.join(['%s'] * len(passed_over))})"
        statement = statement.replace("/* others */", others)
    return list(Message.objects.raw(statement, [*params, count]))


def _waiting_sql(connection):
    quote, meta = connection.ops.quote_name, Message._meta
    field = {f.name: quote(f.column) for f in meta.concrete_fields}
    skip_locked = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    return (
        f"SELECT {', '.join(field.values())} FROM {quote(meta.db_table)} "
        f"WHERE {field['direction']} = %s AND {field['handled_at']} IS NULL /* others */ "
        f"ORDER BY {field['created_at']}, {field['id']} LIMIT %s{skip_locked}"
    )


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


class Command(BaseCommand):
    help = "Handle inbound texts as they arrive and sweep stuck outbound ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--poll",
            type=float,
            default=settings.TELEPHONY_WORKER_POLL,
            help="seconds between polls when idle, where no notification wakes the worker "
            "(TELEPHONY_WORKER_POLL; on PostgreSQL: TELEPHONY_WORKER_LISTEN_POLL)",
        )
        parser.add_argument("--sweep-every", type=float, default=60, help="seconds between sweeps")
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--until-idle", action="store_true", help="exit once no inbound text is waiting"
        )

    def handle(self, poll, sweep_every, once, until_idle, **options):
        self.running = True
        signal.signal(signal.SIGTERM, self._stop)
        senders = InlineSenders() if once else Senders()
        try:
            total = self._loop(senders, poll, sweep_every, once, until_idle)
        finally:
            senders.close()
        self.stdout.write(f"Handled {total} inbound message(s).")

    def _loop(self, senders, poll, sweep_every, once, until_idle):
        next_sweep = next_stranded = 0.0
        total = 0
        if not (once or until_idle):
            wakeup.listen()  # before the first look, so no commit after it goes unnoticed
        while self.running:
            handled = sent = 0
            try:
                handled = answer_pending(senders=senders)
                sent = deliver_due_outbound(senders=senders)
                now = time.monotonic()
                if now >= next_stranded:
                    deliver_stranded_replies(settings.TELEPHONY_STRANDED_REPLY_SECONDS)
                    next_stranded = now + 5
                if now >= next_sweep:
                    requeue_due_messages()
                    requeue_due_requests()
                    run_sweeps()
                    next_sweep = time.monotonic() + sweep_every
            except DatabaseError:
                logger.exception("Database error in the telephony worker; retrying")
                close_old_connections()
            total += handled
            if once or (until_idle and not handled and not senders.busy):
                break
            if not handled and not sent:
                try:
                    if senders.busy:
                        senders.collect(timeout=poll)  # a reply leaving may free a turn
                    else:
                        wakeup.wait_for_work(poll)
                except KeyboardInterrupt:
                    break
                except DatabaseError:
                    logger.exception("Database error in the telephony worker; retrying")
                    close_old_connections()
        wakeup.close()
        return total

    def _stop(self, signum, frame):
        self.running = False
