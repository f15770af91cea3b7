"""/healthz and /readyz (pizzeria/health.py): what a load balancer or a monitor reads."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from pizzeria import health
from telephony import processes
from telephony.models import Message

from .fixtures.workers import beating

SHOP = "+15005550006"


@pytest.fixture(autouse=True)
def fresh():
    health.forget()
    yield
    health.forget()


def ready(client):
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"].startswith("max-age=0")
    return response.status_code, json.loads(response.content)


def a_worker(seconds_ago=0, role="telephony worker"):
    return beating(role, seconds_ago, pid=4242, host="box")  # elsewhere: only its beat counts


def text(age_seconds=0, **fields):
    message = Message.objects.create(
        direction=fields.pop("direction", "in"), from_number="+14155550123", to_number=SHOP,
        body="MENU", status=fields.pop("status", "received"), **fields,
    )  # fmt: skip
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(seconds=age_seconds)
    )
    return message


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")  # no django_db mark: any query would raise here
    assert (response.status_code, json.loads(response.content)) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_ready_with_a_beating_worker_and_every_text_answered(client):
    a_worker()
    status, body = ready(client)
    assert status == 200 and body["status"] == "ready"
    assert set(body["checks"]) == {"database", "workers", "replies", "provider"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_not_ready_without_a_telephony_worker_or_with_a_silent_one(client, settings):
    status, body = ready(client)
    assert status == 503 and body["checks"]["workers"]["detail"] == "no telephony worker is running"

    a_worker(seconds_ago=settings.WORKER_DEAD_AFTER_SECONDS + 5)
    status, body = ready(client)
    assert status == 503 and body["checks"]["workers"]["detail"] == "silent: telephony worker"


@pytest.mark.django_db
def test_a_registered_worker_that_beats_is_ready(client):
    processes.register("telephony worker")
    try:
        processes.beat()
        assert ready(client)[0] == 200
    finally:
        processes.unregister()


@pytest.mark.django_db
def test_not_ready_when_a_text_waits_too_long_for_its_answer(client, settings):
    a_worker()
    text(age_seconds=settings.ALERT_REPLY_SECONDS + 1)

    status, body = ready(client)

    assert status == 503
    assert body["checks"]["replies"]["detail"].startswith("a text has waited 12")
    text(age_seconds=0, handled_at=timezone.now())  # answered texts do not count
    Message.objects.filter(handled_at__isnull=True).update(handled_at=timezone.now())
    assert ready(client)[0] == 200


@pytest.mark.django_db
def test_not_ready_when_twilio_refuses_most_texts_and_the_code_is_named(client):
    a_worker()
    for _ in range(8):
        text(direction="out", status="failed", error_code=30034)
    for _ in range(4):
        text(direction="out", status="delivered")

    status, body = ready(client)

    provider = body["checks"]["provider"]
    assert status == 503
    assert (provider["failure_rate"], provider["commonest_error"]) == (0.667, 30034)
    assert provider["detail"] == "8 of 12 refused or undelivered in 15 min"


@pytest.mark.django_db
def test_a_few_failures_or_refusals_we_made_ourselves_do_not_fail_it(client):
    a_worker()
    for _ in range(5):
        text(direction="out", status="failed", error_code=30003)
    for _ in range(20):
        text(direction="out", status="failed")  # opted out: refused before any send
    text(direction="out", status="delivered")

    status, body = ready(client)

    assert status == 200, body


@pytest.mark.django_db
def test_not_ready_with_a_migration_not_applied(client, monkeypatch):
    a_worker()
    monkeypatch.setattr(health, "_pending_migrations", lambda: ["orders.0099_next"])

    status, body = ready(client)

    assert status == 503 and body["checks"]["database"]["detail"] == "1 migration(s) not applied"


@pytest.mark.django_db
def test_no_customer_data_or_secret_in_the_answer(client, settings):
    a_worker()
    text(age_seconds=settings.ALERT_REPLY_SECONDS + 1)
    page = client.get("/readyz").content.decode()
    assert "+1415" not in page and "MENU" not in page
    assert settings.TWILIO_AUTH_TOKEN not in page and settings.SECRET_KEY not in page


@pytest.mark.django_db
def test_the_readiness_check_runs_fixed_queries(client, django_assert_max_num_queries):
    a_worker()
    for _ in range(30):
        text(direction="out", status="delivered")
    health._pending_migrations()
    with django_assert_max_num_queries(4):  # select 1, workers, oldest text, latest texts
        assert client.get("/readyz").status_code == 200
