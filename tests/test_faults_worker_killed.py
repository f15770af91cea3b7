"""A worker killed in the middle of a send: the sweep re-queues the text, and the next
worker finds it at Twilio instead of sending it again.

The worker marks the row `sending`, then calls Twilio outside any transaction. Killed
there (kill -9, power cut), nobody knows whether Twilio accepted the request, so after
SMS_STUCK_AFTER_SECONDS the sweep puts the row back in the queue marked unclear, and the
next attempt first lists Twilio's messages to that number since then: found, it is
adopted; not found, it is sent. A text is never lost.
"""

import os
import signal
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from telephony.models import Message
from telephony.outbox import requeue_due_messages, send_sms
from tests.fixtures.workers import database_url_for_workers

DATABASE_BACKEND = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": [], "OPTIONS": {}}
}
WORKER = ("db_worker", "--interval", "0.05", "--no-reload", "--no-startup-delay")
Status = Message.Status


@pytest.mark.django_db(transaction=True)
def test_a_text_left_sending_by_a_killed_worker_is_requeued_by_the_sweep_and_sent(
    fake_twilio, workers, settings
):
    settings.TASKS = DATABASE_BACKEND
    workers.env.update(
        DATABASE_URL=database_url_for_workers(),
        TASK_BACKEND="django_tasks_db.DatabaseBackend",
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

    (first,) = workers.start(*WORKER, ready="Starting worker")
    fake_twilio.wait_for(lambda: fake_twilio.of_kind("message"), timeout=30)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    workers.processes.remove(first)  # dead on purpose

    message.refresh_from_db()
    assert (message.status, message.sid, message.attempts) == (Status.SENDING, None, 1)
    assert requeue_due_messages() == 0  # not yet: the worker might still be talking to Twilio

    settings.SMS_STUCK_AFTER_SECONDS = 60
    Message.objects.filter(pk=message.pk).update(updated_at=timezone.now() - timedelta(minutes=2))
    assert requeue_due_messages() == 1
    message.refresh_from_db()
    assert message.status == Status.QUEUED and message.unclear_since is not None

    workers.start(*WORKER, ready="Starting worker")
    workers.wait_until(
        lambda: Message.objects.filter(pk=message.pk, sid__isnull=False).exists(),
        timeout=30,
        what="the re-queued text found at Twilio",
    )
    message.refresh_from_db()
    assert message.attempts == 2
    (sent,) = fake_twilio.of_kind("message")  # sent once: the second attempt looked first
    assert message.sid == sent.resource["sid"]
    assert [r.To for r in fake_twilio.of_kind("list_message")] == [message.to_number]
