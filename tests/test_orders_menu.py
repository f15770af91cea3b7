"""The menu's toppings and crusts: read for the parser in fixed queries, priced in quotes."""

from decimal import Decimal

import pytest

from orders import services
from orders.menu import parser_menu
from orders.models import OrderItem
from orders.parser import Line, parse
from tests.factories import (
    CrustFactory,
    CustomerFactory,
    MenuItemFactory,
    MenuPriceFactory,
    ToppingFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pepperoni():
    item = MenuItemFactory(code="PEP", name="Pepperoni")
    for size, price in (("S", "10"), ("M", "13"), ("L", "16")):
        MenuPriceFactory(item=item, size=size, price=Decimal(price))
    return item


def test_a_large_pepperoni_with_two_toppings_is_quoted_with_both_priced(pepperoni):
    ToppingFactory(code="XCH", name="Extra cheese", price_large=Decimal("2.50"))
    ToppingFactory(code="MUSH", name="Mushrooms", aliases="mushroom", price_large=Decimal("2"))
    items = services.menu()
    command = parse("ORDER 1 large pepperoni with extra cheese and mushrooms", parser_menu(items))
    assert command.lines == (Line("PEP", 1, "L", ("XCH", "MUSH")),)
    quote = services.quote_order(CustomerFactory(), command.lines, items)
    assert quote.total == Decimal("20.50")
    assert [t["name"] for t in quote.lines[0]["modifiers"]["toppings"]] == [
        "Extra cheese",
        "Mushrooms",
    ]


def test_a_gluten_free_crust_adds_its_surcharge_and_a_note_is_kept(pepperoni):
    CrustFactory(code="GF", name="Gluten-free", aliases="gluten free", surcharge_medium=3)
    items = services.menu()
    command = parse("1 medium pepperoni gluten free, well done", parser_menu(items))
    quote = services.quote_order(CustomerFactory(), command.lines, items)
    assert quote.total == Decimal("16")
    assert quote.lines[0]["note"] == "well done"
    assert quote.lines[0]["modifiers"]["crust"]["name"] == "Gluten-free"


def test_the_parser_menu_is_read_in_two_queries_whatever_its_size(
    pepperoni, django_assert_num_queries
):
    for _ in range(30):
        ToppingFactory()
        CrustFactory()
    items = services.menu()
    with django_assert_num_queries(2):
        menu = parser_menu(items)
    assert len(menu.toppings) == 30 and len(menu.crusts) == 30


def test_a_topping_staff_made_unavailable_is_not_understood_as_one(pepperoni):
    ToppingFactory(code="OLV", name="Olives", available=False)
    command = parse("1 large pepperoni with olives", parser_menu(services.menu()))
    assert command.unknown == ("olives",)


def test_a_placed_order_keeps_each_lines_toppings_and_kitchen_note(pepperoni, sms):
    ToppingFactory(code="XCH", name="Extra cheese", price_large=Decimal("2.50"))
    sms("+14155550199", "ORDER 1 large pepperoni with extra cheese, well done please")
    sms("+14155550199", "YES")
    item = OrderItem.objects.get()
    assert [t["name"] for t in item.modifiers["toppings"]] == ["Extra cheese"]
    assert item.note == "well done"
    assert item.unit_price == Decimal("18.50")
