"""WhatsApp: a text that came by WhatsApp is answered on WhatsApp, the channel is kept on
every message and shown to staff, and stage texts follow the customer's open WhatsApp
session (24 hours since their last WhatsApp text), SMS otherwise."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import demo, services
from orders.models import Customer, Order, Status
from telephony import reach
from telephony.models import Message
from telephony.reach import is_opted_out

from .factories import MessageFactory

CUSTOMER = "+14155550123"
ON_WHATSAPP = f"whatsapp:{CUSTOMER}"
SHOP_WHATSAPP = "+14155238886"  # Twilio's WhatsApp sandbox number
WhatsApp, SMS = "whatsapp", "sms"


@pytest.fixture(autouse=True)
def whatsapp_sender(settings):
    settings.TWILIO_WHATSAPP_NUMBER = SHOP_WHATSAPP
    settings.TWILIO_MESSAGING_SERVICE_SID = ""


@pytest.fixture
def menu(db):
    demo.seed(io.StringIO())


@pytest.fixture
def whatsapp(db, sms):
    """Write to the shop's WhatsApp sender, as Twilio posts it."""

    def send(body, sender=ON_WHATSAPP):
        number = sender.removeprefix("whatsapp:")
        response = sms(
            sender, body, To=f"whatsapp:{SHOP_WHATSAPP}", ProfileName="Ana", WaId=number[1:]
        )
        assert response.status_code == 200, response.content
        return response

    return send


def sent(outbox):
    return [(r.to, r.from_) for r in outbox if r.kind == "sms"]


def test_a_whatsapp_text_is_answered_on_whatsapp_from_the_number_it_was_sent_to(whatsapp, outbox):
    response = whatsapp("HELP")
    assert response.replies
    assert sent(outbox) == [(ON_WHATSAPP, f"whatsapp:{SHOP_WHATSAPP}")]


def test_an_sms_is_still_answered_by_sms(db, sms, outbox, settings):
    response = sms(CUSTOMER, "HELP")
    assert response.replies
    assert sent(outbox) == [(CUSTOMER, settings.TWILIO_PHONE_NUMBER)]


def test_each_message_keeps_its_channel_and_plain_numbers(whatsapp, sms):
    whatsapp("HELP")
    sms(CUSTOMER, "HELP")
    rows = list(Message.objects.order_by("id").values_list("direction", "channel", "from_number"))
    assert rows == [
        ("in", WhatsApp, CUSTOMER), ("out", WhatsApp, SHOP_WHATSAPP),
        ("in", SMS, CUSTOMER), ("out", SMS, "+15005550006"),
    ]  # fmt: skip
    inbound = Message.objects.filter(direction="in", channel=WhatsApp).get()
    assert inbound.to_number == SHOP_WHATSAPP


def test_whatsapp_and_sms_from_one_number_are_one_customer(menu, whatsapp, sms):
    whatsapp("ORDER 1 large pepperoni")
    sms(CUSTOMER, "STATUS")
    assert list(Customer.objects.values_list("phone", flat=True)) == [CUSTOMER]


def test_with_a_messaging_service_the_whatsapp_prefix_on_to_picks_the_channel(
    whatsapp, outbox, settings
):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "0" * 32
    whatsapp("HELP")
    [request] = outbox
    assert (request.to, request.from_, request.messaging_service_sid) == (
        ON_WHATSAPP, None, settings.TWILIO_MESSAGING_SERVICE_SID,
    )  # fmt: skip


def test_stop_on_whatsapp_opts_out_the_plain_number(whatsapp, outbox):
    whatsapp("STOP")
    assert is_opted_out(CUSTOMER)
    assert outbox == []


# --- stage texts follow the customer's channel -----------------------------------------


def order_by_whatsapp(whatsapp):
    whatsapp("ORDER 1 large pepperoni")
    whatsapp("YES")
    return Order.objects.get()


def stage_text(order, outbox, django_capture_on_commit_callbacks):
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.advance_order(order, Status.PREPARING)
        moved = services.advance_order(order, Status.BAKING)
    assert moved.texted
    # (A held text whose time has come, the offer after a first order, leaves too.)
    [request] = [r for r in outbox if str(order) in r.body]
    return request


