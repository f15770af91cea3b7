"""Every time a person reads or hears is in the shop's time zone (SHOP_TIME_ZONE): the phone
line, voice notices, texts, the board, the admin and reports. The database keeps UTC.

The clock is fixed at 04:06 UTC on 15 January 2026, which is 11:06 PM on Wednesday the
14th in New York; the order is promised at 04:26 UTC, 11:26 PM there."""

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from orders import demo, lookup
from orders.models import Status
from support import notices, twiml
from support.models import VoiceNotice
from tests.factories import OrderFactory

NOW = datetime(2026, 1, 15, 4, 6, tzinfo=UTC)
PROMISED = datetime(2026, 1, 15, 4, 26, tzinfo=UTC)
CUSTOMER = "+14155550123"


@pytest.fixture(autouse=True)
def new_york_at_night(settings, monkeypatch):
    settings.SHOP_TIME_ZONE = "America/New_York"
    settings.SHOP_HOURS = "24/7"
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def order(db):
    return OrderFactory(customer__phone=CUSTOMER, status=Status.BAKING, promised_at=PROMISED)


def spoken(response):
    assert response.status_code == 200, response.content
    return " ".join(say.text or "" for say in ET.fromstring(response.content).iter("Say"))


def test_the_phone_line_speaks_the_promised_time_in_the_shop_time_zone(order, twilio):
    call = {"CallSid": "CA" + "c" * 32, "From": CUSTOMER, "CallStatus": "in-progress"}
    twilio.post(reverse("support:voice"), {**call, "CallStatus": "ringing"})
    words = spoken(twilio.post(reverse("support:menu"), {**call, "Digits": "1"}))
    assert f"Order {order.number} is in the oven. We expect it at 11:26 PM." in words
    assert "4:26" not in words


def test_a_voice_notice_speaks_the_shop_time(order, twilio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notices.call_customer_with_order_status(CUSTOMER)
    notice = VoiceNotice.objects.get()
    words = spoken(twilio.post(reverse("support:notice-answer", args=[notice.pk]), {}))
    assert "We expect it at 11:26 PM." in words


def test_a_promised_time_on_another_day_is_spoken_with_its_day(db):
    tomorrow = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)  # noon on Thursday in New York
    OrderFactory(customer__phone=CUSTOMER, status=Status.BAKING, promised_at=tomorrow)
    [order] = lookup.active_orders_for_number(CUSTOMER)
    assert twiml.order_status_sentence(order).endswith("We expect it tomorrow at 12:00 PM.")


def test_the_status_text_says_the_shop_time(order, sms):
    demo.seed(io.StringIO())
    [reply] = sms(CUSTOMER, "STATUS").replies
    assert "11:26 PM" in reply


def test_the_admin_shows_the_shop_time(order, admin_client):
    page = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "11:26 p.m." in page
    assert "4:26 a.m." not in page


def test_the_admin_message_log_shows_the_shop_time(order, sms, admin_client):
    sms(CUSTOMER, "HELP")
    page = admin_client.get(reverse("admin:telephony_message_changelist")).content.decode()
    assert "Jan. 14, 2026, 11:06 p.m." in page


def test_the_board_shows_the_promised_and_placed_times_in_the_shop_time(order, admin_client):
    board = admin_client.get("/staff/").content.decode()
    assert "11:26 PM" in board
    thread = admin_client.get(reverse("board:customer", args=[order.customer.pk]))
    assert "Wed 14 Jan, 11:06 PM" in thread.content.decode()


def test_the_report_counts_a_late_order_on_its_local_day_and_hour(order, admin_client):
    response = admin_client.get(reverse("reports:day"), {"day": "2026-01-14"})
    report = response.context["report"]
    assert [(h.label, h.orders) for h in report.hours if h.orders] == [("23:00", 1)]
    assert "<td>23:00</td><td>1</td>" in response.content.decode()
