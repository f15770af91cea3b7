"""Webhooks delivered twice, late or out of order: no duplicate orders, no status going back."""

import io
import itertools

import pytest
from django.urls import reverse

from orders.models import Order
from support.models import SupportCall
from telephony.models import Message
from tests.factories import MessageFactory, SupportCallFactory

CUSTOMER = "+14155550123"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def menu(db):
    from orders.demo import seed

    seed(io.StringIO())


def status_callback(twilio, sid, status, error_code=None):
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "a" * 32}
    if error_code:
        params["ErrorCode"] = str(error_code)
    return twilio.post(reverse("telephony:sms-status"), params)


SMS_ORDERS = list(itertools.permutations(["queued", "sent", "delivered"]))


@pytest.mark.parametrize("order", SMS_ORDERS, ids=["-".join(o) for o in SMS_ORDERS])
def test_sms_status_callbacks_in_any_order_and_repeated_end_delivered(twilio, order):
    message = MessageFactory(sid="SM" + "a" * 32, status=Message.Status.QUEUED)

    for status in order + order:
        assert status_callback(twilio, message.sid, status).status_code == 204

    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED


def test_a_late_sent_after_undelivered_keeps_undelivered_and_its_error_code(twilio):
    message = MessageFactory(sid="SM" + "b" * 32, status=Message.Status.SENT)

    status_callback(twilio, message.sid, "undelivered", error_code=30003)
    status_callback(twilio, message.sid, "sent")
    status_callback(twilio, message.sid, "queued")

    message.refresh_from_db()
    assert (message.status, message.error_code) == (Message.Status.UNDELIVERED, 30003)


def test_an_order_conversation_delivered_twice_places_one_order(sms):
    texts = ["ORDER 1 large pepperoni", "YES"]
    for n, body in enumerate(texts):
        sid = f"SM{n:x}" + "e" * 31
        first = sms(CUSTOMER, body, sid=sid)
        again = sms(CUSTOMER, body, sid=sid)  # Twilio retried: same MessageSid
        assert first.status_code == again.status_code == 200
        assert len(first.replies) == 1 and again.replies == first.replies

    assert Order.objects.filter(customer__phone=CUSTOMER).count() == 1
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == len(texts)


def test_a_second_yes_from_an_impatient_customer_places_no_second_order(sms):
    sms(CUSTOMER, "ORDER 1 large pepperoni")
    sms(CUSTOMER, "YES")
    second = sms(CUSTOMER, "YES")

    assert Order.objects.filter(customer__phone=CUSTOMER).count() == 1
    assert second.replies  # told, not silently ignored


def call_status(twilio, sid, status):
    return twilio.post(reverse("support:call-status"), {"CallSid": sid, "CallStatus": status})


CALL_SID = "CA" + "c" * 32


@pytest.mark.parametrize("late", ["ringing", "in-progress", "completed", "busy", "no-answer"])
def test_a_late_or_repeated_call_status_never_moves_an_ended_call(twilio, late):
    call = SupportCallFactory(call_sid=CALL_SID, status=SupportCall.Status.CONNECTED)
    assert call_status(twilio, CALL_SID, "completed").status_code in (200, 204)
    call.refresh_from_db()
    assert call.status == SupportCall.Status.COMPLETED
    events = call.events.count()

    assert call_status(twilio, CALL_SID, late).status_code in (200, 204)

    call.refresh_from_db()
    assert call.status == SupportCall.Status.COMPLETED
    assert call.events.count() == events


def test_a_caller_hanging_up_twice_while_waiting_is_abandoned_once(twilio):
    call = SupportCallFactory(call_sid=CALL_SID, status=SupportCall.Status.WAITING)

    call_status(twilio, CALL_SID, "completed")
    call_status(twilio, CALL_SID, "completed")
    call_status(twilio, CALL_SID, "in-progress")

    call.refresh_from_db()
    assert call.status == SupportCall.Status.ABANDONED
    assert list(call.events.values_list("kind", flat=True)).count("abandoned") == 1


def test_a_status_callback_before_the_call_is_known_is_acknowledged_and_creates_nothing(twilio):
    assert call_status(twilio, "CA" + "d" * 32, "completed").status_code in (200, 204)
    assert not SupportCall.objects.exists()
