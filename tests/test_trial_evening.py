"""Issue 29: what an evening as a real shop found (lost orders, wrong orders, wrong prices), each
from the customer's or staff's side. Texts go through the signed webhook and the worker (the
`sms` fixture) and are read as the customer reads them."""

import html
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from campaigns.admin import CampaignForm
from campaigns.models import Consent, ConsentOffer
from orders import demo, services, shop
from orders.models import (
    Crust,
    Deal,
    MenuItem,
    MenuPrice,
    Order,
    OrderEvent,
    Quote,
    ShopSettings,
    Status,
)
from staff.reports.services import sms_numbers
from telephony.models import Message
from telephony.reach import OPTED_OUT_REASON

from .factories import OrderFactory

ANA = "+14155550123"
NEW_YORK = ZoneInfo("America/New_York")
TUESDAY_9AM = datetime(2026, 3, 3, 9, 0, tzinfo=NEW_YORK)
TUESDAY_2PM = datetime(2026, 3, 3, 14, 0, tzinfo=NEW_YORK)


@pytest.fixture
def menu(db):
    demo.seed(io.StringIO())


@pytest.fixture
def text(sms):
    def send(body, sender=ANA):
        response = sms(sender, body)
        assert response.status_code == 200, response.content
        return "\n".join(response.replies)

    return send


@pytest.fixture
def at(settings):
    settings.SHOP_HOURS = "mon-sun 11:00-22:00"
    return lambda when: mock.patch("django.utils.timezone.now", return_value=when)


@pytest.fixture
def owner(admin_client):
    return admin_client


# --- 1. an order for later, quoted while closed, is placed by YES ----------------------------


def test_yes_while_closed_places_the_order_for_later_the_quote_promised(menu, text, at):
    with at(TUESDAY_9AM):
        quote = text("1 large pepperoni for pickup at 12:30")
        assert "for pickup at 12:30 PM" in quote
        reply = text("YES")
    assert "closed" not in reply.lower()
    assert reply.startswith("Thanks! Order #")
    assert "Ready for pickup at 12:30 PM" in reply
    order = Order.objects.get()
    assert timezone.localtime(order.promised_at, NEW_YORK).strftime("%H:%M") == "12:30"


def test_yes_while_closed_to_an_order_for_now_is_still_told_we_are_closed(menu, text, at):
    with at(TUESDAY_2PM):
        text("1 large pepperoni")
    with at(TUESDAY_2PM.replace(hour=22, minute=10)):
        assert "closed" in text("YES").lower()
    assert not Order.objects.exists()


# --- 2. an opt-out after ordering is shown to the kitchen ------------------------------------


def test_a_lone_cancel_after_ordering_flags_the_card_and_the_admin(menu, text, owner):
    text("1 large pepperoni")
    text("YES")
    order = Order.objects.get()
    text("cancel")

    order.refresh_from_db()
    assert order.opted_out_at is not None
    assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.OPTED_OUT).exists()
    board = owner.get("/staff/").content.decode()
    assert "Customer opted out after ordering: call before making" in board
    page = owner.get(f"/admin/orders/order/{order.pk}/change/", follow=True).content.decode()
    assert "The customer opted out after ordering: call before making" in page


def test_texts_refused_after_an_opt_out_are_not_delivery_failures(menu, text, owner):
    text("1 large pepperoni")
    text("YES")
    order = Order.objects.get()
    text("cancel")
    services.advance_order(order, Status.PREPARING)
    services.advance_order(order, Status.BAKING)  # texts: refused, the customer opted out
    refused = Message.objects.filter(error_message=OPTED_OUT_REASON)
    assert refused.count() == 1
    day = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(hours=1)
    numbers = sms_numbers(*day)
    assert numbers["failed"] == 0
    assert numbers["opted_out"] == 1


# --- 3-7. what customers wrote, quoted right ----------------------------------------------


def test_half_pepperoni_half_mushroom_is_a_plain_pizza_topped_by_halves(menu, text):
    reply = text("large pizza half pepperoni half mushroom")
    # the plain large $14 + half of each topping (pepperoni $2.50, mushrooms $2 on a large)
    assert "1x Cheese L, half with pepperoni / half with mushrooms $16.25" in reply
    text("YES")
    item = Order.objects.get().items.get()
    assert item.extras == "half with pepperoni / half with mushrooms"


