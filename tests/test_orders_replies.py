"""What customers get back, end to end: every text goes through the signed webhook, the worker
and the conversation (the `sms` fixture), and the reply is read as the customer reads it.
The texts are the issue's examples and the parser's table (tests/test_orders_texts.py)."""

import io
from datetime import datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from orders import demo, services
from orders.hours import local
from orders.models import Order, Quote, Status
from orders.parser import parse
from telephony.reach import OPT_OUT_WORDS
from telephony.segments import count_segments

from .test_orders_texts import TEXTS

ALICE = "+14155550199"
NEW_YORK = ZoneInfo("America/New_York")
TUESDAY_2PM = datetime(2026, 3, 3, 14, 0, tzinfo=NEW_YORK)


@pytest.fixture
def menu(db):
    demo.seed(io.StringIO())


@pytest.fixture
def text(sms):
    def send(body, sender=ALICE):
        response = sms(sender, body)
        assert response.status_code == 200, response.content
        assert len(response.replies) == 1, (body, response.replies)
        return response.replies[0]

    return send


@pytest.fixture
def at(settings):
    """Run the shop at a given local time, open mon-sun 11:00-22:00."""
    settings.SHOP_HOURS = "mon-sun 11:00-22:00"

    def clock(when):
        return mock.patch("django.utils.timezone.now", return_value=when)

    return clock


def place(text, body="ORDER 1 large pepperoni"):
    text(body)
    text("YES")
    return Order.objects.latest("id")


# --- every text of the parser's table gets a useful reply ----------------------------------

# What a new customer (no quote, no order) reads back, by what the text asked for and the
# language the text clearly says (Spanish texts are read with á í ó ú as GSM-7 writes them).
FIRST_WORDS = {
    "en": {
        "menu": "PEP Pepperoni $10/13/16",
        "status": "no orders in progress",
        "cancel": "no order in progress for CANCEL ORDER",
        "reorder": "To order, text ORDER",
        "yes": "no order waiting for a YES",
        "no": "no order waiting for a YES",
        "help": "MENU for the menu",
        "suggest": "Did you mean",
        "chat": "Thanks for your query",
    },
    "es": {
        "menu": "PEP Pepperoni $10/13/16",
        "status": "No tienes pedidos en curso",
        "cancel": "No hay ningun pedido en curso que cancelar",
        "reorder": "Para pedir, escribe PEDIDO",
        "yes": "No hay ningun pedido esperando tu SI",
        "no": "No hay ningun pedido esperando tu SI",
        "help": "MENU para ver el menu",
        "suggest": "¿Quisiste decir",
        "chat": "Gracias por tu mensaje",
    },
}
ORDER_WORDS = {
    "en": {
        "sizes": "We make small, medium and large",
        "too_many": "That's a lot",
        "unknown": "couldn't find",
        "which": "Which {phrase} would you like?",
        "address": "Where should we deliver?",
        "quote": "Your order:",
    },
    "es": {
        "sizes": "Hacemos chica, mediana y grande",
        "too_many": "un monton de",
        "unknown": "no encontramos",
        "which": "¿Qué {phrase} quieres?",
        "address": "¿A donde lo llevamos?",
        "quote": "Tu pedido:",
    },
}


def expected_reply(command):
    """A new customer is answered in the language their text clearly says, else English."""
    language = command.language_said or "en"
    if command.kind != "order":
        return FIRST_WORDS[language][command.kind]
    words = ORDER_WORDS[language]
    if command.unsupported_sizes:
        return words["sizes"]
    if command.too_many:
        return words["too_many"]
    if command.unknown and not command.lines:
        return words["unknown"]
    if command.ambiguous:
        return words["which"].format(phrase=command.ambiguous[0].phrase)
    if command.address == "?":
        return words["address"]
    return words["quote"]


# A lone CANCEL is a carrier opt-out word: Twilio answers it, and we may not (telephony).
# Questions the shop's data answers have their own table (tests/test_questions.py).
QUESTIONS = {"do you deliver to Oakland?"}
ANSWERED = [
    p for p in TEXTS
    if p.values[0].strip().upper() not in OPT_OUT_WORDS and p.values[0] not in QUESTIONS
]  # fmt: skip


