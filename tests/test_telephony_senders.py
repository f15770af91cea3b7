"""The telephony worker's sender threads (telephony/senders.py) and the SQLite turnstile.

Replies wait for Twilio's answer in a pool of threads, so one slow answer holds up its
own customer only; a reply whose worker died while sending is looked up at Twilio before
it is sent again; and the turnstile lets one writer at a time through.
"""

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from telephony import turnstile
from telephony.inbound import answer_pending, receive_sms
from telephony.models import Message
from telephony.outbox import deliver_stranded_replies, send_claimed
from telephony.senders import Senders
from telephony.simulator import sms_params

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

    monkeypatch.setattr("telephony.senders.send_claimed", broken)
    monkeypatch.setattr("telephony.senders.send_claimed_async", broken_async)
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
    senders.send = replies.extend  # the worker dies before its threads send
    answer_pending(senders=senders)
    senders.close()
    (reply,) = replies
    assert reply.status == Status.CLAIMED
    return reply


def long_ago(reply, settings):
    seconds = settings.TELEPHONY_STRANDED_REPLY_SECONDS + 2 * settings.TWILIO_HTTP_TIMEOUT + 1
    Message.objects.filter(pk=reply.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_a_reply_whose_worker_died_after_twilio_took_it_is_adopted_not_sent_again(
    echo_conversation, fake_twilio, settings
):
    reply = sent_but_never_recorded(ANN)
    accepted_sid = send_claimed(reply).sid  # Twilio took it; the worker died here
    long_ago(reply, settings)

    assert deliver_stranded_replies(settings.TELEPHONY_STRANDED_REPLY_SECONDS) == 1

    assert reply_to(ANN).sid == accepted_sid
    assert len(fake_twilio.messages) == 1


def test_a_reply_whose_worker_died_before_sending_it_is_sent_once(
    echo_conversation, fake_twilio, settings
):
    reply = sent_but_never_recorded(ANN)
    assert deliver_stranded_replies(settings.TELEPHONY_STRANDED_REPLY_SECONDS) == 0  # too soon
    long_ago(reply, settings)

    assert deliver_stranded_replies(settings.TELEPHONY_STRANDED_REPLY_SECONDS) == 1

    assert reply_to(ANN).sid is not None
    assert len(fake_twilio.messages) == 1


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_SH if sys.argv[3] == "shared" else fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[4]))
open(sys.argv[2], "w").close()
fcntl.flock(fd, fcntl.LOCK_UN)
"""


def another_process_holds(path, released, mode="exclusive", seconds=0.3):
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(released), mode, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdout.readline().strip() == "held"
    return other


@pytest.fixture
def database(tmp_path, monkeypatch):
    database = tmp_path / "shop.sqlite3"
    monkeypatch.setattr(turnstile, "_database_file", lambda using: str(database))
    return database


def test_the_turnstile_lets_one_process_through_at_a_time(database, tmp_path):
    released = tmp_path / "released"
    other = another_process_holds(f"{database}-turnstile", released)

    with turnstile.sqlite_writer():
        assert released.exists(), "went through while another process held the turnstile"
    other.wait(timeout=5)


def test_the_worker_lets_a_waiting_webhook_write_first(database, tmp_path, monkeypatch):
    monkeypatch.setattr(turnstile, "WORKER_DEFERS_AT_MOST", 5)
    released = tmp_path / "released"
    webhook = another_process_holds(f"{database}-waiting", released, "shared")

    with turnstile.sqlite_writer(first=False):
        assert released.exists(), "the worker wrote while a webhook was waiting to"
    webhook.wait(timeout=5)


def test_the_worker_waits_for_webhooks_a_bounded_time_only(database, tmp_path, monkeypatch):
    monkeypatch.setattr(turnstile, "WORKER_DEFERS_AT_MOST", 0.05)
    released = tmp_path / "released"
    webhooks = another_process_holds(f"{database}-waiting", released, "shared", seconds=30)

    with turnstile.sqlite_writer(first=False):
        assert not released.exists(), "a flood of webhooks kept the worker out"
    webhooks.kill()


def test_a_worker_stopped_while_looking_for_webhooks_does_not_stop_the_webhook(database, tmp_path):
    released = tmp_path / "released"
    stopped = another_process_holds(f"{database}-waiting", released, seconds=30)  # exclusive

    with turnstile.sqlite_writer():
        assert not released.exists()  # went through without announcing itself
    stopped.kill()
