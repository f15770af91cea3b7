"""The telephony worker: answers inbound texts and keeps outbound ones moving.

Polls for inbound messages nobody has handled (the webhook only records them)
and runs each through the conversation; every minute it also re-queues due
retries and the texts and voice requests a dead worker left behind, and runs
the other apps' sweeps (settings.TELEPHONY_SWEEPS: the support line ends calls
whose final status Twilio never sent). Run one or more beside db_worker.
"""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from telephony.handlers import run_sweeps
from telephony.inbound import handle_pending_inbound
from telephony.outbox import requeue_due_messages, requeue_due_requests

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Handle inbound texts as they arrive and sweep stuck outbound ones."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=0.25, help="seconds between polls")
        parser.add_argument("--sweep-every", type=float, default=60, help="seconds between sweeps")
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--until-idle", action="store_true", help="exit once no inbound text is waiting"
        )

    def handle(self, poll, sweep_every, once, until_idle, **options):
        self.running = True
        signal.signal(signal.SIGTERM, self._stop)
        next_sweep = 0.0
        total = 0
        while self.running:
            handled = 0
            try:
                handled = handle_pending_inbound()
                if time.monotonic() >= next_sweep:
                    requeue_due_messages()
                    requeue_due_requests()
                    run_sweeps()
                    next_sweep = time.monotonic() + sweep_every
            except DatabaseError:
                logger.exception("Database error in the telephony worker; retrying")
                close_old_connections()
            total += handled
            if once or (until_idle and not handled):
                break
            if not handled:
                try:
                    time.sleep(poll)
                except KeyboardInterrupt:
                    break
        self.stdout.write(f"Handled {total} inbound message(s).")

    def _stop(self, signum, frame):
        self.running = False
