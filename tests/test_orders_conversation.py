"""The customer's SMS conversation, through signed requests to /twilio/sms/."""

import io
from datetime import datetime, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import demo, hours, services
from orders.models import PATHS, Customer, Inquiry, Order, OrderEvent, Quote, Status
from telephony.models import Message
from telephony.reach import opt_out

from .factories import CustomerFactory, OrderFactory

ALICE = "+14155550199"
BOB = "+14155550123"


@pytest.fixture
def menu(db):
    demo.seed(io.StringIO())


@pytest.fixture
def text(sms):
    """Text the shop and get the replies as the customer reads them."""

    def send(body, sender=ALICE, sid=None):
        response = sms(sender, body, sid=sid)
        assert response.status_code == 200, response.content
        return response.replies

    return send


def one(replies):
    assert len(replies) == 1, replies
    reply = replies[0]
    assert len(reply) <= 1600
    return reply


def place(text, body="ORDER 1 large pepperoni"):
    one(text(body))
    one(text("YES"))
    return Order.objects.latest("id")


def test_menu_lists_codes_and_prices_and_says_how_to_order(menu, text):
    reply = one(text("menu"))
    assert "PEP Pepperoni $10/13/16" in reply
    assert "GBR Garlic Bread $5" in reply
    assert "COKE Coke $2.50" in reply
    assert "ORDER" in reply


def test_order_gets_a_quote_with_lines_total_and_how_to_confirm(menu, text):
    reply = one(text("ORDER 2 large pepperoni, 1 M MARG"))
    assert "2x Pepperoni L $32" in reply
    assert "1x Margherita M $12" in reply
    assert "Total $44" in reply
    assert "Reply YES to place it" in reply
    assert len(reply) <= 320
    assert not Order.objects.exists()


def test_order_in_words_with_plurals_and_typos_is_understood(menu, text):
    reply = one(text("order a large peperoni and two garlic breads please"))
    assert "1x Pepperoni L $16" in reply
    assert "2x Garlic Bread $10" in reply
    assert "Total $26" in reply


def test_yes_places_the_quote_with_number_and_promised_time(menu, text):
    one(text("ORDER 2 large pepperoni, 1 M MARG"))
    reply = one(text("yes"))
    order = Order.objects.get()
    assert f"Order #{order.number} is in" in reply
    assert hours.clock(order.promised_at) in reply
    assert "STATUS" in reply
    assert order.status == Status.RECEIVED
    assert order.total == Decimal("44")
    assert [(i.name, i.size, i.quantity, i.unit_price) for i in order.items.all()] == [
        ("Pepperoni", "L", 2, Decimal("16.00")),
        ("Margherita", "M", 1, Decimal("12.00")),
    ]
    assert order.customer.phone == ALICE
    assert OrderEvent.objects.get(order=order).kind == OrderEvent.Kind.PLACED


def test_deliver_to_makes_a_delivery_to_that_address(menu, text):
    reply = one(text("ORDER 1 L PEP DELIVER TO 12 Main St, Apt 3"))
    assert "delivered to 12 Main St, Apt 3" in reply
    reply = one(text("YES"))
    order = Order.objects.get()
    assert order.fulfilment == "delivery"
    assert order.address == "12 Main St, Apt 3"
    assert "at your door" in reply
    assert Customer.objects.get().address == "12 Main St, Apt 3"


def test_unknown_items_are_named_back_with_a_pointer_to_the_menu(menu, text):
    reply = one(text("ORDER 1 calzone"))
    assert '"calzone"' in reply
    assert "MENU" in reply
    assert not Quote.objects.exists()


def test_what_is_clear_is_quoted_and_what_is_not_is_named_as_left_out(menu, text):
    reply = one(text("ORDER 1 calzone, 2 pep"))
    assert reply.startswith("Your order:\n2x Pepperoni M $26\n")
    assert 'Left out: "calzone" (not on our menu).' in reply
    assert "Reply YES" in reply
    quote = Quote.objects.get()
    assert [line["code"] for line in quote.lines] == ["PEP"]


def test_a_new_order_replaces_the_unconfirmed_quote(menu, text):
    one(text("ORDER 1 L PEP"))
    one(text("ORDER 2 cokes"))
    one(text("YES"))
    order = Order.objects.get()
    assert [i.name for i in order.items.all()] == ["Coke"]
    assert Quote.objects.filter(state=Quote.State.REPLACED).count() == 1


