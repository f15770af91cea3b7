"""Several `db_worker` processes on one PostgreSQL database send each queued text exactly once."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from telephony.models import Message
from telephony.outbox import send_sms
from telephony.tasks import deliver_message
from tests.fixtures.workers import FLAKY

DATABASE_BACKEND = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": [], "OPTIONS": {}}
}
TEXTS = 200
FLAKY_EVERY = 25  # one text in 25 times out once at the provider and is retried


def queue_texts(count):
    """Queue `count` texts in one transaction, as a busy evening would; return their bodies."""
    bodies = []
    with transaction.atomic():
        for n in range(count):
            body = f"Order {n} is ready" + (f" {FLAKY}" if n % FLAKY_EVERY == 0 else "")
            send_sms(f"+1415555{n:04d}", body)
            bodies.append(body)
    return bodies


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_three_db_workers_send_each_queued_text_exactly_once_even_when_its_task_is_doubled(
    postgres_database, settings, workers, send_record
):
    settings.TASKS = DATABASE_BACKEND
    workers.env.update(
        DATABASE_URL=postgres_database, TASK_BACKEND="django_tasks_db.DatabaseBackend"
    )
    workers.start(
        "db_worker", "--interval", "0.1", "--no-reload", "--no-startup-delay",
        count=3, ready="Starting worker",
    )  # fmt: skip

    bodies = queue_texts(TEXTS)
    assert DBTaskResult.objects.count() >= TEXTS  # the sends went through the task table
    # A second task for every text, as an at-least-once broker may deliver: the message
    # row, claimed under a row lock, must still make it one text.
    for message_id in Message.objects.values_list("pk", flat=True):
        deliver_message.enqueue(message_id)

    outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    workers.wait_until(
        lambda: outbound.filter(status=Message.Status.SENT).count() == TEXTS,
        timeout=180,
        what=f"{TEXTS} texts sent",
    )
    assert workers.stop() == [0, 0, 0]

    assert send_record.times_sent() == dict.fromkeys(bodies, 1)
    flaky = [body for body in bodies if FLAKY in body]
    assert sorted(line["body"] for line in send_record.failed) == sorted(flaky)
    assert {line["sid"] for line in send_record.sent} == set(outbound.values_list("sid", flat=True))
    assert sorted(outbound.values_list("attempts", flat=True)) == sorted(
        [2] * len(flaky) + [1] * (TEXTS - len(flaky))
    )
    assert len({line["pid"] for line in send_record.sent}) >= 2, "the workers shared the work"


@pytest.mark.django_db
def test_a_text_with_nul_characters_is_stored_without_them(sms):
    """PostgreSQL text cannot hold NUL; the webhook drops them so the text is still logged."""
    assert sms("+14155550199", "STOP\x00\x00").status_code == 200
    assert Message.objects.get(direction=Message.Direction.INBOUND).body == "STOP"
