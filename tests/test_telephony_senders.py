"""The telephony worker's senders (telephony/outbox.py: Senders).

Replies wait for Twilio's answer beside the worker's main thread, so one slow answer holds
up its own customer only; a reply whose worker died while sending is looked up at Twilio
before it is sent again.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from telephony.inbound import answer_pending, receive_sms
from telephony.models import Message
from telephony.outbox import Senders
from telephony.simulator import sms_params
from telephony.sms import TEXTS
from tests.fixtures.consumer import worker_pass

ANN, BOB = "+14155550123", "+14155550177"
Status = Message.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def echo_conversation(settings):
    settings.TELEPHONY_SMS_HANDLERS = ["tests.test_telephony_worker_order.echo"]


def reply_to(number):
    return Message.objects.get(direction="out", to_number=number)


def collect_until(senders, condition, timeout=5):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        senders.collect(timeout=0.05)


def test_a_slow_answer_from_twilio_holds_up_only_its_own_customer(echo_conversation, fake_twilio):
    fake_twilio.stall_next(1, 0.45)  # Ann's reply: until released (the timeout is 0.5 s)
    senders = Senders(threads=4)
    try:
        receive_sms(sms_params(ANN, "first"))
        assert answer_pending(senders=senders) == 1
        fake_twilio.wait_for(lambda: len(fake_twilio.requests) == 1)  # Ann's, stalled
        receive_sms(sms_params(BOB, "hello"))
        assert answer_pending(senders=senders) == 1

        collect_until(senders, lambda: reply_to(BOB).sid is not None)
        assert reply_to(ANN).status == Status.CLAIMED and reply_to(ANN).sid is None
        fake_twilio.release()
        collect_until(senders, lambda: reply_to(ANN).sid is not None)
    finally:
        senders.close()

    assert [m.To for m in fake_twilio.messages] == [ANN, BOB]
    assert {reply_to(ANN).attempts, reply_to(BOB).attempts} == {1}


def test_a_customers_next_text_waits_while_their_reply_is_in_flight(echo_conversation, fake_twilio):
    fake_twilio.stall_next(1, 0.45)
    receive_sms(sms_params(ANN, "first"))
    receive_sms(sms_params(ANN, "second"))
    senders = Senders(threads=4)
    try:
        assert answer_pending(senders=senders) == 1
        assert answer_pending(senders=senders) == 0  # "second" waits for the first reply
        fake_twilio.release()
        collect_until(
            senders, lambda: Message.objects.filter(direction="out", sid__isnull=False).count() == 1
        )
        assert answer_pending(senders=senders) == 1
        collect_until(
            senders, lambda: Message.objects.filter(direction="out", sid__isnull=False).count() == 2
        )
    finally:
        senders.close()

    assert [m.Body for m in fake_twilio.messages] == ["You said: first", "You said: second"]


def test_an_unexpected_error_while_sending_is_retried_not_the_end_of_the_worker(
    echo_conversation, fake_twilio, monkeypatch
):
    def broken(message):
        raise RuntimeError("a bug")

    async def broken_async(message):
        raise RuntimeError("a bug")

    monkeypatch.setattr(TEXTS, "send", broken)
    monkeypatch.setattr(TEXTS, "send_async", broken_async)
    receive_sms(sms_params(ANN, "first"))
    senders = Senders(threads=1)
    try:
        answer_pending(senders=senders)
        collect_until(senders, lambda: reply_to(ANN).status == Status.QUEUED)
    finally:
        senders.close()

    reply = reply_to(ANN)
    assert reply.unclear_since is not None  # looked up at Twilio before the retry
    assert reply.next_attempt_at is not None and reply.sid is None


def sent_but_never_recorded(number):
    """A reply claimed and handed to Twilio by a worker that died before storing the SID."""
    receive_sms(sms_params(number, "first"))
    senders = Senders(threads=1)
    replies = []
    senders.send = lambda outbox, claimed: replies.extend(claimed)  # it dies before sending
    answer_pending(senders=senders)
    senders.close()
    (reply,) = replies
    assert reply.status == Status.CLAIMED
    return reply


def long_ago(reply, settings):
    """Claimed longer ago than any send can take (by no registered worker: the tests'
    own thread; a registered one's claims go back as soon as it is seen dead,
    tests/test_faults_worker_killed.py)."""
    seconds = settings.SMS_STUCK_AFTER_SECONDS + 1
    Message.objects.filter(pk=reply.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_a_reply_whose_worker_died_after_twilio_took_it_is_adopted_not_sent_again(
    echo_conversation, fake_twilio, settings
):
    reply = sent_but_never_recorded(ANN)
    accepted_sid = TEXTS.send(reply).sid  # Twilio took it; the worker died here
    long_ago(reply, settings)

    assert worker_pass() == 1

    assert reply_to(ANN).sid == accepted_sid
    assert len(fake_twilio.messages) == 1


def test_a_reply_whose_worker_died_before_sending_it_is_sent_once(
    echo_conversation, fake_twilio, settings
):
    reply = sent_but_never_recorded(ANN)
    assert worker_pass() == 0  # too soon: its worker may still be talking to Twilio
    long_ago(reply, settings)

    assert worker_pass() == 1

    assert reply_to(ANN).sid is not None
    assert len(fake_twilio.messages) == 1
