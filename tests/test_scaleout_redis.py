"""Tasks queued in Redis (TASK_BACKEND=django-tasks-redis) are run once by its workers.

Texts and voice requests have no task (the telephony worker sends them); what runs on the
task queue are the other apps' jobs: a promotion's turns, a voice notice from a command."""

import pytest
from django.db import transaction

from support.models import VoiceNotice
from support.tasks import place_voice_notice
from telephony.models import ProviderRequest
from tests.fixtures.workers import database_url_for_workers

REDIS_BACKEND = "django_tasks_redis.RedisTaskBackend"
NOTICES = 40


@pytest.fixture
def redis_tasks(settings, redis_url):
    """The task backend of this process and of the workers: Redis at a fresh server."""
    settings.TASKS = {
        "default": {"BACKEND": REDIS_BACKEND, "QUEUES": [], "OPTIONS": {"REDIS_URL": redis_url}}
    }
    return {"TASK_BACKEND": REDIS_BACKEND, "TASK_BROKER_URL": redis_url}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_redis_workers_run_each_task_once(redis_tasks, workers):
    workers.env.update(redis_tasks, DATABASE_URL=database_url_for_workers())
    workers.start("run_redis_tasks", "--continuous", count=2, ready="Starting Redis task worker")

    numbers = [f"+1415555{n:04d}" for n in range(NOTICES)]
    with transaction.atomic():
        for number in numbers:
            transaction.on_commit(lambda n=number: place_voice_notice.enqueue(n, "Ready"))

    calls = ProviderRequest.objects.filter(kind=ProviderRequest.Kind.PLACE_CALL)
    workers.wait_until(lambda: calls.count() == NOTICES, timeout=120, what="every notice queued")
    assert workers.stop() == [0, 0]

    assert sorted(VoiceNotice.objects.values_list("to_number", flat=True)) == numbers
    assert sorted(call.params["to"] for call in calls) == numbers  # one call each


def test_the_redis_backend_can_defer_so_a_promotions_turns_need_no_sweep(redis_tasks):
    from campaigns.tasks import send_campaign_task

    assert send_campaign_task.get_backend().supports_defer
