"""`manage.py db_worker` stops on SIGTERM between steps, never in the middle of a database
call (telephony/management/commands/db_worker.py: django-tasks-db's worker raised
SystemExit out of its claim's COMMIT, exited 1 and could leave the task RUNNING)."""

import signal

import pytest
from django.core.management import get_commands
from django.db import connection
from django.tasks import task
from django_tasks_db.models import DBTaskResult

from telephony.management.commands.db_worker import Worker
from tests.fixtures.workers import database_url_for_workers

DATABASE_BACKEND = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": [], "OPTIONS": {}}
}
TASK_TABLE = DBTaskResult._meta.db_table


@task
def a_small_job():
    return "done"


def a_worker():
    return Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=None, worker_id="test-worker", excluded_queue_names=[],
    )  # fmt: skip


def test_the_projects_db_worker_replaces_the_librarys():
    assert get_commands()["db_worker"] == "telephony"


@pytest.mark.django_db(transaction=True)
def test_a_stop_signal_during_the_claim_lets_it_finish_runs_the_task_and_ends_the_loop(settings):
    settings.TASKS = DATABASE_BACKEND
    queued = a_small_job.enqueue()
    worker = a_worker()
    claims = []

    def signal_in_the_claim(execute, sql, params, many, context):
        if TASK_TABLE in sql and sql.lstrip().upper().startswith("SELECT"):
            claims.append(connection.in_atomic_block)
            if len(claims) == 1:
                worker.shutdown(signal.SIGTERM, None)  # as the handler would, mid-transaction
        return execute(sql, params, many, context)

    with connection.execute_wrapper(signal_in_the_claim):
        worker.run()  # the library's worker raised SystemExit(0) out of the transaction here

    assert claims == [True]  # one claim, in its transaction; no second look after the signal
    result = DBTaskResult.objects.get(pk=queued.id)
    assert (result.status, result.return_value) == ("SUCCESSFUL", "done")


def test_a_second_stop_signal_stops_the_worker_at_once():
    worker = a_worker()
    worker.shutdown(signal.SIGTERM, None)
    assert worker.running is False
    with pytest.raises(SystemExit) as stopped:
        worker.shutdown(signal.SIGTERM, None)
    assert stopped.value.code == 1


@pytest.mark.django_db(transaction=True)
def test_a_db_worker_process_told_to_stop_exits_cleanly(workers):
    workers.env.update(
        DATABASE_URL=database_url_for_workers(), TASK_BACKEND="django_tasks_db.DatabaseBackend"
    )
    workers.start(
        "db_worker", "--interval", "0.01", "--no-reload", "--no-startup-delay",
        ready="Starting worker",
    )  # fmt: skip
    assert workers.stop() == [0]
    assert "finishing the current step, then stopping" in workers.logs()


@pytest.mark.django_db(transaction=True)
def test_the_task_worker_outlives_a_write_lock_held_past_its_timeout(workers, settings):
    """Seen in an attack run: SQLite's write lock held over 5 s (a backup, the sqlite3 shell)
    crashed db_worker with an unhandled "database is locked", and with it scripts/run. Now it
    starts its loop again and runs the task queued meanwhile."""
    import sqlite3
    import time

    from support.tasks import place_voice_notice
    from telephony.models import ProviderRequest

    if connection.vendor != "sqlite":
        pytest.skip("a lock held from outside is SQLite's case (PostgreSQL: lock_timeout)")
    settings.TASKS = DATABASE_BACKEND
    workers.env.update(
        DATABASE_URL=database_url_for_workers(),
        TASK_BACKEND="django_tasks_db.DatabaseBackend",
        DATABASE_LOCK_TIMEOUT="1",
    )
    (worker,) = workers.start(
        "db_worker", "--interval", "0.1", "--no-reload", "--no-startup-delay",
        ready="Starting worker",
    )  # fmt: skip
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    time.sleep(3)  # three of its lock timeouts
    other.execute("ROLLBACK")
    other.close()

    assert worker.poll() is None, workers.logs()  # still running
    place_voice_notice.enqueue("+14155550123", "Your pizza is ready")
    workers.wait_until(
        lambda: ProviderRequest.objects.filter(params__to="+14155550123").exists(),
        timeout=30,
        what="the task run after the lock",
    )
    assert "database is locked" in worker.log.read_text()  # it met the lock, and went on
