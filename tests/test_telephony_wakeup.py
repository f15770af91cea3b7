"""A staff move's text, a retry, a held text, a voice request: the telephony worker sends
each as soon as it is due, once (the outbox's one consumer, telephony/outbox.py). On
PostgreSQL the transaction that writes work (an inbound text, a queued text that is not a
reply, a voice request) wakes the worker with NOTIFY, so it need not poll
(telephony/wakeup.py, migration 0011); it sleeps no longer than until a held row is due.
"""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from orders.models import Status
from orders.services import advance_order
from telephony import wakeup
from telephony.inbound import receive_sms
from telephony.models import Message
from telephony.outbox import next_due_in
from telephony.simulator import sms_params
from telephony.sms import send_sms
from telephony.voice import queue_call
from tests.factories import OrderFactory


@pytest.fixture
def worker_sends(settings):
    """As in production: nothing leaves until the telephony worker sends it."""
    settings.TELEPHONY_SEND_AT_COMMIT = False


def staff_move():
    order = OrderFactory(status=Status.PREPARING)
    advance_order(order, Status.BAKING)
    return Message.objects.get(direction=Message.Direction.OUTBOUND, object_id=str(order.pk))


@pytest.mark.django_db
def test_the_worker_sends_a_staff_moves_text_once(worker_sends, outbox):
    text = staff_move()
    assert outbox == []

    call_command("telephony_worker", "--once")
    call_command("telephony_worker", "--once")

    assert [(m.to, m.body) for m in outbox] == [(text.to_number, text.body)]
    text.refresh_from_db()
    assert text.sid == outbox[0].sid and text.attempts == 1


@pytest.mark.django_db
def test_the_worker_sends_due_retries_and_stranded_replies_and_holds_the_rest(worker_sends, outbox):
    later = send_sms("+14155550123", "Your offer", send_after=timezone.now() + timedelta(hours=1))
    retry = send_sms("+14155550124", "Try again")
    Message.objects.filter(pk=retry.pk).update(
        attempts=1, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    receive_sms(sms_params("+14155550125", "hello"))
    inbound = Message.objects.get(direction=Message.Direction.INBOUND)
    inbound.handled_at = timezone.now()
    inbound.save()
    # Its worker died between writing the reply and claiming it.
    send_sms("+14155550125", "Hi", in_reply_to=inbound, sent_by_caller=True)
    ring = queue_call("+14155550126", "https://pizza.example.com/twiml/")

    call_command("telephony_worker", "--once")

    assert sorted(m.body for m in outbox if m.kind == "sms") == ["Hi", "Try again"]
    assert [m.to for m in outbox if m.kind == "call"] == [ring.params["to"]]
    assert list(Message.objects.filter(status="queued", sid=None)) == [later]
    assert 3590 < next_due_in() <= 3600  # the worker sleeps no longer than that


# --- PostgreSQL: NOTIFY wakes the worker -----------------------------------------------


def wait_returns(expected, within):
    started = time.monotonic()
    assert wakeup.wait_for_work() is expected
    return time.monotonic() - started < within


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_committing_work_wakes_the_waiting_worker_and_nothing_else_does(
    postgres_database, settings, worker_sends, outbox
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
        assert wait_returns(False, within=1.5)  # a rollback wakes nobody

        send_sms("+14155550129", "later", send_after=timezone.now() + timedelta(hours=1))
        assert wait_returns(True, within=0.5)  # a held text: the worker learns when it is due
        queue_call("+14155550130", "https://pizza.example.com/twiml/")
        assert wait_returns(True, within=0.5)  # a voice request
    finally:
        wakeup.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_telephony_worker_process_sends_a_staff_move_at_once_without_polling(
    postgres_database, settings, workers, send_record
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
    assert workers.stop() == [0]


@pytest.mark.django_db(transaction=True)
def test_a_telephony_worker_process_sends_a_staff_move_within_its_poll_on_any_database(
    settings, workers, send_record
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
