"""Who the shop texts and calls: countries, premium-rate numbers, withheld caller IDs,
senders we may not answer, and a lone CANCEL that opts out instead of cancelling."""

import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from orders import demo
from orders.models import Customer, Inquiry, Order, Quote, Status
from support import callbacks, notices
from support.models import SupportCall
from telephony.models import Message
from telephony.numbers import is_premium, is_withheld
from telephony.reach import is_opted_out, opt_out, reason_not_to_call, reason_not_to_text
from tests.factories import AgentFactory, OrderFactory, VoicemailFactory

pytestmark = pytest.mark.django_db

ALICE = "+14155550199"
TORONTO = "+14165550123"
LONDON = "+442079460123"
LAGOS = "+2348031234567"
PREMIUM = "+19005550123"  # US 900: premium rate in libphonenumber's data
WITHHELD = {
    "+266696687": "anonymous",
    "+86282452253": "unknown",
    "+8656696": "blocked",
    "+2562533": "restricted",
}
SMS_TEMPLATES = Path(__file__).resolve().parent.parent / "orders" / "templates" / "orders" / "sms"


@pytest.fixture(autouse=True)
def menu(db, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US"]
    demo.seed(io.StringIO())


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create(username="maria", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def inbox(client):
    return client.get(reverse("board:panel", args=["inbox"])).content.decode()


def support_panel(client):
    return client.get(reverse("board:panel", args=["support"])).content.decode()


def inbound_from(number):
    return Message.objects.filter(direction=Message.Direction.INBOUND, from_number=number)


# --- 5. a sender we may not answer changes no order -----------------------------------------


@pytest.mark.parametrize(
    "sender, why",
    [
        (TORONTO, "destination country not allowed"),
        (LONDON, "destination country not allowed"),
        (PREMIUM, "premium-rate or shared-cost number"),
    ],
)
def test_a_sender_we_may_not_text_places_no_order_and_staff_see_the_texts(
    sms, staff_client, outbox, sender, why
):
    assert sms(sender, "ORDER 1 large pepperoni").replies == []
    assert sms(sender, "YES").replies == []

    assert not Order.objects.exists()
    assert not Quote.objects.exists()
    kept = list(inbound_from(sender).order_by("id"))
    assert [m.body for m in kept] == ["ORDER 1 large pepperoni", "YES"]
    assert all(m.error_message.startswith(f"not answered: {why}") for m in kept)
    assert outbox == []
    html = inbox(staff_client)
    assert "ORDER 1 large pepperoni" in html and f"Not answered: {why}" in html


def test_a_customer_at_the_reply_cap_who_says_yes_places_no_order_and_staff_see_it(
    sms, settings, staff_client
):
    settings.SMS_REPLIES_PER_HOUR = 2
    assert sms(ALICE, "ORDER 1 large pepperoni").replies
    assert sms(ALICE, "MENU").replies

    assert sms(ALICE, "YES").replies == []

    assert not Order.objects.exists()
    assert Quote.objects.get().state == Quote.State.PENDING
    yes = inbound_from(ALICE).get(body="YES")
    assert yes.error_message.startswith("not answered: reply limit reached")
    assert "Not answered: reply limit reached" in inbox(staff_client)


def test_a_flood_past_the_reply_cap_leaves_one_message_waiting_in_the_inbox(sms, settings):
    settings.SMS_REPLIES_PER_HOUR = 1
    for _ in range(20):
        sms(ALICE, "ORDER 1 large pepperoni")

    assert inbound_from(ALICE).count() == 20  # every text kept, in the customer's thread
    assert Inquiry.objects.filter(answered_at=None).count() == 1  # the inbox is not buried


def test_an_opted_out_customer_who_orders_changes_nothing_until_they_say_start(sms):
    sms(ALICE, "STOP")

    assert sms(ALICE, "ORDER 1 large pepperoni").replies == []
    assert not Quote.objects.exists()
    assert sms(ALICE, "START").replies == []
    assert sms(ALICE, "ORDER 1 large pepperoni").replies


# --- 6. premium-rate numbers and the country list for calls ---------------------------------


def test_us_900_and_uk_premium_numbers_are_premium_and_ordinary_ones_are_not():
    assert is_premium(PREMIUM)
    assert is_premium("+448712345678")  # UK 0871
    assert not is_premium(ALICE)
    assert not is_premium("+18005550123")  # toll-free is ours to pay, not theirs
    assert not is_premium("not a number")


def test_premium_numbers_are_never_texted_even_when_every_country_is_allowed(settings):
    settings.SMS_ALLOWED_COUNTRIES = ["*"]
    assert reason_not_to_text(PREMIUM) == "premium-rate or shared-cost number"
    assert reason_not_to_call(PREMIUM) == "premium-rate or shared-cost number"
    assert reason_not_to_text(LAGOS) is None


@pytest.mark.parametrize(
    "caller, why",
    [
        (PREMIUM, "premium-rate or shared-cost number"),
        (LAGOS, "destination country not allowed"),
    ],
)
def test_a_voicemail_from_a_premium_or_foreign_number_is_not_called_back(
    staff_client, outbox, django_capture_on_commit_callbacks, caller, why
):
    staff = get_user_model().objects.get(username="maria")
    AgentFactory(user=staff)
    voicemail = VoicemailFactory(call__caller_number=caller)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("board:voicemail-call-back", args=[voicemail.pk]), headers={"HX-Request": "1"}
        )

    assert why in response.content.decode()
    assert not SupportCall.objects.filter(direction=SupportCall.Direction.CALLBACK).exists()
    assert outbox == []


@pytest.mark.parametrize("number", [PREMIUM, LAGOS, TORONTO])
def test_voice_notices_obey_the_country_list_and_refuse_premium_numbers(
    number, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notice = notices.place_voice_notice(number, "Your order is ready.")

    assert reason_not_to_call(number)
    assert (notice.status, notice.error_message) == ("failed", reason_not_to_call(number))
    assert outbox == []


def test_a_customer_who_texted_stop_can_still_be_called_back():
    """STOP is about texts (Twilio blocks only messaging); they left us a voicemail."""
    opt_out(ALICE)

    assert reason_not_to_text(ALICE) and reason_not_to_call(ALICE) is None


def test_an_agents_phone_abroad_is_rung_but_a_premium_one_never(
    outbox, django_capture_on_commit_callbacks
):
    abroad = AgentFactory(phone=LONDON)
    voicemail = VoicemailFactory(call__caller_number=ALICE)
    with django_capture_on_commit_callbacks(execute=True):
        callbacks.start_callback(voicemail, abroad)
    assert [r.to for r in outbox if r.kind == "call"] == [LONDON]

    premium = AgentFactory(phone=PREMIUM)
    with pytest.raises(callbacks.CallbackError, match="premium-rate"):
        callbacks.start_callback(VoicemailFactory(call__caller_number=ALICE), premium)
    assert [r.to for r in outbox if r.kind == "call"] == [LONDON]


# --- 7. withheld caller IDs --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", [*WITHHELD, "anonymous", "Anonymous", "Restricted", "Unknown", "", " +266696687 "]
)
def test_twilios_withheld_caller_ids_are_withheld(raw):
    assert is_withheld(raw)


@pytest.mark.parametrize("raw", [ALICE, "+26650123456", "+8613800138000", "client:alice"])
def test_real_numbers_are_not_withheld(raw):
    assert not is_withheld(raw)


def _call_in(twilio, caller, sid):
    response = twilio.post(
        reverse("support:voice"),
        {"CallSid": sid, "From": caller, "To": "+15005550006", "CallStatus": "ringing"},
    )
    assert response.status_code == 200, response.content
    return response


@pytest.mark.parametrize("caller", list(WITHHELD))
def test_a_withheld_caller_is_shown_as_withheld_with_no_call_back(
    twilio, staff_client, outbox, caller
):
    # A customer row left by older code under the stand-in number: not this caller's orders.
    OrderFactory(customer__phone=caller, status=Status.BAKING)
    sid = "CA" + "7" * 32
    greeting = _call_in(twilio, caller, sid).content.decode()

    call = SupportCall.objects.get(call_sid=sid)
    assert (call.caller_number, call.order_id, call.customer_id) == ("withheld", None, None)
    assert "oven" not in greeting
    voicemail = VoicemailFactory(call=call)
    panel = support_panel(staff_client)
    assert "<b>withheld</b>" in panel
    assert reverse("board:voicemail-call-back", args=[voicemail.pk]) not in panel
    with pytest.raises(callbacks.CallbackError, match="withheld"):
        callbacks.start_callback(voicemail, AgentFactory())
    assert outbox == []


def test_the_voicemail_admin_shows_a_withheld_caller_as_withheld(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "b@example.com", "pw"))
    VoicemailFactory(call__caller_number="+8656696")  # stored by older code

    page = client.get(reverse("admin:support_voicemail_changelist")).content.decode()

    assert '<td class="field-caller">withheld</td>' in page


