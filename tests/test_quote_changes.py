"""A waiting quote changed in words, by text and by phone (orders/edits.py): what customers
write after "1x Pepperoni M $13 ... Reply YES", through the signed webhook and the worker,
and the whole new quote they get back. YES places exactly the last quote shown."""

import io

import pytest

from orders import demo
from orders.hours import local
from orders.models import Order, Quote

ONE = "1 medium pepperoni"
TWO = "1 medium pepperoni and a coke"
PIZZAS = "1 large pepperoni and 1 medium margherita"
ONIONS = "1 medium pepperoni with onions"
DELIVERED = "1 medium pepperoni delivered to 12 Main St"

# (the order, the change, the waiting quote after it, as "2x PEP M +XCH /THIN; 1x COKE"
# with " @address" for a delivery and " at 19:30" for a time)
CHANGES = [
    (ONE, "can you make that 2", "2x PEP M"),
    (ONE, "make it 2", "2x PEP M"),
    (ONE, "make it two", "2x PEP M"),
    (ONE, "make that 3 please", "3x PEP M"),
    (ONE, "change it to 2", "2x PEP M"),
    (ONE, "actually make it 2", "2x PEP M"),
    (ONE, "que sean 2", "2x PEP M"),
    (ONE, "hazlas 2", "2x PEP M"),
    (TWO, "make the pepperoni 2", "2x PEP M; 1x COKE"),
    (TWO, "make the coke 3", "1x PEP M; 3x COKE"),
    (PIZZAS, "make the margherita 2", "1x PEP L; 2x MARG M"),
    (ONE, "oh and garlic bread", "1x PEP M; 1x GBR"),
    (ONE, "add a sprite", "1x PEP M; 1x SPR"),
    (ONE, "and a coke", "1x PEP M; 1x COKE"),
    (ONE, "also 2 cokes", "1x PEP M; 2x COKE"),
    (ONE, "plus wings", "1x PEP M; 1x WNG"),
    (ONE, "add garlic bread and a coke", "1x PEP M; 1x GBR; 1x COKE"),
    (ONE, "y una coca", "1x PEP M; 1x COKE"),
    (ONE, "agrega un pan de ajo", "1x PEP M; 1x GBR"),
    (ONE, "también unas alitas", "1x PEP M; 1x WNG"),
    (TWO, "and another coke", "1x PEP M; 2x COKE"),
    (TWO, "y otra coca", "1x PEP M; 2x COKE"),
    (ONE, "make the pepperoni thin crust", "1x PEP M /THIN"),
    (ONE, "thin crust", "1x PEP M /THIN"),
    (ONE, "make it thin crust", "1x PEP M /THIN"),
    (ONE, "with extra cheese", "1x PEP M +XCH"),
    (ONE, "add extra cheese", "1x PEP M +XCH"),
    (ONE, "with mushrooms", "1x PEP M +MUSH"),
    (ONE, "add mushrooms and onions", "1x PEP M +MUSH +ONI"),
    (ONE, "make it large", "1x PEP L"),
    (ONE, "no, large", "1x PEP L"),
    (ONE, "no, make it 3", "3x PEP M"),
    (ONE, "no, for 8 pm", "1x PEP M at 20:00"),
    (ONE, "add a coke, and garlic bread", "1x PEP M; 1x COKE; 1x GBR"),
    (ONE, "large instead", "1x PEP L"),
    (ONE, "make it a large", "1x PEP L"),
    (ONE, "small", "1x PEP S"),
    (ONE, "cámbiala a grande", "1x PEP L"),
    (ONE, "mejor grande", "1x PEP L"),
    (ONE, "con champiñones", "1x PEP M +MUSH"),
    (ONE, "masa delgada", "1x PEP M /THIN"),
    (ONE, "gluten free crust", "1x PEP M /GF"),
    (ONE, "stuffed crust please", "1x PEP M /STUF"),
    (PIZZAS, "make the margherita large", "1x PEP L; 1x MARG L"),
    (PIZZAS, "make the pepperoni thin crust", "1x PEP L /THIN; 1x MARG M"),
    (TWO, "no drink", "1x PEP M"),
    (TWO, "no coke", "1x PEP M"),
    (TWO, "remove the coke", "1x PEP M"),
    (TWO, "take off the coke", "1x PEP M"),
    (TWO, "without the coke", "1x PEP M"),
    (TWO, "sin la coca", "1x PEP M"),
    (TWO, "quita la coca", "1x PEP M"),
    (TWO, "no drinks please", "1x PEP M"),
    (ONIONS, "no onions", "1x PEP M"),
    (ONIONS, "sin cebolla", "1x PEP M"),
    ("1 medium pepperoni with onions and mushrooms", "no mushrooms", "1x PEP M +ONI"),
    (PIZZAS, "remove the margherita", "1x PEP L"),
    (ONE, "switch it to delivery to 4 Pine St", "1x PEP M @4 Pine St"),
    (ONE, "delivery to 12 Main St", "1x PEP M @12 Main St"),
    (ONE, "deliver it to 7 Elm Road", "1x PEP M @7 Elm Road"),
    (ONE, "a domicilio en Calle Luna 5", "1x PEP M @Calle Luna 5"),
    (DELIVERED, "make it pickup", "1x PEP M"),
    (DELIVERED, "pick up instead", "1x PEP M"),
    (DELIVERED, "para recoger", "1x PEP M"),
    (ONE, "actually for 7:30", "1x PEP M at 19:30"),
    (ONE, "at 8 pm instead", "1x PEP M at 20:00"),
    (ONE, "for 6:45 pm", "1x PEP M at 18:45"),
    (ONE, "mejor a las 8", "1x PEP M at 20:00"),
    (ONE, "a las 7:30", "1x PEP M at 19:30"),
]