def test_an_expired_quote_is_not_placed(menu, text, settings):
    one(text("ORDER 1 L PEP"))
    later = timezone.now() + timedelta(minutes=settings.ORDER_QUOTE_MINUTES + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        reply = one(text("YES"))
    assert "expired" in reply
    assert "ORDER" in reply
    assert not Order.objects.exists()


def test_yes_with_nothing_pending_says_how_to_order(menu, text):
    reply = one(text("YES"))
    assert "no order waiting" in reply
    assert "ORDER" in reply


def test_a_second_yes_does_not_place_a_second_order(menu, text):
    order = place(text)
    reply = one(text("yes"))
    assert f"#{order.number} is already in" in reply
    assert Order.objects.count() == 1


def test_a_replayed_webhook_places_one_order_and_repeats_the_reply(menu, text):
    one(text("ORDER 1 L PEP"))
    first = text("YES", sid="SM" + "1" * 32)
    again = text("YES", sid="SM" + "1" * 32)
    assert again == first
    assert Order.objects.count() == 1


def test_order_alone_offers_the_last_order_again(menu, text):
    place(text, "ORDER 2 large pepperoni, 1 M MARG")
    reply = one(text("ORDER"))
    assert reply.startswith("Reply YES to order again")
    assert "2x Pepperoni L $32" in reply
    one(text("YES"))
    assert Order.objects.count() == 2
    assert [i.name for i in Order.objects.latest("id").items.all()] == ["Pepperoni", "Margherita"]


def test_the_pizza_emoji_is_easy_order_too(menu, text):
    place(text)
    assert one(text("\U0001f355")).startswith("Reply YES to order again")


def test_a_first_time_customer_sending_order_alone_gets_a_two_line_how_to(menu, text):
    reply = one(text("ORDER"))
    assert reply.count("\n") == 1
    assert "ORDER 2 large PEP" in reply
    assert "MENU" in reply


def test_status_names_each_active_order_stage_and_promised_time(menu, text):
    first = place(text)
    second = place(text, "ORDER 1 coke")
    services.advance_order(first, Status.PREPARING)
    services.advance_order(first, Status.BAKING)
    reply = one(text("STATUS"))
    assert f"#{first.number} is in the oven" in reply
    assert f"#{second.number} is in the queue" in reply
    first.refresh_from_db()
    local = timezone.localtime(first.promised_at, ZoneInfo("America/New_York"))
    assert local.strftime("%I:%M %p").lstrip("0") in reply


@pytest.mark.parametrize(
    "stages, words",
    [
        ([], "in the queue"),
        ([Status.PREPARING], "being prepared"),
        ([Status.PREPARING, Status.BAKING], "in the oven"),
        ([Status.PREPARING, Status.BAKING, Status.QUALITY_CHECK], "getting a final check"),
        (
            [Status.PREPARING, Status.BAKING, Status.QUALITY_CHECK, Status.READY_FOR_PICKUP],
            "ready for pickup",
        ),
    ],
)
def test_status_reply_names_the_current_stage(menu, text, stages, words):
    order = place(text)
    for stage in stages:
        services.advance_order(order, stage)
    assert f"#{order.number} is {words}" in one(text("status"))


def test_status_with_no_orders_says_so_and_how_to_order(menu, text):
    reply = one(text("STATUS"))
    assert "no orders in progress" in reply
    assert "ORDER" in reply


def test_finished_orders_are_not_in_status(menu, text):
    order = place(text)
    for stage in PATHS["pickup"][1:]:
        services.advance_order(order, stage)
    assert "no orders in progress" in one(text("STATUS"))


def test_cancel_order_cancels_the_latest_order_while_it_can(menu, text, outbox):
    order = place(text)
    reply = one(text("CANCEL ORDER"))
    assert f"#{order.number} is cancelled" in reply
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    event = order.events.latest("id")
    assert (event.actor, event.to_status) == ("customer", "cancelled")
    assert sum("cancelled" in r.body for r in outbox) == 1  # the reply says it; no second text


def test_cancel_order_explains_why_not_once_in_the_oven(menu, text):
    order = place(text)
    services.advance_order(order, Status.PREPARING)
    services.advance_order(order, Status.BAKING)
    reply = one(text("cancel my order"))
    assert "already in the oven" in reply
    assert "call us" in reply
    order.refresh_from_db()
    assert order.status == Status.BAKING


def test_a_bare_cancel_is_an_opt_out_and_never_reaches_the_conversation(menu, text):
    place(text)
    assert text("CANCEL") == []
    assert Order.objects.get().status == Status.RECEIVED


def test_help_names_the_keywords_the_shop_and_its_number(menu, text, settings):
    reply = one(text("help"))
    assert settings.SHOP_NAME in reply
    assert "(500) 555-0006" in reply
    for keyword in ("MENU", "ORDER", "STATUS", "CANCEL ORDER"):
        assert keyword in reply


@pytest.mark.parametrize("body", ["STAUTS", "statsu", "Status?!", "  status  "])
def test_near_misses_of_status_are_understood(menu, text, body):
    assert "no orders in progress" in one(text(body))


def test_a_misspelt_order_is_understood(menu, text):
    assert "1x Pepperoni" in one(text("oder 1 pep"))


def test_a_near_miss_of_yes_asks_did_you_mean(menu, text):
    one(text("ORDER 1 L PEP"))
    assert one(text("yse")).startswith("Did you mean YES?")
    assert not Order.objects.exists()


def test_closed_hours_turn_orders_away_with_the_opening_time(menu, text, settings):
    settings.SHOP_HOURS = "mon-sun 11:00-22:00"
    night = datetime(2026, 3, 3, 23, 30, tzinfo=ZoneInfo("America/New_York"))  # a Tuesday
    with mock.patch("django.utils.timezone.now", return_value=night):
        reply = one(text("ORDER 1 L PEP"))
        status = one(text("STATUS"))
    assert "closed" in reply
    assert "tomorrow at 11:00 AM" in reply
    assert "no orders in progress" in status
    assert not Quote.objects.exists()


def test_a_question_is_kept_for_staff_acknowledged_once_and_then_answered_shortly(menu, text):
    first = one(text("where is my driver??"))
    second = one(text("hello??? anyone"))
    assert "Thanks for your query. We will get back to you soon" in first
    assert "STATUS" in first
    assert "added that to your message" in second
    assert "Thanks for your query" not in second
    assert Inquiry.objects.filter(customer__phone=ALICE, answered_at=None).count() == 2


def test_after_staff_answer_a_new_question_is_acknowledged_again(menu, text, django_user_model):
    one(text("is the shop open on christmas"))
    staff = django_user_model.objects.create(username="tony", is_staff=True)
    services.answer_inquiry(Inquiry.objects.get(), by=staff, reply_text="Yes, noon to 8!")
    assert "Thanks for your query" in one(text("great, and new year?"))


def test_an_opted_out_customer_gets_no_reply(menu, text):
    opt_out(ALICE)
    assert text("MENU") == []


def test_every_reply_of_a_whole_conversation_is_short(menu, text):
    bodies = [
        "MENU", "ORDER 2 large pepperoni, 1 M MARG", "YES", "STATUS", "ORDER", "NO", "HELP",
        "CANCEL ORDER", "why so slow", "ORDER 1 L PEP DELIVER TO 1 Elm St", "YES",
    ]  # fmt: skip
    for body in bodies:
        for reply in text(body):
            assert len(reply) <= 320 or body == "MENU", (body, reply)
            assert len(reply) <= 1600


def _queries_per_text(text, sender):
    counts = []
    bodies = [
        "MENU", "STATUS", "ORDER 2 L PEP, 1 GBR", "YES", "ORDER", "YES", "STATUS", "CANCEL ORDER",
        "where are you", "still waiting",
    ]  # fmt: skip
    for body in bodies:
        with CaptureQueriesContext(connection) as queries:
            text(body, sender=sender)
        counts.append(len(queries))
    return counts


def test_the_inbound_webhook_runs_a_fixed_number_of_queries(menu, text):
    _queries_per_text(text, "+14155550100")  # warms per-process caches (content types)
    # Both have an order in progress (a text may change it: orders/edits.py, one query more
    # than for a customer without one); one has eight, and others have twenty.
    OrderFactory(customer=CustomerFactory(phone=ALICE))
    quiet = _queries_per_text(text, ALICE)
    busy = CustomerFactory(phone=BOB)
    OrderFactory.create_batch(8, customer=busy)
    OrderFactory.create_batch(20)
    assert _queries_per_text(text, BOB) == quiet
    # A whole turn: the webhook, the conversation in the worker, and sending the reply.
    assert max(quiet) <= 40


def test_the_reply_is_logged_as_about_the_order(menu, text):
    order = place(text)
    inbound = Message.objects.get(direction="in", body="YES")
    assert inbound.about == order
    assert inbound.replies.get().about == order