@pytest.mark.parametrize("body", [p.values[0] for p in ANSWERED], ids=[p.id for p in ANSWERED])
def test_every_text_of_the_table_gets_the_reply_it_asks_for(menu, text, body):
    command = parse(body, services.menu().index)
    reply = text(body)
    assert expected_reply(command) in reply
    assert count_segments(reply) <= 3


# --- the issue's examples ------------------------------------------------------------------


def test_toppings_are_in_the_quote_with_their_prices(menu, text):
    reply = text("ORDER 1 large pepperoni with extra cheese and mushrooms")
    assert "1x Pepperoni L with extra cheese, mushrooms $20.50" in reply
    assert "Total $20.50" in reply


def test_a_crust_and_a_kitchen_note_are_in_the_quote_and_the_confirmation(menu, text):
    assert "1x Veggie Supreme M, thin crust $14" in text("ORDER 1 medium veggie thin crust")
    assert "1x Pepperoni L (well done) $16" in text("ORDER 1 large pepperoni, well done please")
    placed = text("YES")
    assert "1x Pepperoni L (well done)" in placed
    assert Order.objects.get().items.get().note == "well done"


def test_half_and_half_shows_both_halves(menu, text):
    assert "1x half Pepperoni / half Margherita L $16" in text(
        "1 large half pepperoni half margherita"
    )


def test_a_size_we_do_not_make_is_answered_with_the_sizes_we_make_and_their_prices(menu, text):
    reply = text("ORDER 3 xl pepperoni")
    assert "we don't make xl. We make small, medium and large" in reply
    assert "PEP Pepperoni $10/13/16" in reply
    assert "ORDER 3 L PEP" in reply
    assert not Quote.objects.exists()


def test_a_size_we_do_not_make_of_something_we_do_not_sell_still_gets_the_sizes(menu, text):
    reply = text("ORDER 1 xl calzone")
    assert "We make small, medium and large" in reply
    assert "ORDER 1 L PEP" in reply


def test_a_pizza_without_a_kind_is_asked_back_with_the_choices_and_prices(menu, text):
    reply = text("I want a pizza")
    assert reply.startswith("Which pizza would you like?")
    assert "PEP Pepperoni $10/13/16" in reply
    assert "BBQ BBQ Chicken $12/15/18" in reply
    assert not Quote.objects.exists()


def test_an_ambiguous_item_is_asked_back_with_the_price_for_the_size_asked(menu, text):
    reply = text("1 large chicken")
    assert "BBQ BBQ Chicken $18" in reply
    assert "WNG Chicken Wings (8) $9" in reply
    assert "ORDER 1 L BBQ" in reply


def test_an_order_without_a_size_is_priced_as_a_medium_and_says_so(menu, text):
    reply = text("1 pepperoni")
    assert "1x Pepperoni M $13" in reply
    assert "No size given for Pepperoni: priced as M" in reply


@pytest.mark.parametrize("body", ["where is my pizza??", "how long?", "is my order ready"])
def test_status_in_words_names_the_order_and_its_stage(menu, text, body):
    order = place(text)
    assert f"Order #{order.number} is in the queue" in text(body)


def test_please_cancel_my_order_cancels_it_by_number(menu, text):
    order = place(text)
    assert f"Order #{order.number} is cancelled" in text("please cancel my order")
    order.refresh_from_db()
    assert order.status == Status.CANCELLED


@pytest.mark.parametrize("body", ["same as last time", "the usual"])
def test_reorder_in_words_quotes_the_last_order_with_its_toppings(menu, text, body):
    place(text, "ORDER 1 large pepperoni with mushrooms")
    reply = text(body)
    assert reply.startswith("Reply YES to order again")
    assert "1x Pepperoni L with mushrooms $18" in reply


def test_an_angry_status_after_an_earlier_question_gets_the_status(menu, text):
    order = place(text)
    assert f"Order #{order.number}" in text("do you have napkins?")
    assert f"Order #{order.number} is in the queue" in text("\U0001f621 where is my pizza??")


def test_free_text_with_an_order_in_progress_gets_its_status_every_time(menu, text):
    order = place(text)
    first = text("the driver should ring twice")
    second = text("and bring ketchup")
    for reply in (first, second):
        assert f"Order #{order.number} is in the queue" in reply
    assert "passed your message on" in first
    assert "added that to your message" in second


# --- quotes that cannot be misread ---------------------------------------------------------


