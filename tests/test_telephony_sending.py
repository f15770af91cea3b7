"""Sending SMS: queued after commit, retried when it can succeed, failed when it cannot."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from telephony.backends import (
    PermanentProviderError,
    TransientProviderError,
    UnclearProviderError,
)
from telephony.backends.locmem import answer_lost_with
from telephony.models import Message, OptOut
from telephony.outbox import retry_delay
from telephony.sms import send_sms

from .fixtures.consumer import deliver, worker_pass

CUSTOMER = "+14155550199"


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """send_sms as a service would call it, with after-commit work run (the worker's sends run
    inline in tests: settings.TELEPHONY_SEND_AT_COMMIT)."""

    def send(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            message = send_sms(*args, **kwargs)
        message.refresh_from_db()
        return message

    return send


def test_a_text_is_sent_once_and_its_sid_stored(send, outbox, db):
    message = send("(415) 555-0199", "Your pizza is in the oven")

    assert [(r.kind, r.to, r.body) for r in outbox] == [
        ("sms", CUSTOMER, "Your pizza is in the oven")
    ]
    assert outbox[0].status_callback == "https://pizza.example.com/twilio/sms/status/"
    assert message.sid == outbox[0].sid
    assert message.status == "queued"
    assert message.attempts == 1


def test_the_row_is_written_queued_before_commit_and_sent_only_after(outbox, db):
    with transaction.atomic():
        message = send_sms(CUSTOMER, "Ready!")
        assert Message.objects.get(pk=message.pk).status == "queued"
        assert outbox == []


def test_nothing_is_sent_when_the_surrounding_transaction_rolls_back(
    outbox, db, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send_sms(CUSTOMER, "You will never see this")
        raise RuntimeError("the status change failed")

    assert callbacks == []
    assert outbox == []
    assert not Message.objects.exists()


def test_media_urls_go_out_as_mms(send, outbox, db):
    send(CUSTOMER, "Tonight only", media_urls=["https://pizza.example.com/media/logo.png"])
    assert outbox[0].media_urls == ("https://pizza.example.com/media/logo.png",)


def test_the_messaging_service_is_used_when_configured(send, outbox, db, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "0" * 32
    send(CUSTOMER, "Hi")
    assert outbox[0].messaging_service_sid == "MG" + "0" * 32
    assert outbox[0].from_ is None


def test_an_opted_out_number_gets_no_provider_call_and_a_clear_reason(send, outbox, db):
    OptOut.objects.create(phone_number=CUSTOMER, keyword="STOP")

    message = send(CUSTOMER, "Promo!")

    assert outbox == []
    assert message.status == "failed"
    assert "opted out" in message.error_message


def test_a_number_that_opts_out_while_queued_is_not_texted(outbox, db):
    message = send_sms(CUSTOMER, "Later")
    OptOut.objects.create(phone_number=CUSTOMER, keyword="STOP")

    deliver(message.pk)

    message.refresh_from_db()
    assert outbox == []
    assert message.status == "failed"


def test_a_country_outside_the_allowed_list_is_never_texted(send, outbox, db, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US"]
    message = send("+447700900123", "Hello UK")
    assert outbox == []
    assert message.status == "failed"
    assert "country" in message.error_message


def test_a_garbage_number_is_recorded_as_failed(send, outbox, db):
    message = send("not a number", "Hi")
    assert outbox == []
    assert message.status == "failed"


@pytest.mark.parametrize(
    "error",
    [
        TransientProviderError("Twilio unreachable: ConnectionError"),
        TransientProviderError("Twilio unreachable: ReadTimeout"),
        TransientProviderError("Service unavailable", status=503),
        TransientProviderError("Too many requests", code=20429, status=429),
    ],
    ids=["connection", "timeout", "5xx", "20429"],
)
def test_a_transient_failure_is_kept_queued_with_backoff(send, provider_fails, outbox, db, error):
    provider_fails.append(error)

    message = send(CUSTOMER, "Your pizza is ready")

    assert outbox == []
    assert message.status == "queued"
    assert message.sid is None
    assert message.attempts == 1
    assert message.error_code == error.code
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=10)


def test_a_retry_after_a_transient_failure_sends_the_message(send, provider_fails, outbox, db):
    provider_fails.append(TransientProviderError("down", status=503))
    message = send(CUSTOMER, "Your pizza is ready")
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    deliver(message.pk)

    message.refresh_from_db()
    assert [r.body for r in outbox] == ["Your pizza is ready"]
    assert message.status == "queued" and message.sid == outbox[0].sid
    assert message.attempts == 2


def test_a_retry_is_not_sent_before_it_is_due(send, provider_fails, outbox, db):
    provider_fails.append(TransientProviderError("down", status=503))
    message = send(CUSTOMER, "Soon")
    deliver(message.pk)
    assert outbox == []


def test_backoff_doubles_with_each_attempt(settings):
    settings.SMS_RETRY_BASE_SECONDS = 10
    delays = [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)]
    assert 10 <= delays[0] <= 12.5
    assert 20 <= delays[1] <= 25
    assert 40 <= delays[2] <= 50
    assert 80 <= delays[3] <= 100


def test_after_the_retry_limit_the_message_fails_for_good(
    send, provider_fails, outbox, db, settings
):
    settings.SMS_MAX_ATTEMPTS = 3
    provider_fails.extend(TransientProviderError("down", status=503) for _ in range(3))
    message = send(CUSTOMER, "Ready")
    for _ in range(2):
        Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        deliver(message.pk)

    message.refresh_from_db()
    assert outbox == []
    assert (message.status, message.attempts) == ("failed", 3)
    assert message.error_message == "down"
    deliver(message.pk)  # a stray second try changes nothing
    assert outbox == []


@pytest.mark.parametrize("code", [21211, 21614, 21408])
def test_a_permanent_failure_is_failed_at_once_with_its_code(
    send, provider_fails, outbox, db, code
):
    provider_fails.append(PermanentProviderError("refused", code=code, status=400))

    message = send(CUSTOMER, "Hi")

    assert (message.status, message.error_code, message.attempts) == ("failed", code, 1)
    deliver(message.pk)
    assert outbox == []  # never retried


def test_an_unsubscribed_recipient_is_failed_and_opted_out(send, provider_fails, db):
    provider_fails.append(PermanentProviderError("unsubscribed", code=21610, status=400))

    message = send(CUSTOMER, "Hi")

    assert (message.status, message.error_code) == ("failed", 21610)
    assert OptOut.objects.filter(phone_number=CUSTOMER).exists()


def test_delivering_twice_sends_once(send, outbox, db):
    message = send(CUSTOMER, "Once")
    deliver(message.pk)
    deliver(message.pk)
    assert len(outbox) == 1


def test_the_worker_takes_back_a_message_a_dead_worker_left_claimed(outbox, db, settings):
    message = send_sms(CUSTOMER, "Stuck")  # no commit callbacks: not sent yet
    past = timezone.now() - timedelta(seconds=settings.SMS_STUCK_AFTER_SECONDS + 1)
    Message.objects.filter(pk=message.pk).update(status="claimed", attempts=1, updated_at=past)

    assert worker_pass() == 1

    message.refresh_from_db()
    assert [r.body for r in outbox] == ["Stuck"]  # looked up first: not found, so sent
    assert message.sid == outbox[0].sid
    assert message.attempts == 2


def test_a_text_a_dead_worker_had_sent_is_found_by_the_worker_not_sent_again(
    send, outbox, db, settings
):
    message = send(CUSTOMER, "Sent, then the worker died")
    past = timezone.now() - timedelta(seconds=settings.SMS_STUCK_AFTER_SECONDS + 1)
    # As if the worker died after Twilio accepted it and before the SID was stored.
    Message.objects.filter(pk=message.pk).update(
        status="claimed", sid=None, updated_at=past - timedelta(seconds=1)
    )

    assert worker_pass() == 1

    message.refresh_from_db()
    assert len(outbox) == 1
    assert message.sid == outbox[0].sid


def test_an_unclear_send_twilio_never_got_is_sent_again_after_looking(
    send, provider_fails, outbox, db
):
    provider_fails.append(UnclearProviderError("connection reset after sending"))
    message = send(CUSTOMER, "Your pizza is ready")
    assert message.unclear_since is not None and outbox == []
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    deliver(message.pk)

    message.refresh_from_db()
    assert [r.body for r in outbox] == ["Your pizza is ready"]
    assert (message.sid, message.unclear_since, message.attempts) == (outbox[0].sid, None, 2)


def test_an_unclear_send_is_adopted_not_repeated_and_an_identical_text_is_not_taken_for_it(
    send, outbox, db
):
    earlier = send(CUSTOMER, "Your pizza is ready")  # the same words, already in our log
    answer_lost_with.append(UnclearProviderError("read timeout"))
    message = send(CUSTOMER, "Your pizza is ready")
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    deliver(message.pk)

    message.refresh_from_db()
    assert len(outbox) == 2  # one each: the lost answer's text was not sent again
    assert message.sid == outbox[1].sid != earlier.sid
    assert message.unclear_since is None


def test_the_worker_sends_what_is_due_and_nothing_else(send, outbox, db):
    send(CUSTOMER, "Sent already")
    send_sms(CUSTOMER, "Due now")  # no commit callbacks: waiting for the worker
    held = send_sms(CUSTOMER, "Later", send_after=timezone.now() + timedelta(minutes=5))
    failed = send_sms("not a number", "Hi")  # refused when queued: failed at once

    assert worker_pass() == 1
    assert [r.body for r in outbox] == ["Sent already", "Due now"]
    assert worker_pass() == 0

    Message.objects.filter(pk=held.pk).update(next_attempt_at=timezone.now())
    assert worker_pass() == 1
    assert [r.body for r in outbox][-1] == "Later"
    assert Message.objects.get(pk=failed.pk).status == "failed"


def test_fresh_texts_go_before_held_ones_that_are_due(outbox, db):
    now = timezone.now()
    send_sms(CUSTOMER, "Promotion", send_after=now - timedelta(seconds=5))
    send_sms(CUSTOMER, "Retry", send_after=now - timedelta(seconds=10))
    send_sms(CUSTOMER, "Your order is ready")

    worker_pass()

    assert [r.body for r in outbox] == ["Your order is ready", "Retry", "Promotion"]


def test_a_text_held_for_later_is_refused_if_they_opted_out_meanwhile(outbox, db):
    message = send_sms(CUSTOMER, "Deal", send_after=timezone.now() - timedelta(seconds=1))
    OptOut.objects.create(phone_number=CUSTOMER, keyword="STOP")

    assert worker_pass() == 0

    message.refresh_from_db()
    assert (message.status, outbox) == ("failed", [])
    assert "opted out" in message.error_message


def test_a_long_text_counts_its_segments(send, db):
    message = send(CUSTOMER, "x" * 161)
    assert message.num_segments == 2


def test_nothing_over_1600_characters_is_sent(send, outbox, db):
    send(CUSTOMER, "y" * 2000)
    assert len(outbox[0].body) == 1600