def test_two_x_large_is_two_large_not_extra_large(menu, text):
    assert text("2 x large pep").startswith("Your order:\n2x Pepperoni L $32")


@pytest.mark.parametrize(
    "body, line",
    [
        ("una pizza de queso grande", "1x Cheese L $14"),
        ("una hawaiana grande", "1x Hawaiian L $17"),
    ],
)
def test_spanish_item_names_are_understood(menu, text, body, line):
    assert text(body).startswith(f"Tu pedido:\n{line}")


def test_staffs_alias_wins_over_a_built_in_guess(menu, text):
    plain = MenuItem.objects.get(code="CHZ")
    plain.aliases = "cheese pizza"
    plain.save()
    four = MenuItem.objects.get(code="FCH")
    four.aliases = "cheese"
    four.save()
    assert text("1 large cheese pizza").startswith("Your order:\n1x Cheese L $14")


@pytest.mark.parametrize(
    "body, lines",
    [
        (
            "Good morning! I'd like to order a large pepperoni for pickup please. Thanks!",
            ["1x Pepperoni L $16"],
        ),
        (
            "Can I order 2 pizzas? one pepperoni and one margherita, both large",
            ["1x Pepperoni L $16", "1x Margherita L $15"],
        ),
        ("ok large meat feast then, well done", ["1x Meat Feast L (well done) $18"]),
        ("cn i get a lrg peperoni", ["1x Pepperoni L $16"]),
        ("Heyyy \U0001f44b can i get a med margherita", ["1x Margherita M $12"]),
    ],
)
def test_one_extra_word_does_not_sink_an_order(menu, text, body, lines):
    reply = text(body)
    assert reply.startswith("Your order:\n" + "\n".join(lines) + "\n"), reply
    assert "couldn't find" not in reply


def test_what_is_clear_is_quoted_and_the_rest_named(menu, text):
    reply = text("can i get 2 large pepperoni and a calzone")
    assert reply.startswith("Your order:\n2x Pepperoni L $32\n")
    assert 'Left out: "calzone" (not on our menu).' in reply


def test_the_address_alone_answers_where_should_we_deliver(menu, text):
    assert "Where should we deliver?" in text("1 large pepperoni for delivery")
    reply = text("45 Oak Avenue, Apt 2")
    assert "delivered to 45 Oak Avenue, Apt 2" in reply
    text("YES")
    order = Order.objects.get()
    assert (order.fulfilment, order.address) == ("delivery", "45 Oak Avenue, Apt 2")


@pytest.mark.parametrize(
    "answer, address",
    [
        ("12 Main St", "12 Main St"),
        ("deliver to 7 Elm Road", "7 Elm Road"),
        ("apt 4, 55 Elm St.", "apt 4, 55 Elm St"),
        ("1500 SW 8th St", "1500 SW 8th St"),
        ("its 300 W 23rd st apt 5", "its 300 W 23rd st apt 5"),
    ],
)
def test_answers_to_where_should_we_deliver(menu, text, answer, address):
    text("2 large pepperoni for delivery")
    assert f"delivered to {address}" in text(answer)


def test_a_question_after_where_should_we_deliver_is_still_a_question(menu, text):
    text("1 large pepperoni for delivery")
    assert "Where should we deliver?" not in text("MENU")
    assert "delivered to" not in text("do you have gluten free?")
    assert not Quote.objects.exists()


def test_sure_after_the_offers_text_is_consent(menu, text):
    text("1 large pepperoni")
    text("YES")
    offer = ConsentOffer.objects.get()
    later = offer.offered_at + timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        reply = text("sure!")
    assert "you're in for our offers" in reply
    consent = Consent.objects.get()
    assert consent.source == Consent.Source.OFFER
    assert offer.text in consent.text_shown and "sure!" in consent.text_shown


def test_a_second_yes_right_away_is_still_about_the_order(menu, text):
    text("1 large pepperoni")
    text("YES")
    assert "is already in" in text("YES")
    assert not Consent.objects.exists()


# --- 8. aliases mean one thing --------------------------------------------------------------


def test_the_admin_refuses_a_second_crust_called_gluten_free(menu, owner):
    response = owner.post(
        "/admin/orders/crust/add/",
        {
            "code": "GF2", "name": "GF budget", "aliases": "gluten free", "available": "on",
            "position": 9, "surcharge_small": "0", "surcharge_medium": "0",
            "surcharge_large": "0",
        },
    )  # fmt: skip
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert '"gluten free" already names crust Gluten-free' in page
    assert not Crust.objects.filter(code="GF2").exists()


