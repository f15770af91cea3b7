"""A customer's replies leave in the order of their texts, however many telephony workers run.

What is guaranteed: the telephony worker handles a customer's next text only once the
reply to their previous one has been handed to Twilio (it has a SID) or has failed for
good. A reply waiting for a retry, or stranded by a worker that died between commit
and sending, holds that customer's next text back until it has left: it is late, never
overtaken. (Twilio itself does not promise that two texts reach a handset in the order
they were sent; this is the order in which they leave the shop.)
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from telephony.inbound import answer_in_turn, receive_sms
from telephony.models import Message
from telephony.simulator import sms_params

from .fixtures.consumer import deliver

CUSTOMER = "+14155550123"


def echo(message):
    """A stand-in conversation that answers every text: these tests are about the order."""
    return f"You said: {message.body}"


@pytest.fixture
def echo_conversation(settings):
    settings.TELEPHONY_SMS_HANDLERS = ["tests.test_telephony_worker_order.echo"]


def text(number, body):
    receive_sms(sms_params(number, body))
    return Message.objects.filter(direction="in").latest("id")


def answered_in_order_sent():
    """The texts whose replies were handed to the provider, in the order they left."""
    replies = Message.objects.filter(direction="out", sid__isnull=False).order_by("sent_at", "id")
    return [reply.in_reply_to.body for reply in replies]


@pytest.mark.django_db
def test_a_customers_second_text_waits_until_the_reply_to_the_first_has_left(
    echo_conversation, outbox
):
    first, second = text(CUSTOMER, "first"), text(CUSTOMER, "second")

    replies = answer_in_turn(first.pk)
    assert [r.in_reply_to_id for r in replies] == [first.pk]
    assert outbox == []  # queued: the worker claims it and sends it after commit

    assert answer_in_turn(second.pk) is None  # its turn comes once the first reply left
    deliver(replies[0].pk)
    assert [r.in_reply_to_id for r in answer_in_turn(second.pk)] == [second.pk]


@pytest.mark.django_db
def test_answering_a_later_text_first_answers_the_customers_oldest(echo_conversation, outbox):
    first, second = text(CUSTOMER, "first"), text(CUSTOMER, "second")

    replies = answer_in_turn(second.pk)

    assert [r.in_reply_to_id for r in replies] == [first.pk]


@pytest.mark.django_db
def test_a_reply_stranded_by_a_dead_worker_leaves_before_the_next_one(
    echo_conversation, settings, outbox
):
    text(CUSTOMER, "first")
    answer_in_turn(Message.objects.get(body="first").pk)  # ... and the worker died here
    text(CUSTOMER, "second")

    call_command("telephony_worker", "--once")  # passes over "second", sends the stranded reply
    call_command("telephony_worker", "--once")

    assert len(outbox) == 2
    assert answered_in_order_sent() == ["first", "second"]
    assert [m.attempts for m in Message.objects.filter(direction="out")] == [1, 1]


@pytest.mark.django_db
def test_other_customers_are_answered_while_one_waits_for_a_retry(echo_conversation, outbox):
    first = text(CUSTOMER, "first")
    text(CUSTOMER, "second")
    other = text("+14155550177", "hello")
    answer_in_turn(first.pk)
    later = timezone.now() + timedelta(minutes=1)
    Message.objects.filter(direction="out").update(  # Twilio failed: a retry in a minute
        status="queued", attempts=1, next_attempt_at=later
    )

    call_command("telephony_worker", "--once")

    assert answered_in_order_sent() == ["hello"]
    assert Message.objects.get(pk=other.pk).handled_at is not None
    assert Message.objects.get(body="second").handled_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_three_telephony_workers_answer_each_customers_texts_once_and_in_order(
    postgres_database, workers, send_record
):
    customers = [f"+1415555{n:04d}" for n in range(20)]
    workers.env.update(
        DATABASE_URL=postgres_database, TELEPHONY_RECORD_DELAY="0.02", SHOP_HOURS="24/7"
    )
    # All three listening before the first text, or the first to start may answer them all.
    workers.start("telephony_worker", "--poll", "0.05", count=3, ready="Listening for work")
    for round_ in range(3):  # each customer texts three times, the crowd interleaved
        for number in customers:
            text(number, ["MENU", "STATUS", "HELP"][round_])

    inbound = Message.objects.filter(direction="in")
    workers.wait_until(
        lambda: (
            len(send_record.sent) >= 3 * len(customers)
            and not inbound.filter(handled_at__isnull=True).exists()
        ),
        timeout=120,
        what="every text answered",
    )
    assert workers.stop() == [0, 0, 0]

    sids = [line["sid"] for line in send_record.sent]  # in the order they left
    replies = {m.sid: m for m in Message.objects.filter(sid__in=sids)}
    assert len(sids) == len(set(sids)) == len(replies)
    answered = [replies[sid].in_reply_to_id for sid in sids]
    assert sorted(answered) == sorted(set(answered)), "each text answered once"
    for number in customers:
        theirs = [replies[sid].in_reply_to_id for sid in sids if replies[sid].to_number == number]
        assert theirs == sorted(theirs), f"{number}'s replies left out of order"
        assert len(theirs) >= 3
    assert len({line["pid"] for line in send_record.sent}) >= 2, "the workers shared the work"
