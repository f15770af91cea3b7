"""A staff move's text leaves through the telephony worker as soon as it is committed, once.

The worker sends fresh outbound texts itself (`outbox.deliver_due_outbound`); their tasks
still exist and are the retry path, and whichever of the two runs second sends nothing. On
PostgreSQL the transaction that writes such a text (or an inbound one) wakes the worker with
NOTIFY, so it need not poll (telephony/wakeup.py, migration 0008).
"""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from orders.models import Status
from orders.services import advance_order
from telephony import wakeup
from telephony.inbound import receive_sms
from telephony.models import Message
from telephony.outbox import deliver_due_outbound, send_sms
from telephony.simulator import sms_params
from telephony.tasks import deliver_message
from tests.factories import OrderFactory

DATABASE_BACKEND = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": [], "OPTIONS": {}}
}


@pytest.fixture
def task_table(settings):
    """Tasks go to the database, as in production, and nothing runs them until told."""
    settings.TASKS = DATABASE_BACKEND
    settings.TASKS_ENQUEUE_IN_TRANSACTION = True


def staff_move():
    order = OrderFactory(status=Status.PREPARING)
    advance_order(order, Status.BAKING)
    return Message.objects.get(direction=Message.Direction.OUTBOUND, object_id=str(order.pk))


@pytest.mark.django_db
def test_the_worker_sends_a_staff_moves_text_without_its_task_and_the_task_then_sends_nothing(
    task_table, outbox
):
    text = staff_move()
    task = DBTaskResult.objects.get(task_path__endswith="deliver_message")
    assert task.status == "READY" and outbox == []

    call_command("telephony_worker", "--once")
    assert [(m.to, m.body) for m in outbox] == [(text.to_number, text.body)]
    assert DBTaskResult.objects.get(pk=task.pk).status == "READY"  # no task was needed

    assert deliver_message.call(text.pk) is None  # its task, when it runs
    assert len(outbox) == 1  # it found the row sent: one request to Twilio
    text.refresh_from_db()
    assert text.sid == outbox[0].sid and text.attempts == 1


@pytest.mark.django_db
def test_when_the_task_runs_first_the_worker_sends_nothing(task_table, outbox):
    text = staff_move()
    assert deliver_message.call(text.pk)  # the task: sent, the SID returned
    assert len(outbox) == 1

    assert deliver_due_outbound() == 0
    call_command("telephony_worker", "--once")
    assert len(outbox) == 1


@pytest.mark.django_db
def test_the_worker_leaves_retries_held_texts_and_replies_to_their_own_senders(task_table, outbox):
    later = send_sms("+14155550123", "Your offer", send_after=timezone.now() + timedelta(hours=1))
    retry = send_sms("+14155550124", "Try again")
    Message.objects.filter(pk=retry.pk).update(
        attempts=1, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    receive_sms(sms_params("+14155550125", "hello"))
    inbound = Message.objects.get(direction=Message.Direction.INBOUND)
    reply = send_sms("+14155550125", "Hi", in_reply_to=inbound)
    Message.objects.filter(pk=reply.pk).update(status=Message.Status.QUEUED)

    assert deliver_due_outbound() == 0
    assert outbox == []
    assert set(Message.objects.filter(status="queued").values_list("pk", flat=True)) == {
        later.pk, retry.pk, reply.pk,
    }  # fmt: skip


# --- PostgreSQL: NOTIFY wakes the worker -----------------------------------------------


def wait_returns(expected, within):
    started = time.monotonic()
    assert wakeup.wait_for_work() is expected
    return time.monotonic() - started < within


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_committing_work_wakes_the_waiting_worker_and_nothing_else_does(
    postgres_database, settings, task_table, outbox
):
    settings.TELEPHONY_WORKER_LISTEN_POLL = 1.0
    try:
        assert wakeup.listen()
        staff_move()  # committed: the text's insert notified
        assert wait_returns(True, within=0.5)

        receive_sms(sms_params("+14155550125", "hello"))  # the webhook's insert
        assert wait_returns(True, within=0.5)

        with transaction.atomic():  # several texts in one transaction: one wake-up
            send_sms("+14155550126", "one")
            send_sms("+14155550127", "two")
        assert wait_returns(True, within=0.5)
        assert wait_returns(False, within=1.5)  # nothing left: the fallback poll's timeout

        with pytest.raises(RuntimeError), transaction.atomic():
            send_sms("+14155550128", "rolled back")
            raise RuntimeError
        send_sms("+14155550129", "later", send_after=timezone.now() + timedelta(hours=1))
        assert wait_returns(False, within=1.5)  # a rollback and a held text wake nobody
    finally:
        wakeup.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_telephony_worker_process_sends_a_staff_move_at_once_without_polling(
    postgres_database, settings, task_table, workers, send_record
):
    # It looks on its own every 5 s: only the notification can make it look sooner.
    workers.env.update(
        DATABASE_URL=postgres_database,
        TASK_BACKEND="django_tasks_db.DatabaseBackend",
        TELEPHONY_WORKER_LISTEN_POLL="5",
    )
    workers.start("telephony_worker", ready="Listening for work")
    time.sleep(1)  # past its first look: it is waiting on the connection

    text = staff_move()
    committed = time.monotonic()
    workers.wait_until(lambda: send_record.sent, timeout=10, what="the text sent")
    assert time.monotonic() - committed < 1
    assert [line["body"] for line in send_record.sent] == [text.body]
    assert DBTaskResult.objects.get(task_path__endswith="deliver_message").status == "READY"
    assert workers.stop() == [0]


@pytest.mark.django_db(transaction=True)
def test_a_telephony_worker_process_sends_a_staff_move_within_its_poll_on_any_database(
    settings, task_table, workers, send_record
):
    from tests.fixtures.workers import database_url_for_workers

    workers.env.update(
        DATABASE_URL=database_url_for_workers(), TASK_BACKEND="django_tasks_db.DatabaseBackend"
    )
    workers.start("telephony_worker")
    time.sleep(3)  # started and idle

    text = staff_move()
    committed = time.monotonic()
    workers.wait_until(lambda: send_record.sent, timeout=10, what="the text sent")
    assert time.monotonic() - committed < 1
    assert [line["body"] for line in send_record.sent] == [text.body]
    assert workers.stop() == [0]
