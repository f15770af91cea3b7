"""The menu's toppings and crusts: read for the parser in fixed queries, priced in quotes."""

from decimal import Decimal

import pytest

from orders import services
from orders.menu import menu_changed
from orders.models import MenuPrice, MenuVersion, OrderItem
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
    menu = services.menu()
    command = parse("ORDER 1 large pepperoni with extra cheese and mushrooms", menu.index)
    assert command.lines == (Line("PEP", 1, "L", ("XCH", "MUSH")),)
    quote = services.quote_order(CustomerFactory(), command.lines, menu)
    assert quote.total == Decimal("20.50")
    assert [t["name"] for t in quote.lines[0]["modifiers"]["toppings"]] == [
        "Extra cheese",
        "Mushrooms",
    ]


def test_a_gluten_free_crust_adds_its_surcharge_and_a_note_is_kept(pepperoni):
    CrustFactory(code="GF", name="Gluten-free", aliases="gluten free", surcharge_medium=3)
    menu = services.menu()
    command = parse("1 medium pepperoni gluten free, well done", menu.index)
    quote = services.quote_order(CustomerFactory(), command.lines, menu)
    assert quote.total == Decimal("16")
    assert quote.lines[0]["note"] == "well done"
    assert quote.lines[0]["modifiers"]["crust"]["name"] == "Gluten-free"


def test_the_menu_is_read_in_six_queries_whatever_its_size_then_one_while_unchanged(
    pepperoni, django_assert_num_queries
):
    for _ in range(30):
        ToppingFactory()
        CrustFactory()
    with django_assert_num_queries(6):  # the version, prices, items, toppings, crusts, deals
        menu = services.menu()
    assert len(menu.parser.toppings) == 30 and len(menu.parser.crusts) == 30
    with django_assert_num_queries(1):  # the version
        assert services.menu() is menu


def test_a_topping_staff_made_unavailable_is_not_understood_as_one(pepperoni):
    ToppingFactory(code="OLV", name="Olives", available=False)
    command = parse("1 large pepperoni with olives", services.menu().index)
    assert command.unknown == ("olives",)


def test_a_placed_order_keeps_each_lines_toppings_and_kitchen_note(pepperoni, sms):
    ToppingFactory(code="XCH", name="Extra cheese", price_large=Decimal("2.50"))
    sms("+14155550199", "ORDER 1 large pepperoni with extra cheese, well done please")
    sms("+14155550199", "YES")
    item = OrderItem.objects.get()
    assert [t["name"] for t in item.modifiers["toppings"]] == ["Extra cheese"]
    assert item.note == "well done"
    assert item.unit_price == Decimal("18.50")


# --- staff edits reach the next text, in every process ---------------------------------------

ALICE = "+14155550199"


def reply(sms, body):
    replies = sms(ALICE, body).replies
    assert len(replies) == 1, replies
    return replies[0]


def test_a_price_staff_change_in_the_admin_is_in_the_next_menu_and_quote(
    pepperoni, sms, admin_client
):
    assert "PEP Pepperoni $10/13/16" in reply(sms, "MENU")
    prices = list(pepperoni.prices.order_by("id"))
    form = {
        "code": "PEP", "name": "Pepperoni", "category": "pizza", "aliases": "",
        "available": "on", "position": "0",
        "prices-TOTAL_FORMS": "3", "prices-INITIAL_FORMS": "3",
        "prices-MIN_NUM_FORMS": "0", "prices-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for n, price in enumerate(prices):
        new = "17.50" if price.size == "L" else str(price.price)
        form |= {
            f"prices-{n}-id": str(price.pk), f"prices-{n}-item": str(pepperoni.pk),
            f"prices-{n}-size": price.size, f"prices-{n}-price": new,
        }  # fmt: skip
    response = admin_client.post(f"/admin/orders/menuitem/{pepperoni.pk}/change/", form)
    assert response.status_code == 302, response.content
    assert "PEP Pepperoni $10/13/17.50" in reply(sms, "MENU")
    assert "1x Pepperoni L $17.50" in reply(sms, "ORDER 1 large pepperoni")


def test_toppings_and_items_staff_change_are_in_the_next_quote(pepperoni, sms):
    cheese = ToppingFactory(code="XCH", name="Extra cheese", price_large=Decimal("2"))
    assert "with extra cheese $18" in reply(sms, "ORDER 1 large pepperoni with extra cheese")
    cheese.price_large = Decimal("3")
    cheese.save()
    assert "with extra cheese $19" in reply(sms, "ORDER 1 large pepperoni with extra cheese")
    pepperoni.available = False
    pepperoni.save()
    assert "PEP Pepperoni" not in reply(sms, "MENU")
    MenuItemFactory(code="PEP2", name="Pepperoni 2").prices.create(size="", price=Decimal("9"))
    assert "PEP2 Pepperoni 2 $9" in reply(sms, "MENU")


def test_another_process_edit_is_seen_through_the_menu_version(pepperoni, sms):
    """This process keeps its menu while the version row is unchanged: a write another
    process made (here: rows changed without this process's signals, then the version
    that process's menu_changed wrote) is read at the next text."""
    assert "PEP Pepperoni $10/13/16" in reply(sms, "MENU")
    MenuPrice.objects.filter(item=pepperoni, size="L").update(price=Decimal("21"))
    assert "PEP Pepperoni $10/13/16" in reply(sms, "MENU")  # no new version yet: kept
    MenuVersion.objects.filter(pk=1).update(token="written-by-another-process")
    assert "PEP Pepperoni $10/13/21" in reply(sms, "MENU")
    assert "1x Pepperoni L $21" in reply(sms, "ORDER 1 large pepperoni")


def test_the_version_row_is_made_again_after_a_flush(pepperoni):
    MenuVersion.objects.all().delete()
    menu_changed()
    assert len(MenuVersion.objects.get(pk=1).token) == 32
