"""Knowing when the shop breaks (issue 27): every long-running process beats
(telephony/processes.py); /readyz turns 503 when one dies and back when it is started again;
the staff board's red banner and the admin's process list say what is wrong; the owner's
phone (ALERT_PHONE) gets one text when trouble starts and one when it ends."""

import json
import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from pizzeria import alerts, health
from telephony import processes
from telephony.models import Alert, Message, WorkerProcess

from .fixtures.workers import a_dead_pid, beating, database_url_for_workers

OWNER = "+14155550999"


@pytest.fixture(autouse=True)
def fresh():
    health.forget()
    yield
    health.forget()
    processes._current = None


def ready(client):
    response = client.get("/readyz")
    return response.status_code, json.loads(response.content)


@pytest.mark.django_db(transaction=True)
def test_readyz_turns_503_when_a_real_worker_dies_and_back_when_it_starts_again(workers, client):
    workers.env.update(
        DATABASE_URL=database_url_for_workers(), TASK_BACKEND="django_tasks_db.DatabaseBackend"
    )
    beating(processes.TELEPHONY_WORKER)  # this test process plays the telephony worker
    (task,) = workers.start("db_worker", "--interval", "0.2", "--no-reload", "--no-startup-delay")
    workers.start("check_late_orders", "--loop", "60")
    workers.wait_until(
        lambda: set(WorkerProcess.objects.values_list("role", flat=True))
        >= {processes.TASK_WORKER, processes.LATE_ORDER_SWEEP},
        timeout=30, what="the task worker and the late-order sweep beating",
    )  # fmt: skip
    assert ready(client)[0] == 200

    os.kill(task.pid, signal.SIGKILL)
    task.wait()
    started = time.monotonic()
    status, body = ready(client)
    assert status == 503 and time.monotonic() - started < 60
    assert body["checks"]["workers"]["detail"] == "silent: task worker"

    workers.processes.remove(task)
    workers.start("db_worker", "--interval", "0.2", "--no-reload", "--no-startup-delay")
    workers.wait_until(
        lambda: ready(client)[0] == 200, timeout=30, what="/readyz ready after the restart"
    )
    assert WorkerProcess.objects.filter(role=processes.TASK_WORKER).count() == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_redis_task_worker_beats_and_readyz_sees_it_die(workers, client, redis_url):
    workers.env.update(
        DATABASE_URL=database_url_for_workers(),
        TASK_BACKEND="django_tasks_redis.RedisTaskBackend", TASK_BROKER_URL=redis_url,
    )  # fmt: skip
    beating(processes.TELEPHONY_WORKER)
    (task,) = workers.start("run_redis_tasks", "--continuous", ready="Starting Redis task worker")
    rows = WorkerProcess.objects.filter(role=processes.TASK_WORKER, pid=task.pid)
    workers.wait_until(rows.exists, timeout=30, what="the Redis task worker beating")
    assert ready(client)[0] == 200

    os.kill(task.pid, signal.SIGKILL)
    task.wait()
    status, body = ready(client)
    assert status == 503 and body["checks"]["workers"]["detail"] == "silent: task worker"
    workers.processes.remove(task)


@pytest.mark.django_db
def test_a_silent_process_elsewhere_is_dead_after_a_minute(client):
    beating(processes.TELEPHONY_WORKER)
    beating(processes.WEB, seconds_ago=30, host="web-2", pid=1)
    assert ready(client)[0] == 200
    WorkerProcess.objects.filter(host="web-2").update(
        beat_at=timezone.now() - timedelta(seconds=61)
    )
    status, body = ready(client)
    assert status == 503 and body["checks"]["workers"]["detail"] == "silent: web"


@pytest.mark.django_db(transaction=True)
def test_a_process_beats_from_a_thread_of_its_own(settings):
    settings.PROCESS_HEARTBEATS = True
    processes._beating = None
    thread = processes.beat_in_background(processes.WEB, every=0.05)
    deadline = time.monotonic() + 10
    while not WorkerProcess.objects.filter(role="web", pid=os.getpid()).exists():
        assert time.monotonic() < deadline, "no heartbeat row"
        time.sleep(0.05)
    first = WorkerProcess.objects.get(role="web").beat_at
    while WorkerProcess.objects.get(role="web").beat_at == first:
        assert time.monotonic() < deadline, "no second beat"
        time.sleep(0.05)
    settings.PROCESS_HEARTBEATS = False
    thread.join(timeout=5)  # it stops beating: no row of it outlives this test
    assert not thread.is_alive()
    processes.unregister()


