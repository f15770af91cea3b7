"""Several telephony workers on one PostgreSQL database send each queued text exactly once.

All three wake at the commit (NOTIFY) and race for the same rows; whichever claims a row
(under a row lock the others skip) sends it. One worker may well claim them all: a claim
takes milliseconds. Sharing a backlog of customers' texts is tests/test_telephony_worker_order.py's.
"""

import pytest
from django.db import transaction

from telephony.models import Message
from telephony.sms import send_sms
from tests.fixtures.workers import FLAKY

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
def test_three_telephony_workers_send_each_queued_text_exactly_once_and_retry_a_timeout(
    postgres_database, workers, send_record
):
    workers.env.update(DATABASE_URL=postgres_database, SHOP_HOURS="24/7")
    workers.start("telephony_worker", count=3, ready="Listening for work")

    bodies = queue_texts(TEXTS)

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


@pytest.mark.django_db
def test_a_text_with_nul_characters_is_stored_without_them(sms):
    """PostgreSQL text cannot hold NUL; the webhook drops them so the text is still logged."""
    assert sms("+14155550199", "STOP\x00\x00").status_code == 200
    assert Message.objects.get(direction=Message.Direction.INBOUND).body == "STOP"
