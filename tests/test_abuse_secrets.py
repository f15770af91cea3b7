"""Customers' numbers are masked in logs; the Twilio auth token is never in a log or error page."""

import io
import logging
import sys

import pytest
from django.test import RequestFactory
from django.views import debug

from orders import demo
from telephony.backends import get_backend
from telephony.logging import MaskPhoneNumbers
from tests.factories import MessageFactory

from .fixtures.consumer import deliver, worker_pass

pytestmark = pytest.mark.django_db
CUSTOMER = "+14155550123"


@pytest.fixture
def configured_log():
    """Everything logged at DEBUG, as the handler settings.LOGGING puts on the root logger
    writes it (its filters and formatter); returns the stream it writes to."""
    root = logging.getLogger()
    (console,) = [h for h in root.handlers if h.get_name() == "console"]
    assert any(isinstance(f, MaskPhoneNumbers) for f in console.filters)
    stream = io.StringIO()
    previous_stream, previous_level = console.setStream(stream), root.level
    loggers = [logging.getLogger(name) for name in ("django", "twilio", "urllib3")]
    levels = [lg.level for lg in loggers]
    root.setLevel(logging.DEBUG)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    yield stream
    console.setStream(previous_stream)
    root.setLevel(previous_level)
    for lg, level in zip(loggers, levels, strict=True):
        lg.setLevel(level)


def test_a_whole_conversation_logs_no_full_customer_number(
    sms, configured_log, fake_twilio, settings
):
    demo.seed(io.StringIO())
    for body in ["MENU", "ORDER 1 large pepperoni", "YES", "STATUS", "what?", "STOP", "START"]:
        sms(CUSTOMER, body)
    fake_twilio.fail_next(1, status=503)  # a failure and its retry are logged too
    MessageFactory(to_number=CUSTOMER, next_attempt_at=None)
    worker_pass()

    logged = configured_log.getvalue()
    assert "4155550123" not in logged  # neither +14155550123 nor 14155550123
    assert settings.TWILIO_AUTH_TOKEN not in logged
    assert "Opt-out recorded for +1415***0123" in logged  # it was logged, masked
    assert "SMS" in logged and "+1415***0123 failed" in logged


def test_the_auth_token_is_replaced_in_any_log_message(configured_log, settings):
    logging.getLogger("telephony").warning("talking to Twilio with %s", settings.TWILIO_AUTH_TOKEN)
    assert settings.TWILIO_AUTH_TOKEN not in configured_log.getvalue()
    assert "[auth token]" in configured_log.getvalue()


def technical_500(view):
    request = RequestFactory().get("/boom/")
    try:
        view(request)
    except Exception:
        return debug.technical_500_response(request, *sys.exc_info()).content.decode()
    raise AssertionError("the view did not raise")


def test_a_debug_error_page_hides_the_auth_token_in_settings(settings):
    settings.DEBUG = True

    def view(request):
        raise RuntimeError("boom")

    page = technical_500(view)
    assert "TWILIO_AUTH_TOKEN" in page  # the settings are listed...
    assert settings.TWILIO_AUTH_TOKEN not in page  # ...with the token hidden


def test_a_debug_error_page_from_a_failed_provider_call_hides_the_auth_token(settings, fake_twilio):
    """The SDK's frames hold the token in local variables (the HTTP client's `auth`)."""
    settings.DEBUG = True
    fake_twilio.stop()

    def view(request):
        get_backend().send_sms(to=CUSTOMER, body="hi", from_="+15005550006")

    page = technical_500(view)
    assert "Twilio unreachable" in page
    assert settings.TWILIO_AUTH_TOKEN not in page


def test_a_failed_delivery_logs_no_auth_token(settings, fake_twilio, configured_log):
    fake_twilio.fail_next(1, status=401, code=20003)
    deliver(MessageFactory(to_number=CUSTOMER).pk)
    assert settings.TWILIO_AUTH_TOKEN not in configured_log.getvalue()
    assert "20003" in configured_log.getvalue()