def test_check_menu_lists_names_that_mean_two_things(menu):
    call_command("check_menu", stdout=io.StringIO())  # the demo menu is clean
    Crust.objects.create(code="GF2", name="GF budget", aliases="gluten free")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check_menu", stdout=out)
    assert '"gluten free" means 2 things' in out.getvalue()


# --- 9. one late text per order, lateness against the first promise --------------------------


def test_a_late_order_gets_one_text_and_the_board_keeps_it_late(menu, text, owner):
    text("1 large pepperoni")
    text("YES")
    order = Order.objects.get()
    first = order.promised_at
    for minutes in (1, 20, 40, 60):
        assert services.check_late_orders(now=first + timedelta(minutes=minutes)) == (
            1 if minutes == 1 else 0
        )
    assert Message.objects.filter(body__contains="running late").count() <= 1
    order.refresh_from_db()
    assert order.late_notices == 1 and order.first_promised_at == first
    with mock.patch("django.utils.timezone.now", return_value=first + timedelta(minutes=30)):
        board = owner.get("/staff/").content.decode()
    assert "LATE" in board and "now told" in board


# --- 10. a promotion's price is the quote's price --------------------------------------------


@pytest.fixture
def two_for_25(menu):
    return Deal.objects.create(
        code="2FOR25", description="2 large pizzas for $25", size="L", quantity=2,
        price=Decimal("25"),
    )  # fmt: skip


def test_the_deals_code_gets_the_promised_price(two_for_25, text):
    reply = text("ORDER 2 L PEP 2FOR25")
    assert "Deal 2FOR25 (2 large pizzas for $25): -$7" in reply
    assert "Total $25" in reply
    text("YES")
    order = Order.objects.get()
    assert (order.total, order.discount, order.deal) == (Decimal("25"), Decimal("7"), two_for_25)


def test_a_deal_is_used_once_and_needs_what_it_promises(two_for_25, text):
    assert "Deal 2FOR25 is for 2 large pizzas for $25" in text("ORDER 1 L PEP 2FOR25")
    text("ORDER 2 L PEP 2FOR25")
    text("YES")
    reply = text("ORDER 2 L PEP 2FOR25")
    assert "You have used deal 2FOR25 already" in reply and "Total $32" in reply


def test_a_promotion_that_states_a_price_needs_a_deal(two_for_25):
    data = {"name": "Tuesday", "body": "2 large pizzas for $25, text ORDER 2 L PEP",
            "audience": "all"}  # fmt: skip
    form = CampaignForm(data)
    assert not form.is_valid()
    assert "promises a price ($25) but carries no deal" in form.errors["body"][0]
    form = CampaignForm({**data, "deal": two_for_25.pk})
    assert not form.is_valid() and "Name the deal's code" in form.errors["body"][0]
    form = CampaignForm({**data, "deal": two_for_25.pk, "body": data["body"] + " 2FOR25"})
    assert form.is_valid(), form.errors


# --- 11. the owner changes the shop without a restart ---------------------------------------


def test_the_owner_changes_tax_fee_hours_and_closed_days_in_the_admin(menu, text, owner, at):
    owner.get("/admin/orders/shopsettings/")  # opens (and makes) the one row
    response = owner.post(
        "/admin/orders/shopsettings/1/change/",
        {
            "hours": "mon-sun 12:00-20:00", "closed_dates": "2026-03-04", "tax_rate": "0.1",
            "delivery_fee": "3", "delivery_minimum": "", "delivery_zip_codes": "10001",
            "address": "1 Harbor Rd",
        },
    )  # fmt: skip
    assert response.status_code == 302
    assert LogEntry.objects.filter(object_repr="Shop settings").exists()  # the change recorded
    with at(TUESDAY_2PM):
        reply = text("1 large pepperoni deliver to 5 Elm St 10001")
        assert "Total $20.60 (food $16 + tax $1.60 + delivery $3)" in reply
        assert "10001" in text("1 large pepperoni deliver to 5 Elm St 94110")  # outside the area
    with at(TUESDAY_2PM.replace(hour=11, minute=30)):
        assert "closed" in text("1 large pepperoni").lower()  # opens at 12 now
    with at(TUESDAY_2PM + timedelta(days=1)):  # Wednesday: closed for the day
        assert "closed" in text("1 large pepperoni").lower()


