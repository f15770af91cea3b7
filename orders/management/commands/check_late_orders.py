"""Text customers whose order passed its promised time a new estimate."""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils.module_loading import import_string

from orders.services import check_late_orders
from telephony import processes

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Text each order that passed its promised time one new estimate."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", type=float, default=0, help="repeat every N seconds until interrupted"
        )

    def handle(self, loop, **options):
        if loop:
            processes.beat_in_background(processes.LATE_ORDER_SWEEP)
        while True:
            try:
                count = check_late_orders()
                if loop:  # the alerts too: this process still runs when the worker does not
                    for sweep in settings.ALERT_SWEEPS:
                        import_string(sweep)()
            except DatabaseError:
                if not loop:
                    raise
                # The database away (restarting, locked): the next round tries again.
                logger.exception("Late orders not checked: database error; trying again")
                close_old_connections()
                time.sleep(min(loop, 5))
                continue
            if count or not loop:
                self.stdout.write(f"Texted a new estimate for {count} late order(s).")
            if not loop:
                return
            time.sleep(loop)
