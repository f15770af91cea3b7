"""Re-queue outbound messages that no task will send (due retries, rows a dead worker left)."""

import time

from django.core.management.base import BaseCommand

from telephony.services import requeue_due_messages


class Command(BaseCommand):
    help = "Put due retries and messages stuck in sending back in the task queue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", type=float, default=0, help="repeat every N seconds until interrupted"
        )

    def handle(self, loop, **options):
        while True:
            count = requeue_due_messages()
            if count or not loop:
                self.stdout.write(f"Re-queued {count} message(s).")
            if not loop:
                return
            time.sleep(loop)