@pytest.mark.parametrize("sender", [*WITHHELD, "anonymous"])
def test_a_text_from_a_withheld_number_makes_no_customer_and_gets_no_reply(sms, outbox, sender):
    response = sms(sender, "ORDER 1 large pepperoni")

    assert response.status_code == 200 and response.replies == []
    assert not Customer.objects.exists()
    kept = Message.objects.get(direction=Message.Direction.INBOUND)
    assert kept.from_number == "withheld"
    assert kept.error_message == "not answered: caller ID withheld"
    assert outbox == []


# --- 13. a lone CANCEL opts out; with an active order staff are told -----------------------


@pytest.mark.parametrize("word", ["cancel", "CANCEL", "End", "quit", "unsubscribe", "STOPALL"])
def test_a_lone_cancel_with_an_active_order_opts_out_and_flags_the_order(sms, staff_client, word):
    sms(ALICE, "ORDER 1 large pepperoni")
    sms(ALICE, "YES")
    order = Order.objects.get()

    assert sms(ALICE, word).replies == []

    assert is_opted_out(ALICE)
    order.refresh_from_db()
    assert order.status == Status.RECEIVED  # Twilio blocks our texts: we cannot confirm one
    flag = f"texted {word.upper()}, now opted out, order #{order.number} active: call them"
    assert flag in inbox(staff_client)


def test_a_lone_cancel_without_an_active_order_only_opts_out(sms, staff_client):
    sms(ALICE, "MENU")

    sms(ALICE, "CANCEL")

    assert is_opted_out(ALICE)
    assert not Inquiry.objects.exists()
    assert "now opted out" not in inbox(staff_client)


def test_every_text_that_mentions_cancelling_says_cancel_order():
    """A lone CANCEL opts the customer out: every text that talks about cancelling names the
    two words. ("We had to cancel order #1042" reports what the shop did: nothing to text.)"""
    mentions = re.compile(r"\bcancel\b", re.IGNORECASE)
    wrong = [
        path.name
        for path in sorted(SMS_TEMPLATES.glob("*.txt"))
        if mentions.search(source := path.read_text())
        and "CANCEL ORDER" not in source
        and path.name != "stage_cancelled.txt"
    ]
    assert wrong == []
