"""A telephony worker killed in the middle of a send: the next worker takes its claims back
at once and finds the text at Twilio instead of sending it again.

The worker marks the row `claimed` (by its own WorkerProcess row), then calls Twilio
outside any transaction. Killed there (kill -9, power cut), nobody knows whether Twilio
accepted the request, so the next worker, seeing the claimer dead, puts the row back in
the queue marked unclear, and the next attempt first lists Twilio's messages to that
number since then: found, it is adopted; not found, it is sent. A text is never lost.
(A claim of no registered process goes back after SMS_STUCK_AFTER_SECONDS:
tests/test_telephony_sending.py.)
"""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from telephony.models import Message
from telephony.sms import TEXTS, send_sms
from tests.fixtures.workers import database_url_for_workers

WORKER = ("telephony_worker", "--poll", "0.05")
Status = Message.Status


@pytest.mark.django_db(transaction=True)
def test_a_staff_text_left_claimed_by_a_killed_worker_is_found_at_twilio_not_sent_twice(
    fake_twilio, workers, settings
):
    workers.env.update(
        DATABASE_URL=database_url_for_workers(),
        TELEPHONY_BACKEND="twilio",
        TWILIO_API_BASE_URL=fake_twilio.url,
        TWILIO_HTTP_TIMEOUT="30",
        TWILIO_ACCOUNT_SID=settings.TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=settings.TWILIO_AUTH_TOKEN,
        PUBLIC_BASE_URL=settings.PUBLIC_BASE_URL,
    )
    fake_twilio.stall_next(1, seconds=60)  # Twilio takes the request and does not answer
    with transaction.atomic():
        message = send_sms("+14155550123", "Your pizza is ready for pickup")

    (first,) = workers.start(*WORKER)
    fake_twilio.wait_for(lambda: fake_twilio.of_kind("message"), timeout=30)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    workers.processes.remove(first)  # dead on purpose

    message.refresh_from_db()
    assert (message.status, message.sid, message.attempts) == (Status.CLAIMED, None, 1)
    assert message.claimed_by is not None  # the dead worker's own row

    workers.start(*WORKER)
    workers.wait_until(
        lambda: Message.objects.filter(pk=message.pk, sid__isnull=False).exists(),
        timeout=30,
        what="the claimed text found at Twilio",
    )
    message.refresh_from_db()
    assert message.attempts == 2
    (sent,) = fake_twilio.of_kind("message")  # sent once: the second attempt looked first
    assert message.sid == sent.resource["sid"]
    assert [r.To for r in fake_twilio.of_kind("list_message")] == [message.to_number]


# --- a telephony worker killed mid-send: the next one takes its claims back at once --------


@pytest.mark.django_db(transaction=True)
def test_a_telephony_worker_killed_mid_send_costs_its_customer_seconds_not_half_a_minute(
    fake_twilio, workers, settings
):
    """Seen in a production trial: 30 customers' replies waited about 35 s after a kill -9.
    Now the next worker to start sees the dead one's pid is gone, looks its text up at
    Twilio (found: adopted, not sent twice) and answers the customer's next text."""
    workers.env.update(
        DATABASE_URL=database_url_for_workers(),
        TELEPHONY_BACKEND="twilio",
        TWILIO_API_BASE_URL=fake_twilio.url,
        TWILIO_HTTP_TIMEOUT="30",
        TWILIO_ACCOUNT_SID=settings.TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=settings.TWILIO_AUTH_TOKEN,
        PUBLIC_BASE_URL=settings.PUBLIC_BASE_URL,
        SHOP_HOURS="24/7",
    )
    fake_twilio.stall_next(1, seconds=60)  # Twilio takes the reply and does not answer
    first_text = receive_and_get("+14155550123", "MENU")

    (first,) = workers.start("telephony_worker", "--poll", "0.1")
    fake_twilio.wait_for(lambda: fake_twilio.of_kind("message"), timeout=30)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    workers.processes.remove(first)  # dead on purpose
    (reply,) = Message.objects.filter(in_reply_to=first_text)
    assert (reply.status, reply.sid) == (Status.CLAIMED, None)
    second_text = receive_and_get("+14155550123", "HELP")  # waits for the first reply

    restarted = time.monotonic()
    workers.start("telephony_worker", "--poll", "0.1")
    workers.wait_until(
        lambda: Message.objects.filter(in_reply_to=second_text, sid__isnull=False).exists(),
        timeout=30,
        what="the customer's next text answered",
    )
    took = time.monotonic() - restarted

    reply.refresh_from_db()
    print(f"answered {took:.2f} s after the restart")
    assert took < 10, f"the customer waited {took:.1f} s after the restart"
    sent = [r.resource["sid"] for r in fake_twilio.of_kind("message")]
    assert reply.sid == sent[0]  # found at Twilio and adopted: the customer got it once
    assert len(sent) == 2  # the first reply once, then the reply to HELP
    assert [r.To for r in fake_twilio.of_kind("list_message")] == ["+14155550123"]