@pytest.mark.django_db
def test_a_restarted_process_replaces_its_dead_predecessor_on_this_host():
    beating(processes.TASK_WORKER, pid=a_dead_pid())
    processes.register(processes.TASK_WORKER)
    [row] = WorkerProcess.objects.filter(role=processes.TASK_WORKER)
    assert row.pid == os.getpid()


@pytest.mark.django_db
def test_a_dead_task_worker_is_not_forgotten_by_the_telephony_workers_sweep(caplog):
    from telephony.outbox import take_back

    beating(processes.TASK_WORKER, pid=a_dead_pid())
    take_back()
    take_back()  # the worker looks every 2 s: no warning each time for a row it keeps
    assert WorkerProcess.objects.filter(role=processes.TASK_WORKER).exists()
    assert "is gone" not in caplog.text


# --- the banner, the process list and the owner's text -------------------------------------


@pytest.mark.django_db
def test_the_board_shows_a_red_banner_with_what_is_wrong(admin_client):
    beating(processes.TELEPHONY_WORKER)
    assert admin_client.get("/staff/panels/alerts/").content.strip() == b""
    for _ in range(12):
        Message.objects.create(
            direction="out", from_number="+15005550006", to_number="+14155550123", body="x",
            status="undelivered", error_code=30034,
        )  # fmt: skip

    banner = admin_client.get("/staff/panels/alerts/").content.decode()

    assert 'class="alert-banner" role="alert"' in banner
    assert "Twilio is refusing texts: 12 of 12 refused or undelivered in 15 min." in banner
    assert "Commonest error 30034: the sending number is not registered for A2P 10DLC" in banner
    assert 'href="/admin/telephony/workerprocess/">Processes</a>' in banner  # may see the list
    board = admin_client.get("/staff/").content.decode()
    assert 'hx-get="/staff/panels/alerts/"' in board


@pytest.mark.django_db
def test_the_admin_lists_the_processes_with_their_last_beat(admin_client):
    beating(processes.TELEPHONY_WORKER)
    beating(processes.TASK_WORKER, pid=a_dead_pid())
    page = admin_client.get("/admin/telephony/workerprocess/").content.decode()
    assert "beating (0 s ago)" in page and "DEAD (last beat 0 s ago)" in page


@pytest.mark.django_db
def test_the_owner_is_texted_once_when_trouble_starts_and_once_when_it_ends(settings, outbox):
    settings.ALERT_PHONE = OWNER
    now = timezone.now()

    assert alerts.sweep(now) == 1  # no telephony worker: nobody answers texts
    assert alerts.sweep(now + timedelta(minutes=1)) == 0  # still: no second text
    [start] = [m for m in outbox if m.to == OWNER]
    assert start.body.startswith("Tony's Pizzeria ALERT: The telephony worker is not running")

    beating(processes.TELEPHONY_WORKER, seconds_ago=-300)  # started by the 5th minute
    assert alerts.sweep(now + timedelta(minutes=5)) == 1
    assert [m.body for m in outbox if m.to == OWNER][-1].startswith(
        "Tony's Pizzeria: all clear again after 5 min"
    )
    assert Alert.objects.get().ended_at is not None

    # Trouble again within the hour: the board shows it; the owner is not texted again.
    WorkerProcess.objects.all().delete()
    assert alerts.sweep(now + timedelta(minutes=20)) == 0
    assert Alert.objects.filter(ended_at__isnull=True).count() == 1
    assert len([m for m in outbox if m.to == OWNER]) == 2


@pytest.mark.django_db
def test_the_alert_text_leaves_even_when_the_telephony_worker_is_the_trouble(settings, outbox):
    settings.ALERT_PHONE = OWNER
    settings.TELEPHONY_SEND_AT_COMMIT = False  # nothing sends at commit: only the sweep can
    alerts.sweep()
    [sent] = [m for m in outbox if m.to == OWNER]
    assert Message.objects.get(to_number=OWNER).sid == sent.sid
