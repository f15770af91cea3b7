"""`manage.py run_redis_tasks`: django-tasks-redis's worker, with a heartbeat.

The same command, options and loop as the library's (`telephony` comes before
`django_tasks_redis` in INSTALLED_APPS, which is how Django lets an app override another
app's command); a `--continuous` worker also registers as the task worker and beats from
a thread of its own (telephony.processes), as `db_worker` does, so /readyz, the board's
banner and the admin see it die. A one-shot run (no `--continuous`) does not register: it
exits once the queue is empty, and that is not a death.
"""

from django_tasks_redis.management.commands import run_redis_tasks

from telephony import processes


class Command(run_redis_tasks.Command):
    def handle(self, *args, **options):
        if options["continuous"]:
            processes.beat_in_background(processes.TASK_WORKER)
        return super().handle(*args, **options)
