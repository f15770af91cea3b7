"""Re-queue outbound messages that no task will send (due retries, rows a dead worker left).

One pass, for operators; `telephony_worker` runs the same sweep every minute.
"""

from django.core.management.base import BaseCommand

from telephony.outbox import requeue_due_messages, requeue_due_requests


class Command(BaseCommand):
    help = "Put due retries and messages stuck in sending back in the task queue, once."

    def handle(self, **options):
        self.stdout.write(f"Re-queued {requeue_due_messages()} message(s).")
        self.stdout.write(f"Re-queued {requeue_due_requests()} voice request(s).")
