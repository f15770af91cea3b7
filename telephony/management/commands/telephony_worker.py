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
from django.db import DatabaseError, close_old_connections

from telephony import processes, spool, wakeup
from telephony.handlers import run_sweeps
from telephony.inbound import answer_pending
from telephony.outbox import (
    deliver_due_outbound,
    deliver_stranded_replies,
    requeue_claims_of,
    requeue_due_messages,
    requeue_due_requests,
)
from telephony.senders import InlineSenders, Senders

logger = logging.getLogger(__name__)


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
            try:
                processes.unregister()
            except DatabaseError:
                logger.warning("Could not unregister this worker; the next one will")
        self.stdout.write(f"Handled {total} inbound message(s).")

    def _loop(self, senders, poll, sweep_every, once, until_idle):
        next_sweep = next_stranded = next_beat = 0.0
        total = 0
        if not (once or until_idle):
            wakeup.listen()  # before the first look, so no commit after it goes unnoticed
        while self.running:
            handled = sent = 0
            try:
                if time.monotonic() >= next_beat:
                    self._keep_house(senders)
                    next_beat = time.monotonic() + processes.BEAT_EVERY
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

    def _keep_house(self, senders):
        """At the start and every BEAT_EVERY seconds: register (or beat); send at once what
        a dead worker was sending (looked up at Twilio first, so its customers' next texts
        wait no longer); store the texts the webhook kept on disk while the database was
        away (telephony/spool.py)."""
        if processes.current() is None:
            processes.register("telephony worker")
        else:
            processes.beat()
        if dead := processes.dead_processes():
            senders.start(requeue_claims_of(dead))
            processes.forget(dead)
        spool.replay()

    def _stop(self, signum, frame):
        self.running = False