def test_a_stage_text_goes_on_whatsapp_while_the_session_is_open(
    menu, whatsapp, outbox, django_capture_on_commit_callbacks
):
    order = order_by_whatsapp(whatsapp)
    request = stage_text(order, outbox, django_capture_on_commit_callbacks)
    assert (request.to, request.from_) == (ON_WHATSAPP, f"whatsapp:{SHOP_WHATSAPP}")
    assert "in the oven" in request.body
    assert Message.objects.get(sid=request.sid).channel == WhatsApp


def test_a_stage_text_goes_by_sms_once_the_whatsapp_session_has_closed(
    menu, whatsapp, outbox, monkeypatch, django_capture_on_commit_callbacks, settings
):
    order = order_by_whatsapp(whatsapp)
    later = timezone.now() + timedelta(hours=24, minutes=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    request = stage_text(order, outbox, django_capture_on_commit_callbacks)
    assert (request.to, request.from_) == (CUSTOMER, settings.TWILIO_PHONE_NUMBER)


def test_a_stage_text_goes_by_sms_when_the_customer_last_wrote_by_sms(
    menu, whatsapp, sms, outbox, django_capture_on_commit_callbacks, settings
):
    order = order_by_whatsapp(whatsapp)
    sms(CUSTOMER, "STATUS")
    request = stage_text(order, outbox, django_capture_on_commit_callbacks)
    assert (request.to, request.from_) == (CUSTOMER, settings.TWILIO_PHONE_NUMBER)


def test_without_a_whatsapp_sender_stage_texts_go_by_sms(
    menu, whatsapp, outbox, django_capture_on_commit_callbacks, settings
):
    order = order_by_whatsapp(whatsapp)
    settings.TWILIO_WHATSAPP_NUMBER = ""
    request = stage_text(order, outbox, django_capture_on_commit_callbacks)
    assert request.to == CUSTOMER


def test_channel_for_asks_the_database_once(db, django_assert_num_queries):
    MessageFactory(direction="in", from_number=CUSTOMER, channel=WhatsApp, status="received")
    with django_assert_num_queries(1):
        assert reach.channel_for(CUSTOMER) == WhatsApp


def test_channel_for_a_number_that_never_wrote_is_sms(db):
    assert reach.channel_for(CUSTOMER) == SMS


# --- staff see the channel ---------------------------------------------------------------


def test_the_message_log_shows_and_filters_by_channel(whatsapp, sms, admin_client):
    whatsapp("HELP")
    sms("+14155550199", "HELP")
    url = reverse("admin:telephony_message_changelist")
    page = admin_client.get(url).content.decode()
    assert "WhatsApp" in page
    filtered = admin_client.get(url, {"channel__exact": "whatsapp"})
    assert {m.channel for m in filtered.context["cl"].result_list} == {WhatsApp}
    assert len(filtered.context["cl"].result_list) == 2


def test_the_customer_thread_on_the_board_says_which_texts_came_by_whatsapp(whatsapp, admin_client):
    whatsapp("HELP")
    customer = Customer.objects.get(phone=CUSTOMER)
    page = admin_client.get(reverse("board:customer", args=[customer.pk])).content.decode()
    assert page.count("via WhatsApp") == 2


def test_a_new_text_from_the_board_goes_on_whatsapp_while_the_session_is_open(
    whatsapp, admin_client, outbox, django_capture_on_commit_callbacks
):
    whatsapp("HELP")
    customer = Customer.objects.get(phone=CUSTOMER)
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("board:text", args=[customer.pk]), {"text": "Sure, see you"})
    assert sent(outbox) == [(ON_WHATSAPP, f"whatsapp:{SHOP_WHATSAPP}")]


def test_a_staff_answer_to_a_whatsapp_message_goes_on_whatsapp(
    whatsapp, admin_client, outbox, django_capture_on_commit_callbacks
):
    whatsapp("Can I pick up at the back door?")  # kept for staff
    customer = Customer.objects.get(phone=CUSTOMER)
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("board:text", args=[customer.pk]), {"text": "Sure, see you"})
    assert sent(outbox) == [(ON_WHATSAPP, f"whatsapp:{SHOP_WHATSAPP}")]
