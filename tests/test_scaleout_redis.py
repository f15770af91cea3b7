"""Texts queued in Redis (TASK_BACKEND=django-tasks-redis) are sent once by its workers."""

import pytest
from django.db import transaction

from telephony.models import Message
from telephony.outbox import send_sms
from tests.fixtures.workers import FLAKY, database_url_for_workers

REDIS_BACKEND = "django_tasks_redis.RedisTaskBackend"
TEXTS = 60
FLAKY_EVERY = 20


@pytest.fixture
def redis_tasks(settings, redis_url):
    """The task backend of this process and of the workers: Redis at a fresh server."""
    settings.TASKS = {
        "default": {"BACKEND": REDIS_BACKEND, "QUEUES": [], "OPTIONS": {"REDIS_URL": redis_url}}
    }
    return {"TASK_BACKEND": REDIS_BACKEND, "TASK_BROKER_URL": redis_url}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_redis_workers_send_each_text_once_and_retry_a_timeout_later(
    redis_tasks, workers, send_record
):
    workers.env.update(redis_tasks, DATABASE_URL=database_url_for_workers())
    workers.start("run_redis_tasks", "--continuous", count=2, ready="Starting Redis task worker")

    bodies = []
    with transaction.atomic():
        for n in range(TEXTS):
            body = f"Your pizza {n} is on its way" + (f" {FLAKY}" if n % FLAKY_EVERY == 0 else "")
            send_sms(f"+1415555{n:04d}", body)
            bodies.append(body)

    outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    workers.wait_until(
        lambda: outbound.filter(status=Message.Status.SENT).count() == TEXTS,
        timeout=120,
        what=f"{TEXTS} texts sent",
    )
    assert workers.stop() == [0, 0]

    assert send_record.times_sent() == dict.fromkeys(bodies, 1)
    flaky = sorted(body for body in bodies if FLAKY in body)
    assert sorted(line["body"] for line in send_record.failed) == flaky
    assert sorted(outbound.filter(attempts=2).values_list("body", flat=True)) == flaky
    assert {line["sid"] for line in send_record.sent} == set(outbound.values_list("sid", flat=True))


def test_the_redis_backend_can_defer_so_retries_are_not_left_to_the_sweep(redis_tasks):
    from telephony.tasks import deliver_message

    assert deliver_message.get_backend().supports_defer
