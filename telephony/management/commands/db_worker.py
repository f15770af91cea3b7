"""`manage.py db_worker`: django-tasks-db's worker, stopped without breaking a database call.

The library's worker (django-tasks-db 0.13, the newest) stops on SIGTERM or Ctrl-C by
raising SystemExit from inside its signal handler whenever no task is running, which
includes the transaction in which it claims the next task. A signal that lands while
that transaction commits (PostgreSQL: a round trip to the server) aborts the COMMIT
half way: Django's cleanup then fails ("can't change 'autocommit' now: connection in
transaction status INTRANS"), the process exits 1 with a traceback, and when the
server had finished the COMMIT the claimed task stays RUNNING for good (upstream
issue RealOrangeOne/django-tasks-db#61, open). A deploy or `scripts/run`'s Ctrl-C
sends that signal, and our scale-out test met it about once in thirty stops.

Nothing documented lets a project change that, so this command (same name and options;
`telephony` comes before `django_tasks_db` in INSTALLED_APPS, which is how Django lets an
app override another app's command) runs the library's worker with one method changed:
the first signal only ends the loop, so the worker finishes the step it is in (a claim,
a task, or the `--interval` wait, 0.5 s in scripts/run) and exits 0; a second signal
still stops it at once, as the library's does. A text is safe either way (the outbox
row, not the task, is the record: README, "Scaling out"); other tasks are not left
RUNNING by a stop.
"""

import logging
import os
import signal
import time

from django.core.management.base import CommandError
from django.db import DatabaseError, close_old_connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from telephony import processes

logger = logging.getLogger("django_tasks_db")


class Worker(db_worker.Worker):
    """The library's worker; a first stop signal ends its loop instead of raising out of
    whatever database call it interrupts."""

    def shutdown(self, signum, frame):
        if not self.running:
            super().shutdown(signum, frame)  # the second signal: stop now
            return
        logger.warning(
            "Received %s - finishing the current step, then stopping (send it again to force)",
            signal.strsignal(signum),
        )
        self.running = False


class Command(db_worker.Command):
    help = db_worker.Command.help + " (stops between steps: telephony/management/commands)"

    def handle(
        self,
        *,
        verbosity,
        queue_name,
        interval,
        batch,
        backend_name,
        startup_delay,
        reload,
        max_tasks,
        worker_id,
        exclude_queues,
        **options,
    ):
        # The library's handle() with our Worker; its checks of the options first.
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning("--reload and --batch cannot be specified together: not reloading")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")

        worker = Worker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        processes.beat_in_background(processes.TASK_WORKER)
        if not reload:
            worker.configure_signals()
            run_through_outages(worker)
            return
        if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            worker.configure_signals()  # only in the reloaded child, as the library does
        run_with_reloader(lambda: run_through_outages(worker))


def run_through_outages(worker):
    """The library's loop, started again after a database error instead of exiting: it
    ignores only SQLite's "database is locked" met while claiming a task, so a lock held
    past the busy timeout (a backup, a long write), or PostgreSQL restarting, ended the
    task worker and, with it, scripts/run. Each error is logged (its traceback once per
    outage: telephony.logging.QuietRepeats), and the loop starts again a second later."""
    while True:
        try:
            worker.run()
            return
        except DatabaseError:
            if not worker.running:
                return
            logger.exception("Database error in the task worker; trying again in a second")
            close_old_connections()
            worker.startup_delay = False  # a restart, not a herd of new workers
            time.sleep(1)
            if not worker.running:
                return
