"""Text customers whose order passed its promised time a new estimate."""

import time

from django.core.management.base import BaseCommand

from orders.services import check_late_orders


class Command(BaseCommand):
    help = "Text each order that passed its promised time one new estimate."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", type=float, default=0, help="repeat every N seconds until interrupted"
        )

    def handle(self, loop, **options):
        while True:
            count = check_late_orders()
            if count or not loop:
                self.stdout.write(f"Texted a new estimate for {count} late order(s).")
            if not loop:
                return
            time.sleep(loop)