def test_another_process_sees_the_change_within_a_second(menu):
    ShopSettings.objects.create(pk=1, tax_rate=Decimal("0.05"))
    assert shop.tax_rate() == Decimal("0.05")
    ShopSettings.objects.filter(pk=1).update(tax_rate=Decimal("0.07"))  # as another process
    assert shop.tax_rate() == Decimal("0.05")  # kept for a second
    with mock.patch("orders.shop.time.monotonic", return_value=10**9):
        assert shop.tax_rate() == Decimal("0.07")


def test_a_malformed_value_is_refused_in_the_admin(menu, owner):
    owner.get("/admin/orders/shopsettings/")
    response = owner.post(
        "/admin/orders/shopsettings/1/change/",
        {"hours": "sometimes", "closed_dates": "xmas", "tax_rate": "8.875"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "is not a date like 2026-12-25" in page and "A fraction between 0 and 1" in page


# --- 12. smaller slips ----------------------------------------------------------------------


def test_pickup_texts_and_the_order_page_give_the_shops_address(menu, text, client, settings):
    settings.SHOP_ADDRESS = "1 Harbor Rd, Springfield"
    text("1 large pepperoni")
    assert "at 1 Harbor Rd, Springfield" in text("YES")
    order = Order.objects.get()
    moved = services.advance_order(order, Status.PREPARING)
    for status in (Status.BAKING, Status.QUALITY_CHECK, Status.READY_FOR_PICKUP):
        moved = services.advance_order(order, status)
    assert "1 Harbor Rd, Springfield" in moved.text.body
    page = client.get(f"/o/{order.token}/").content.decode()
    assert "Pickup at Tony&#x27;s Pizzeria, 1 Harbor Rd, Springfield" in page


def test_the_receipt_says_when_it_was_picked_up(menu, text, client, at):
    with at(TUESDAY_2PM):
        order = OrderFactory(status=Status.PICKED_UP)
    Order.objects.filter(pk=order.pk).update(updated_at=TUESDAY_2PM.replace(hour=19, minute=42))
    with at(TUESDAY_2PM.replace(hour=20)):
        page = client.get(f"/o/{order.token}/").content.decode()
    assert re.search(r"Picked up [A-Za-z, ]*7:42 PM", page), page


def test_a_bare_order_reply_has_no_stray_line(menu, text):
    text("1 large pepperoni")
    text("YES")
    reply = text("ORDER")
    assert "Or text ORDER" not in reply
    assert "Or text what you'd like instead, e.g. 2 L PEP." in reply


def test_a_text_that_failed_at_the_provider_stands_out_in_the_simulator(menu, owner, settings):
    from simulator.views import DEFAULT_NUMBER

    settings.PHONE_SIMULATOR_ENABLED = True
    for status, body in (("delivered", "Your order: 1x Cheese L"), ("undelivered", "In the oven")):
        Message.objects.create(
            direction="out", to_number=DEFAULT_NUMBER, from_number=settings.TWILIO_PHONE_NUMBER,
            body=body, status=status, error_code=30003 if status == "undelivered" else None,
        )  # fmt: skip
    html = owner.get(reverse("phone:chat")).content.decode()
    delivered, failed = html.split("Your order: 1x Cheese L")[0], html.split("In the oven")[0]
    assert "bubble theirs failed" not in delivered.rsplit("<li", 1)[-1]
    assert "bubble theirs failed" in failed.rsplit("<li", 1)[-1]
    assert "Not delivered: this phone never got it (error 30003)" in html


@pytest.mark.parametrize(
    "base, warned",
    [
        ("https://pizza.example.com", False),
        ("http://pizza.example.com", True),
        ("https://127.0.0.1:8000", True),
        ("https://localhost", True),
        ("https://192.168.1.20", True),
    ],
)
def test_twilio_configure_warns_of_a_local_or_plain_http_base_url(base, warned):
    from telephony.management.commands.twilio_configure import base_url_problems

    assert bool(base_url_problems(base)) == warned


def test_menu_price_of_half_toppings_is_half_rounded_up(menu):
    MenuPrice.objects.filter(item__code="CHZ", size="L").update(price=Decimal("14"))
    from orders.menu import half_price

    assert half_price(Decimal("2.50")) == Decimal("1.25")
    assert half_price(Decimal("1.25")) == Decimal("0.63")
