"""When Twilio is unreachable, slow or failing, texts wait and go out once it recovers.

Every test drives the real `twilio` backend (the official SDK) against a local fake of
Twilio's REST API (tests/fixtures/fake_twilio.py) that fails or stalls on cue.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from telephony.backends import (
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    get_backend,
)
from telephony.models import Message, OptOut
from tests.conftest import run_in_an_event_loop
from tests.factories import MessageFactory
from tests.fixtures.consumer import deliver, worker_pass

CUSTOMER = "+14155550123"
Status = Message.Status
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.SMS_MAX_ATTEMPTS = 3
    settings.SMS_STUCK_AFTER_SECONDS = 0


def queued_text(body="Your pizza is in the oven"):
    return MessageFactory(to_number=CUSTOMER, body=body)


def time_passes(message):
    """Move the message's retry time into the past, as if the backoff had elapsed."""
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def sweep():
    """The telephony worker's pass over the outbox: it sends what is due."""
    return worker_pass()


def assert_sent_once_as_twilio_wants(fake_twilio, message, settings):
    """The one request for `message`: the account's credentials, our number, a status
    callback. Returns it."""
    (request,) = fake_twilio.messages
    assert request.account_and_token == (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
    assert (request.To, request.Body, request.From) == (
        CUSTOMER, message.body, settings.TWILIO_PHONE_NUMBER,
    )  # fmt: skip
    assert request.StatusCallback == "https://pizza.example.com/twilio/sms/status/"
    return request


def test_a_text_is_sent_with_the_account_credentials_and_a_status_callback(fake_twilio, settings):
    message = queued_text()

    sid = deliver(message.pk)

    assert_sent_once_as_twilio_wants(fake_twilio, message, settings)
    message.refresh_from_db()
    assert (message.sid, message.status, message.attempts) == (sid, Status.QUEUED, 1)
    assert sid.startswith("SM") and len(sid) == 34


def break_provider(fake, fault):
    if fault == "unreachable":
        fake.stop()
    elif fault == "timeout":
        fake.stall_next(1, seconds=5)
    else:
        status = int(fault)
        fake.fail_next(1, status=status, code=20429 if status == 429 else None)


def mend_provider(fake, fault):
    if fault == "unreachable":
        fake.start()


@pytest.mark.parametrize("fault", ["unreachable", "500", "503", "429"])
def test_a_text_waits_with_backoff_while_the_provider_fails_and_goes_out_once_it_recovers(
    fake_twilio, fault
):
    message = queued_text()
    break_provider(fake_twilio, fault)

    before = timezone.now()
    assert deliver(message.pk) is None

    message.refresh_from_db()
    assert message.status == Status.QUEUED and message.sid is None
    assert message.attempts == 1
    assert message.next_attempt_at > before  # backoff: not before the retry time...
    assert sweep() == 0  # ...not even by the sweep
    if fault == "429":
        assert message.error_code == 20429
    elif fault in ("500", "503"):
        assert message.error_code == 20000 + int(fault)
    else:
        assert "unreachable" in message.error_message

    mend_provider(fake_twilio, fault)
    time_passes(message)
    assert sweep() == 1

    message.refresh_from_db()
    assert message.status == Status.QUEUED and message.sid.startswith("SM")  # Twilio's status
    assert message.attempts == 2
    assert (message.error_code, message.error_message) == (None, "")
    assert [r.Body for r in fake_twilio.messages] == [message.body]  # sent once


@pytest.mark.parametrize("fault", ["timeout", "garbled"])
def test_a_text_twilio_took_but_whose_answer_was_lost_is_found_there_and_not_sent_twice(
    fake_twilio, fault
):
    message = queued_text()
    if fault == "timeout":
        fake_twilio.stall_next(1, seconds=5)  # accepted; the answer comes after our timeout
    else:
        fake_twilio.garble_next(1)  # accepted; answered 201 with a body that is not JSON

    assert deliver(message.pk) is None  # no exception: an unclear outcome, not a crash

    message.refresh_from_db()
    assert (message.status, message.sid) == (Status.QUEUED, None)
    assert message.unclear_since is not None
    time_passes(message)
    assert sweep() == 1

    message.refresh_from_db()
    (accepted,) = fake_twilio.accepted("message")  # the customer got it once
    assert message.sid == accepted.resource["sid"]
    assert (message.status, message.unclear_since, message.error_message) == (
        Status.QUEUED, None, "",
    )  # fmt: skip
    (lookup,) = fake_twilio.of_kind("list_message")
    assert (lookup.To, lookup.From) == (CUSTOMER, message.from_number)
    # Not by DateSent: a text Twilio still holds queued has none (tests/test_trust_second_round.py)
    assert "DateSent>" not in lookup.form and lookup.form["PageSize"] == "50"


def test_after_the_retry_limit_a_text_is_failed_and_staff_see_it_with_the_error_code(
    fake_twilio, admin_client, settings
):
    message = queued_text("Your order #12 is out for delivery")
    other = MessageFactory(to_number="+14155550124", status=Status.DELIVERED, sid="SM" + "1" * 32)
    fake_twilio.fail_next(settings.SMS_MAX_ATTEMPTS, status=503)

    deliver(message.pk)
    for _ in range(settings.SMS_MAX_ATTEMPTS - 1):
        time_passes(message)
        sweep()

    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, 20503)
    assert message.attempts == settings.SMS_MAX_ATTEMPTS
    assert len(fake_twilio.of_kind("message")) == settings.SMS_MAX_ATTEMPTS
    time_passes(message)
    assert sweep() == 0  # failed for good: never retried again

    page = admin_client.get("/admin/telephony/message/", {"status__exact": "failed"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Your order #12 is out for delivery" in html
    assert "20503" in html
    assert other.to_number not in html  # the filter shows only failed texts


@pytest.mark.parametrize(
    ("code", "opted_out"), [(21211, False), (21610, True)], ids=["invalid-number", "unsubscribed"]
)
def test_a_refusal_from_twilio_fails_the_text_at_once_without_retrying(
    fake_twilio, code, opted_out
):
    message = queued_text()
    fake_twilio.fail_next(1, status=400, code=code)

    deliver(message.pk)
    time_passes(message)
    sweep()

    message.refresh_from_db()
    assert (message.status, message.error_code, message.attempts) == (Status.FAILED, code, 1)
    assert len(fake_twilio.of_kind("message")) == 1
    assert OptOut.objects.filter(phone_number=CUSTOMER).exists() == opted_out


def test_calls_and_call_updates_map_provider_failures_to_transient_and_permanent(fake_twilio):
    backend = get_backend()
    fake_twilio.fail_next(1, status=503)
    with pytest.raises(TransientProviderError):
        backend.place_call(to=CUSTOMER, from_="+15005550006", url="https://pizza.example.com/x")
    fake_twilio.fail_next(1, status=400, code=21211)
    with pytest.raises(PermanentProviderError) as refused:
        backend.place_call(to=CUSTOMER, from_="+15005550006", url="https://pizza.example.com/x")
    assert refused.value.code == 21211

    placed = backend.place_call(
        to=CUSTOMER, from_="+15005550006", url="https://pizza.example.com/x"
    )
    updated = backend.update_call(placed.sid, status="completed")

    assert placed.sid.startswith("CA") and placed.status == "queued"
    assert (updated.sid, updated.status) == (placed.sid, "completed")
    assert [r.kind for r in fake_twilio.requests] == ["call", "call", "call", "update_call"]


def send_from_a_coroutine(message):
    """What the telephony worker's senders do with a claimed reply (TEXTS.send_async, on
    the SDK's asynchronous client), in an event loop of its own."""
    from telephony.sms import TEXTS

    async def send():
        try:
            return await TEXTS.send_async(message)
        finally:
            await get_backend().close_async()

    return run_in_an_event_loop(send)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("unreachable", "transient"),
        ("503", "transient"),
        ("429", "transient"),
        ("400", "permanent"),
        ("timeout", "unclear"),
        ("garbled", "unclear"),
    ],
)
def test_a_send_from_a_coroutine_sorts_failures_as_a_send_from_a_thread_does(
    fake_twilio, fault, kind
):
    message = queued_text()
    if fault == "timeout":
        fake_twilio.stall_next(1, seconds=5)
    elif fault == "garbled":
        fake_twilio.garble_next(1)
    elif fault == "400":
        fake_twilio.fail_next(1, status=400, code=21211)
    else:
        break_provider(fake_twilio, fault)

    outcome = send_from_a_coroutine(message)

    assert isinstance(outcome, ProviderError), outcome
    assert (outcome.transient, outcome.unclear) == (kind != "permanent", kind == "unclear")
    if fault in ("503", "429", "400"):
        assert outcome.status == int(fault)


def test_a_send_from_a_coroutine_carries_what_a_send_from_a_thread_does(fake_twilio, settings):
    message = queued_text()

    sent = send_from_a_coroutine(message)

    request = assert_sent_once_as_twilio_wants(fake_twilio, message, settings)
    assert sent.sid == request.resource["sid"] and sent.status == "queued"