@pytest.mark.django_db
def test_a_live_workers_claims_are_left_alone_and_a_silent_ones_taken_back(settings):
    from telephony import processes
    from telephony.models import WorkerProcess

    settings.WORKER_DEAD_AFTER_SECONDS = 60
    now = timezone.now()
    alive_here = WorkerProcess.objects.create(
        role="telephony worker", host=processes.HOST, pid=os.getpid(), beat_at=now
    )
    beating_elsewhere = WorkerProcess.objects.create(
        role="telephony worker", host="other-host", pid=1, beat_at=now
    )
    silent_elsewhere = WorkerProcess.objects.create(
        role="telephony worker", host="other-host", pid=2, beat_at=now - timedelta(seconds=61)
    )
    silent_a_while_here = WorkerProcess.objects.create(  # the database away: alive, silent
        role="telephony worker",
        host=processes.HOST,
        pid=os.getppid(),
        beat_at=now - timedelta(seconds=20),
    )
    claims = {
        process.pk: send_claimed_by(process)
        for process in (alive_here, beating_elsewhere, silent_elsewhere, silent_a_while_here)
    }

    dead = processes.dead_processes(now)
    assert TEXTS.take_back_claims_of(dead, now) == {silent_elsewhere.pk: 1}
    processes.forget(dead)

    statuses = {pk: Message.objects.get(pk=m.pk).status for pk, m in claims.items()}
    assert statuses == {
        alive_here.pk: Status.CLAIMED,
        beating_elsewhere.pk: Status.CLAIMED,
        silent_elsewhere.pk: Status.QUEUED,
        silent_a_while_here.pk: Status.CLAIMED,
    }
    assert Message.objects.get(pk=claims[silent_elsewhere.pk].pk).unclear_since is not None
    assert set(WorkerProcess.objects.values_list("pk", flat=True)) == {
        alive_here.pk,
        beating_elsewhere.pk,
        silent_a_while_here.pk,
    }


def send_claimed_by(process):
    with transaction.atomic():
        message = send_sms("+14155550123", f"claimed by {process.pk}")
    Message.objects.filter(pk=message.pk).update(status=Status.CLAIMED, claimed_by=process)
    return message


def receive_and_get(number, body):
    from telephony.inbound import receive_sms
    from telephony.simulator import sms_params

    params = sms_params(number, body)
    receive_sms(params)
    return Message.objects.get(sid=params["MessageSid"])


@pytest.mark.django_db
def test_a_worker_taken_for_dead_while_silent_registers_again_at_its_next_beat():
    from telephony import processes
    from telephony.models import WorkerProcess

    first = processes.register("telephony worker")
    try:
        WorkerProcess.objects.filter(pk=first).delete()  # another worker's verdict
        processes.beat()
        assert processes.current() != first
        assert WorkerProcess.objects.filter(pk=processes.current()).exists()
    finally:
        processes.unregister()
