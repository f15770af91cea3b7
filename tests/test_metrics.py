"""/metrics (pizzeria/metrics.py): Prometheus's format, behind a token or an allowed network,
counting what a scripted evening did."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from orders import demo
from telephony import processes
from telephony.models import Message, WorkerProcess
from telephony.sms import TEXTS
from tests.factories import OrderFactory

TOKEN = "s3cret-metrics-token"


@pytest.fixture
def evening(db, settings, sms):
    demo.seed(io.StringIO())
    settings.METRICS_TOKEN = TOKEN
    sms("+14155550123", "MENU")
    sms("+14155550123", "ORDER 1 large pepperoni")
    sms("+14155550123", "YES")
    sms("+14155550124", "HELP")
    Message.objects.create(
        direction="out", from_number="+15005550006", to_number="+14155550125", body="x",
        status="undelivered", error_code=30007,
    )  # fmt: skip
    processes.register(processes.TELEPHONY_WORKER)
    yield
    processes.unregister()


def scrape(client, **headers):
    return client.get("/metrics", headers=headers)


def samples(response):
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_what_the_evening_did(evening, client):
    response = scrape(client, Authorization=f"Bearer {TOKEN}")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    found = samples(response)
    assert found[("pizzeria_texts_received", ())] == 4
    assert found[("pizzeria_texts_answered", ())] == 4
    assert found[("pizzeria_reply_seconds_gcount", ())] == 4  # each of the 4 replies
    assert found[("pizzeria_reply_seconds_bucket", (("le", "+Inf"),))] == 4
    assert found[("pizzeria_sends", (("error_code", "30007"), ("status", "undelivered")))] == 1
    assert found[("pizzeria_orders", (("stage", "received"),))] == 1
    held = TEXTS.pending().count()  # the promotions' one-time offer waits its hour
    assert found[("pizzeria_outbox_depth", (("kind", "text"),))] == held > 0
    up = [v for (name, labels), v in found.items() if name == "pizzeria_process_up"]
    assert up == [1.0]


def test_metrics_need_the_token_or_an_allowed_network(evening, client, settings):
    assert scrape(client).status_code == 403
    assert scrape(client, Authorization="Bearer wrong").status_code == 403
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the test client's address
    assert scrape(client).status_code == 200
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", []
    assert scrape(client).status_code == 404


def test_metrics_run_the_same_queries_however_many_orders(evening, client):
    def count():
        with CaptureQueriesContext(connection) as queries:
            scrape(client, Authorization=f"Bearer {TOKEN}")
        return len(queries)

    few = count()
    for n in range(30):
        OrderFactory(customer__phone=f"+1415555{2000 + n}")
        WorkerProcess.objects.create(role="web", host="h", pid=n + 10, beat_at="2026-01-01T00:00Z")
    assert count() == few <= 12