def test_a_failed_order_says_the_earlier_quote_still_waits_and_yes_places_that_one(menu, text):
    text("ORDER 1 large pepperoni")
    failed = text("ORDER 1 XL PEP")
    assert "Your earlier order (1x Pepperoni L, $16) still waits: YES places it." in failed
    text("yes")
    item = Order.objects.get().items.get()
    assert (item.name, item.size) == ("Pepperoni", "L")


def test_a_failed_order_without_a_waiting_quote_does_not_mention_one(menu, text):
    assert "earlier order" not in text("ORDER 1 XL PEP")


def test_an_order_with_only_a_choice_is_never_answered_as_unknown_items(menu, text):
    reply = text("can i get a pizza")
    assert "couldn't find" not in reply
    assert "none of that is on the menu" not in reply


# --- money ---------------------------------------------------------------------------------


@pytest.fixture
def shop_money(settings):
    settings.SHOP_TAX_RATE = "0.08875"
    settings.DELIVERY_FEE = "3"
    settings.DELIVERY_MINIMUM = "15"
    settings.DELIVERY_ZIP_CODES = ["10001", "10002"]


def test_the_quote_shows_food_tax_and_total(menu, text, shop_money):
    assert "Total $17.42 (food $16 + tax $1.42), for pickup." in text("ORDER 1 L PEP")


def test_a_delivery_adds_the_fee_and_the_order_keeps_every_amount(menu, text, shop_money):
    reply = text("ORDER 2 L PEP DELIVER TO 12 Main St, New York 10001")
    assert "Total $37.84 (food $32 + tax $2.84 + delivery $3)" in reply
    text("YES")
    order = Order.objects.get()
    assert (order.subtotal, order.tax, order.delivery_fee, order.total) == (
        Decimal("32.00"), Decimal("2.84"), Decimal("3.00"), Decimal("37.84"),
    )  # fmt: skip


def test_a_delivery_outside_the_area_is_told_so_and_offered_pickup(menu, text, shop_money):
    reply = text("ORDER 2 L PEP DELIVER TO 1 Elm St, Hoboken 07030")
    assert "we don't deliver to 07030. We deliver to 10001, 10002." in reply
    assert "pick it up" in reply
    assert not Quote.objects.exists()


def test_a_delivery_address_without_a_zip_code_is_asked_for_one(menu, text, shop_money):
    assert "add your ZIP code" in text("ORDER 2 L PEP DELIVER TO 12 Main St")


def test_a_delivery_below_the_minimum_is_told_the_minimum(menu, text, shop_money):
    reply = text("ORDER 1 COKE DELIVER TO 12 Main St 10001")
    assert "delivery starts at $15 of food (yours is $2.50)" in reply
    assert not Quote.objects.exists()


# --- scheduled orders ----------------------------------------------------------------------


def test_an_order_for_later_is_quoted_placed_and_started_for_that_time(menu, text, at):
    with at(TUESDAY_2PM):
        assert "for pickup at 7:00 PM." in text("order 1 large pepperoni for pickup at 7pm")
        placed = text("YES")
    assert "Ready for pickup at 7:00 PM" in placed
    order = Order.objects.get()
    assert local(order.promised_at).strftime("%H:%M") == "19:00"
    assert local(order.start_at).strftime("%H:%M") == "18:40"


def test_a_delivery_time_is_kept_and_the_kitchen_starts_the_delivery_minutes_before(menu, text, at):
    with at(TUESDAY_2PM):
        text("order 2 large pep deliver at 6:30 to 12 Main St")
        text("YES")
    order = Order.objects.get()
    assert local(order.promised_at).strftime("%H:%M") == "18:30"
    assert local(order.start_at).strftime("%H:%M") == "17:50"


def test_a_time_after_closing_is_moved_to_the_next_time_we_can(menu, text, at):
    with at(TUESDAY_2PM):
        reply = text("order 1 large pepperoni at 11pm")
    assert "at the earliest we can, Wed 11:20 AM" in reply


def test_a_time_already_past_is_the_earliest_we_can(menu, text, at):
    with at(TUESDAY_2PM):
        reply = text("order 1 large pepperoni at 1:30pm")
    assert "at the earliest we can, 2:20 PM" in reply


