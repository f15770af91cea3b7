"""Reading what customers text: keywords and order lines, as a table; and no text breaks it."""

import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders import demo
from orders.conversation import handle_customer_sms
from orders.parser import Line, MenuEntry, parse
from telephony.models import Message

MENU = [
    MenuEntry("PEP", "Pepperoni", True, ("pepperoni pizza",)),
    MenuEntry("MARG", "Margherita", True, ("margarita",)),
    MenuEntry("HAW", "Hawaiian", True),
    MenuEntry("VEG", "Veggie Supreme", True, ("veggie",)),
    MenuEntry("FCH", "Four Cheese", True, ("cheese",)),
    MenuEntry("GBR", "Garlic Bread", False),
    MenuEntry("WNG", "Chicken Wings (8)", False, ("wings",)),
    MenuEntry("COKE", "Coke", False, ("coca cola",)),
]

ORDERS = [
    ("ORDER 2 large pepperoni, 1 M MARG", [Line("PEP", 2, "L"), Line("MARG", 1, "M")]),
    ("order a large pepperoni and 2 garlic bread", [Line("PEP", 1, "L"), Line("GBR", 2)]),
    ("Order two medium margheritas & 3 cokes", [Line("MARG", 2, "M"), Line("COKE", 3)]),
    ("order 2 pep 1 coke", [Line("PEP", 2), Line("COKE", 1)]),
    ("ORDER pep x2", [Line("PEP", 2)]),
    ("order 1 L peperoni", [Line("PEP", 1, "L")]),  # typo
    ("order 1 large margarita pizza", [Line("MARG", 1, "L")]),
    ("order 1 sm hawaiin", [Line("HAW", 1, "S")]),  # typo
    ("order three small veggie pizzas", [Line("VEG", 3, "S")]),
    ("order one large cheese pizza please", [Line("FCH", 1, "L")]),
    ("ORDER 1 L PEP, 1 l pep", [Line("PEP", 2, "L")]),  # the same line twice adds up
    ("order 2 large coke", [Line("COKE", 2)]),  # no sizes for drinks: ignored
    ("order wings", [Line("WNG", 1)]),
    ("order 1 garlic bred", [Line("GBR", 1)]),
    ("oder 1 pep", [Line("PEP", 1)]),  # near-miss of the keyword
    ("2 large pep", [Line("PEP", 2, "L")]),  # no keyword, but only menu items
    ("\U0001f355 1 L PEP", [Line("PEP", 1, "L")]),
]


@pytest.mark.parametrize("text, lines", ORDERS, ids=[t for t, _ in ORDERS])
def test_order_lines_are_read_from_what_customers_write(text, lines):
    command = parse(text, MENU)
    assert command.kind == "order"
    assert list(command.lines) == lines
    assert command.unknown == ()


KEYWORDS = [
    ("MENU", "menu"), ("menu?", "menu"), ("what's on the menu", "menu"), ("Menu please", "menu"),
    ("YES", "yes"), ("yes!", "yes"), ("Y", "yes"), ("yep", "yes"), ("ok", "yes"),
    ("no", "no"), ("nope", "no"),
    ("STATUS", "status"), ("status??", "status"), ("STAUTS", "status"), ("statsu", "status"),
    ("order status", "status"), ("where is my order", "status"),
    ("HELP", "help"), ("help me", "help"), ("hlep", "help"),
    ("CANCEL ORDER", "cancel"), ("cancel my order", "cancel"),
    ("Cancel the order please", "cancel"),
    ("cancle order", "suggest"), ("cancel my pizza", "suggest"), ("yse", "suggest"),
    ("ORDER", "reorder"), ("order!", "reorder"), ("\U0001f355", "reorder"), ("oder", "reorder"),
    ("reorder", "reorder"),
    ("where is my driver??", "chat"), ("hello", "chat"), ("", "chat"), ("!!!", "chat"),
    ("my order was cold", "chat"), ("order was cold and very late", "chat"),
    ("asdfghjkl", "chat"), ("12345", "chat"), ("thanks, it was delicious", "chat"),
]  # fmt: skip


@pytest.mark.parametrize("text, kind", KEYWORDS, ids=[repr(t) for t, _ in KEYWORDS])
def test_keywords_ignore_case_spaces_and_punctuation_and_small_typos(text, kind):
    assert parse(text, MENU).kind == kind


def test_near_misses_say_which_keyword_was_meant():
    assert parse("cancle order", MENU).suggestion == "CANCEL ORDER"
    assert parse("yse", MENU).suggestion == "YES"


@pytest.mark.parametrize(
    "text, unknown",
    [
        ("ORDER 1 calzone, 2 pep", ("calzone",)),
        ("order 2 large sushi", ("sushi",)),
        ("order 1 pep and a unicorn", ("unicorn",)),
    ],
)
def test_unknown_items_are_named(text, unknown):
    command = parse(text, MENU)
    assert command.kind == "order"
    assert command.unknown == unknown


@pytest.mark.parametrize(
    "text, address",
    [
        ("ORDER 1 L PEP DELIVER TO 12 Main St", "12 Main St"),
        ("order 2 pep, deliver to: 5 Elm Road, Apt 2.", "5 Elm Road, Apt 2"),
        ("order 1 coke delivery to 1 Oak Ave", "1 Oak Ave"),
        ("order 1 pep for delivery", "?"),  # delivery without an address: we ask for it
        ("order 1 pep", ""),
    ],
)
def test_deliver_to_gives_the_address(text, address):
    command = parse(text, MENU)
    assert command.address == address
    assert command.lines[0].code in ("PEP", "COKE")


def test_more_than_25_of_one_item_is_flagged():
    command = parse("order 30 pep, 1 coke", MENU)
    assert command.too_many == ("Pepperoni",)
    assert command.lines == (Line("COKE", 1),)


def test_the_menu_is_only_loaded_for_texts_about_items():
    def menu_loader():
        raise AssertionError("menu loaded")

    assert parse("STATUS", menu_loader).kind == "status"
    assert parse("where is my driver", menu_loader).kind == "chat"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_no_text_makes_the_parser_raise(text):
    command = parse(text, MENU)
    assert command.kind in {
        "menu", "order", "reorder", "yes", "no", "status", "cancel", "help", "suggest", "chat",
    }  # fmt: skip


WORDS = st.sampled_from(
    ["order", "ORDER", "pep", "large", "2", "two", "and", ",", "deliver", "to", "menu", "yes",
     "cancel", "status", "\U0001f355", "x3", "garlic", "bread", "99", "l", "m", "s", "12 Main St"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(WORDS, max_size=12).map(" ".join))
def test_no_mix_of_keywords_and_items_makes_the_parser_raise(text):
    command = parse(text, MENU)
    assert all(1 <= line.quantity <= 25 for line in command.lines)


@pytest.fixture
def demo_menu(db):
    """The demo menu, seeded once for all the examples of a property test."""
    demo.seed(io.StringIO())


# The menu fixture is seeded once per test, not per example, on purpose: each example
# rolls back what it wrote (the customer, a quote), so every one starts from the menu alone.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(st.text(max_size=200), st.lists(WORDS, max_size=10).map(" ".join)))
def test_no_text_makes_the_handler_raise_or_reply_too_long(demo_menu, body):
    with transaction.atomic():
        message = Message.objects.create(
            direction="in", from_number="+14155550100", to_number="+15005550006", body=body,
            status="received",
        )  # fmt: skip
        reply = handle_customer_sms(message)
        transaction.set_rollback(True)
    assert isinstance(reply, str)
    assert len(reply) <= 1600
