"""The telephony worker: answers inbound texts and is the outbox's one consumer.

Looks for inbound messages nobody has handled (the webhook only records them), runs each
through the conversation (`answer_pending`) and hands the replies to Twilio itself, right
after the transaction that wrote them commits; and sends every other text or voice request
that is due (`send_due`: a staff move's text, a retry whose time has come, a promotion's
paced texts, a call to ring). When idle it waits for a notification on PostgreSQL, or polls
elsewhere (telephony/wakeup.py), and never longer than until the next held row falls due.
Every BEAT_EVERY seconds it beats, takes back what dead workers had claimed (`take_back`),
and stores texts the webhook kept on disk; every minute it runs the apps' sweeps
(settings.TELEPHONY_SWEEPS). Run one or more beside db_worker (which runs the other apps'
tasks): each customer's texts are answered one at a time, in order, whichever worker takes
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
from telephony.outbox import InlineSenders, Senders, next_due_in, send_due, take_back

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
        next_sweep = next_beat = 0.0
        total = 0
        if not (once or until_idle):
            wakeup.listen()  # before the first look, so no commit after it goes unnoticed
        while self.running:
            handled = sent = 0
            try:
                if time.monotonic() >= next_beat:
                    self._keep_house()
                    next_beat = time.monotonic() + processes.BEAT_EVERY
                if time.monotonic() >= next_sweep:
                    run_sweeps()  # before sending: what a sweep queues leaves in this pass
                    next_sweep = time.monotonic() + sweep_every
                handled = answer_pending(senders=senders)
                sent = send_due(senders)
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
                        # A poll is short; a worker woken by NOTIFY must not sleep past a
                        # held row's time (a retry, a paced promotion).
                        due_in = next_due_in() if wakeup.listens() else None
                        wakeup.wait_for_work(poll, due_in=due_in)
                except KeyboardInterrupt:
                    break
                except DatabaseError:
                    logger.exception("Database error in the telephony worker; retrying")
                    close_old_connections()
        wakeup.close()
        return total

    def _keep_house(self):
        """At the start and every BEAT_EVERY seconds: register (or beat); take back what a
        dead worker had claimed, so its customers' next texts wait no longer (looked up at
        Twilio before it is sent again); store the texts the webhook kept on disk while the
        database was away (telephony/spool.py)."""
        if processes.current() is None:
            processes.register(processes.TELEPHONY_WORKER)
        else:
            processes.beat()
        take_back()
        spool.replay()

    def _stop(self, signum, frame):
        self.running = False