# (the order, the change, words of the reply: asked back, never a guess)
ASKED = [
    (PIZZAS, "make it 2", "Which one should we change: Pepperoni, Margherita?"),
    (PIZZAS, "with extra cheese", "Which one should we change: Pepperoni, Margherita?"),
    (TWO, "que sean 3", "¿Cual cambiamos: Pepperoni, Coke?"),  # GSM-7 has no á
]

# Texts that are no change: the conversation answers them as before.
NOT_CHANGES = [
    (ONE, "2 large margherita", "2x MARG L"),  # a new order replaces the quote, as always
    (ONE, "thanks", "1x PEP M"),
    (ONE, "what time do you close", "1x PEP M"),
    (ONE, "MENU", "1x PEP M"),
]


@pytest.fixture
def menu(db, two_pm):
    demo.seed(io.StringIO())  # at 2 PM: the times the table asks for are ahead of the clock


def waiting(number):
    quote = Quote.objects.filter(customer__phone=number, state="pending").order_by("-id").first()
    if quote is None:
        return None
    parts = []
    for line in quote.lines:
        modifiers = line.get("modifiers") or {}
        toppings = "".join(f" +{t['code']}" for t in modifiers.get("toppings", []))
        crust = f" /{modifiers['crust']['code']}" if modifiers.get("crust") else ""
        size = f" {line['size']}" if line.get("size") else ""
        parts.append(f"{line['quantity']}x {line['code']}{size}{toppings}{crust}")
    where = f" @{quote.address}" if quote.address else ""
    when = f" at {local(quote.scheduled_for):%H:%M}" if quote.scheduled_for else ""
    return "; ".join(parts) + where + when


@pytest.mark.parametrize(("order", "change", "after"), CHANGES + NOT_CHANGES)
def test_a_change_in_words_gives_the_whole_new_quote(menu, sms, order, change, after):
    number = "+14155550123"
    sms(number, order)

    reply = sms(number, change)

    assert waiting(number) == after
    if (order, change, after) in CHANGES:
        (text,) = reply.replies
        assert text.startswith(("Your order:", "Tu pedido:")), text
        assert "YES" in text or "SI" in text


@pytest.mark.parametrize(("order", "change", "asked"), ASKED)
def test_a_change_that_fits_several_lines_is_asked_back(menu, sms, order, change, asked):
    number = "+14155550123"
    sms(number, order)
    before = waiting(number)

    (text,) = sms(number, change).replies

    assert asked in text
    assert waiting(number) == before  # unchanged until they say which


def test_yes_places_exactly_the_last_quote_shown(menu, sms):
    number = "+14155550123"
    sms(number, ONE)
    sms(number, "make it 2")
    sms(number, "with extra cheese")
    sms(number, "oh and a coke")

    sms(number, "YES")

    order = Order.objects.get()
    lines = [(i.quantity, i.name, i.size) for i in order.items.all()]
    assert lines == [(2, "Pepperoni", "M"), (1, "Coke", "")]
    assert order.items.get(name="Pepperoni").modifiers["toppings"][0]["code"] == "XCH"


def test_the_table_is_as_long_as_the_issue_asks():
    assert len(CHANGES) + len(ASKED) >= 60


# --- after YES ------------------------------------------------------------------------------


def placed(sms, number="+14155550123", order=TWO):
    sms(number, order)
    sms(number, "YES")
    return Order.objects.get()


def test_a_change_to_an_order_not_started_is_made_and_the_new_total_given(menu, sms, admin_client):
    from django.urls import reverse

    order = placed(sms)

    (text,) = sms("+14155550123", "oh and garlic bread").replies

    assert text.startswith(f"Done: order #{order.number} is now")
    assert "1x Garlic Bread $5" in text and "New total $" in text
    order.refresh_from_db()
    assert sorted(i.name for i in order.items.all()) == ["Coke", "Garlic Bread", "Pepperoni"]
    assert order.total > order.subtotal - 1 and str(order.total) in text.replace("$", "")
    assert order.events.filter(kind="changed").exists()
    board = admin_client.get(reverse("board:panel", args=["orders"])).content.decode()
    assert "Changed by the customer" in board and "Garlic Bread" in board


def test_a_change_once_the_kitchen_started_is_refused_with_the_shops_number(menu, sms):
    from orders import services
    from orders.models import Status

    order = placed(sms)
    services.advance_order(order, Status.PREPARING)
    services.advance_order(order, Status.BAKING, notify=False)

    (text,) = sms("+14155550123", "no drink").replies

    assert f"Order #{order.number} is already in the oven, so it can't be changed" in text
    assert "Call us at" in text
    assert order.items.count() == 2


def test_a_question_after_ordering_is_not_taken_for_a_change(menu, sms):
    order = placed(sms)
    (text,) = sms("+14155550123", "where is my pizza").replies
    assert "Done:" not in text
    assert order.items.count() == 2


def test_a_change_to_a_quote_with_an_item_taken_off_the_menu_since_names_it(menu, sms):
    from orders.models import MenuItem

    number = "+14155550123"
    sms(number, TWO)
    coke = MenuItem.objects.get(code="COKE")
    coke.available = False
    coke.save()  # staff take it off in the admin

    (text,) = sms(number, "make the pepperoni 2").replies

    assert waiting(number) == "2x PEP M"  # the change made, what left the menu named
    assert 'Left out: "Coke" (not on our menu).' in text