def test_ordering_ahead_works_while_closed_and_plain_orders_get_the_closed_answer(menu, text, at):
    morning = TUESDAY_2PM.replace(hour=9)
    with at(morning):
        closed = text("ORDER 1 L PEP")
        ahead = text("ORDER 1 L PEP at 7pm")
    assert "we're closed right now. We open at 11:00 AM" in closed
    assert "for pickup at 7:00 PM." in ahead


def test_an_order_placed_for_now_has_no_kitchen_start_time(menu, text):
    assert place(text).start_at is None


# --- texts that fit ------------------------------------------------------------------------


def test_menu_fits_in_three_segments(menu, text):
    assert count_segments(text("MENU")) <= 3


def test_quote_and_confirmation_fit_in_two_segments(menu, text, shop_money):
    quote = text("ORDER 2 L PEP, 1 M MARG with mushrooms, 2 COKE DELIVER TO 12 Main St 10001")
    placed = text("YES")
    assert count_segments(quote) <= 2, quote
    assert count_segments(placed) <= 2, placed


def test_a_question_back_fits_in_two_segments(menu, text):
    assert count_segments(text("I want a pizza")) <= 2


# --- what staff see: the board card and the order admin -------------------------------------


@pytest.fixture
def superuser_client(client, django_user_model):
    client.force_login(
        django_user_model.objects.create(username="maria", is_staff=True, is_superuser=True)
    )
    return client


def test_the_board_card_shows_every_modifier_the_note_and_the_kitchen_start(
    menu, text, at, superuser_client
):
    with at(TUESDAY_2PM):
        text("ORDER 1 large half pepperoni half margherita with mushrooms thin crust at 7pm")
        text("well done")  # free text: not a note on the order
        text("ORDER 1 large pepperoni with extra cheese, well done at 7pm")
        text("YES")
        page = superuser_client.get(reverse("board:panel", args=["orders"])).content.decode()
    assert "with extra cheese" in page
    assert "well done" in page
    assert "Start 6:40 PM · for 7:00 PM" in page


def test_the_board_lists_scheduled_orders_by_when_the_kitchen_starts(menu, text, at):
    from staff.board.panels import order_columns

    with at(TUESDAY_2PM):
        place(text, "ORDER 1 L PEP at 8pm")
        place(text, "ORDER 1 L MARG")
        received = order_columns(TUESDAY_2PM)[0].cards
    assert [c.order.items.get().name for c in received] == ["Margherita", "Pepperoni"]


def test_the_order_admin_shows_modifiers_note_and_money(menu, text, shop_money, superuser_client):
    order = place(text, "ORDER 1 large half pepperoni half margherita with mushrooms thin crust")
    url = reverse("admin:orders_order_change", args=[order.pk])
    page = superuser_client.get(url).content.decode()
    assert "with mushrooms, thin crust" in page
    for label, value in (("Subtotal", "18.00"), ("Tax", "1.60"), ("Total", "19.60")):
        assert label in page and value in page


def test_quote_board_card_and_receipt_read_extra_pepperoni_and_half_and_half_in_words(
    menu, text, superuser_client, client
):
    from orders.links import order_link

    quote = text("1 large pepperoni with pepperoni, 1 medium cheese thin")
    whole = text("1 large half pepperoni half margherita with mushrooms")
    order = place(text, "1 large half pepperoni half margherita, 1 large pepperoni with pepperoni")
    card = superuser_client.get(reverse("board:panel", args=["orders"])).content.decode()
    receipt = client.get(order_link(order)).content.decode()

    assert "1x Pepperoni L with extra pepperoni $" in quote
    assert "1x Cheese M, thin crust $" in quote
    assert "1x half Pepperoni / half Margherita L with mushrooms $" in whole
    for page in (card, receipt):
        assert "half Pepperoni / half Margherita" in page and "with extra pepperoni" in page
        assert "+Pepperoni" not in page and "Pepperoni/Margherita" not in page


def test_a_topping_on_one_half_of_a_half_and_half_is_named_with_that_half():
    from orders.texts import line_words

    line = {
        "quantity": 1, "name": "Pepperoni", "size": "L", "unit_price": "17.25",
        "modifiers": {"half": {"code": "MARG", "name": "Margherita"},
                      "right": [{"code": "MUSH", "name": "Mushrooms"}]},
    }  # fmt: skip

    assert line_words(line) == "1x half Pepperoni / half Margherita with mushrooms L $17.25"
