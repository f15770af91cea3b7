"""Sold out tonight ("86", orders/soldout.py): through the signed webhook and the worker,
what a customer texting or calling is told once staff mark an item, topping or crust sold
out, and how it comes back by itself at the next opening."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from orders import demo, soldout
from orders.hours import local
from orders.models import Crust, MenuItem, Order, Quote, Topping

ME = "+14155550123"
NY = ZoneInfo("America/New_York")


@pytest.fixture
def menu(db):
    demo.seed(io.StringIO())


def eighty_six(model, code):
    row = model.objects.get(code=code)
    kind = {MenuItem: "item", Topping: "topping", Crust: "crust"}[model]
    return soldout.mark(kind, row.pk, True)


def test_a_quote_with_a_sold_out_topping_is_not_made_and_says_what_we_have_instead(menu, sms):
    eighty_six(Topping, "MUSH")

    (reply,) = sms(ME, "2 large pepperoni with mushrooms").replies

    assert "Sorry, we're out of Mushrooms tonight." in reply
    assert "We do have Extra cheese or Onions" in reply  # its neighbours on the menu
    assert not Quote.objects.filter(state="pending").exists()


@pytest.mark.parametrize(
    ("model", "code", "text", "out", "instead"),
    [
        (MenuItem, "HAW", "a large hawaiian", "Hawaiian", "Margherita or Veggie Supreme"),
        (MenuItem, "COKE", "1 pepperoni and a coke", "Coke", "Sprite"),
        (Crust, "GF", "medium cheese pizza gluten free crust", "Gluten-free", "Thin or Stuffed"),
        (MenuItem, "MARG", "large half pepperoni half margherita", "Margherita", "Cheese or"),
        (Topping, "ONI", "medium cheese pizza half onions half olives", "Onions", "Mushrooms or"),
    ],
)
def test_each_kind_sold_out_is_named_with_what_we_have(menu, sms, model, code, text, out, instead):
    eighty_six(model, code)

    (reply,) = sms(ME, text).replies

    assert f"we're out of {out} tonight" in reply
    assert instead in reply
    assert not Quote.objects.filter(state="pending").exists()


def test_a_quote_waiting_for_yes_is_not_placed_once_its_topping_sold_out(menu, sms):
    sms(ME, "1 medium pepperoni with mushrooms")
    eighty_six(Topping, "MUSH")

    (reply,) = sms(ME, "YES").replies

    assert "we just ran out of Mushrooms, so we did not place that order" in reply
    assert not Order.objects.exists()
    assert not Quote.objects.filter(state="pending").exists()  # a second YES places nothing
    sms(ME, "YES")
    assert not Order.objects.exists()


def test_another_refusal_does_not_say_a_sold_out_quote_still_waits(menu, sms):
    sms(ME, "1 medium pepperoni with mushrooms")
    eighty_six(Topping, "MUSH")

    (reply,) = sms(ME, "2 large hawaiian with mushrooms").replies

    assert "still waits" in reply  # the waiting quote is named: it is not placed as is
    (yes,) = sms(ME, "YES").replies
    assert "we just ran out of Mushrooms" in yes and not Order.objects.exists()


def test_the_menu_text_names_what_is_sold_out(menu, sms):
    eighty_six(MenuItem, "WNG")
    eighty_six(Topping, "JAL")

    (reply,) = sms(ME, "MENU").replies

    assert "Sold out tonight: Chicken Wings (8), Jalapenos" in reply


def test_the_usual_leaves_out_what_is_sold_out_and_says_so(menu, sms):
    sms(ME, "1 large pepperoni with mushrooms and a coke")
    sms(ME, "YES")
    eighty_six(Topping, "MUSH")
    eighty_six(MenuItem, "COKE")

    (reply,) = sms(ME, "the usual").replies

    assert "(Mushrooms, Coke is off the menu today.)" in reply
    [quote] = Quote.objects.filter(state="pending")
    assert [(line["code"], line["modifiers"]) for line in quote.lines] == [("PEP", {})]


def test_a_change_after_yes_is_not_refused_for_what_the_kitchen_already_has(menu, sms):
    sms(ME, "1 medium pepperoni with mushrooms")
    sms(ME, "YES")
    eighty_six(Topping, "MUSH")

    sms(ME, "add a coke")
    (more,) = sms(ME, "make the pepperoni 2").replies  # two of what is out now

    order = Order.objects.get()
    assert sorted(order.items.values_list("name", "quantity")) == [("Coke", 1), ("Pepperoni", 1)]
    assert "we're out of Mushrooms tonight" in more


def test_back_on_sale_sells_it_again(menu, sms):
    row = eighty_six(Topping, "MUSH")
    soldout.mark("topping", row.pk, False)

    (reply,) = sms(ME, "1 medium pepperoni with mushrooms").replies

    assert "with mushrooms" in reply and "YES" in reply


def test_it_comes_back_by_itself_at_the_next_opening(menu, sms, settings):
    settings.SHOP_HOURS = "Mon-Sun 11:00-22:00"
    evening = datetime(2026, 12, 4, 19, 0, tzinfo=NY)
    row = eighty_six_at(Topping, "MUSH", evening)

    assert local(row.sold_out_until) == datetime(2026, 12, 5, 11, 0, tzinfo=NY)
    before_opening = datetime(2026, 12, 5, 9, 0, tzinfo=NY)
    assert soldout.until(before_opening) == datetime(2026, 12, 6, 11, 0, tzinfo=NY)  # that day's
    menu_now = __import__("orders.menu", fromlist=["current"]).current()
    mush = menu_now.modifiers.toppings["MUSH"]
    assert mush.sold_out(datetime(2026, 12, 5, 10, 59, tzinfo=NY))
    assert not mush.sold_out(datetime(2026, 12, 5, 11, 0, tzinfo=NY))


def test_a_shop_open_all_day_gets_it_back_at_midnight(settings, db):
    settings.SHOP_HOURS = "24/7"
    at = datetime(2026, 12, 4, 19, 0, tzinfo=NY)
    assert soldout.until(at) == datetime(2026, 12, 5, 0, 0, tzinfo=NY)


def eighty_six_at(model, code, when):
    row = model.objects.get(code=code)
    kind = {MenuItem: "item", Topping: "topping", Crust: "crust"}[model]
    return soldout.mark(kind, row.pk, True, now=when)


def test_a_sold_out_item_is_refused_when_ordered_by_phone(menu, twilio, settings):
    from django.urls import reverse

    eighty_six(MenuItem, "PEP")
    sid = "CA" + "7" * 32
    twilio.post(reverse("support:voice"), {"CallSid": sid, "From": ME, "CallStatus": "ringing"})
    response = twilio.post(
        reverse("support:menu"),
        {"CallSid": sid, "From": ME, "SpeechResult": "two large pepperoni for pickup",
         "Confidence": "0.9"},
    )  # fmt: skip

    heard = response.content.decode()
    assert (
        "we&#x27;re out of Pepperoni tonight" in heard or "we're out of Pepperoni tonight" in heard
    )
    assert "What would you like instead?" in heard
    assert not Quote.objects.filter(state="pending").exists()


# --- staff: one tap on the board, or the admin's action -------------------------------------


@pytest.fixture
def kitchen(client, django_user_model):
    from django.contrib.auth.models import Group

    from staff.board.access import ensure_groups

    ensure_groups()
    cook = django_user_model.objects.create_user("cook", password="x", is_staff=True)
    cook.groups.add(Group.objects.get(name="Kitchen"))
    client.force_login(cook)
    return client


def test_the_kitchen_marks_a_topping_sold_out_from_the_board_and_back(menu, kitchen, sms):
    from django.urls import reverse

    mush = Topping.objects.get(code="MUSH")
    url = reverse("board:sold-out", args=["topping", mush.pk])

    board = kitchen.get(reverse("board:board")).content.decode()
    response = kitchen.post(url, {"out": "1"}, headers={"HX-Request": "true"})

    assert 'id="tonight"' in board and f'action="{url}"' in board
    assert "Mushrooms is sold out until" in response.content.decode()
    assert "✕ Mushrooms" in response.content.decode()
    assert "we're out of Mushrooms" in sms(ME, "1 medium pepperoni with mushrooms").replies[0]
    kitchen.post(url, {"out": "0"})
    assert "YES" in sms(ME, "1 medium pepperoni with mushrooms").replies[0]


def test_staff_who_may_not_change_the_menu_cannot_mark_it(menu, client, django_user_model):
    from django.urls import reverse

    client.force_login(django_user_model.objects.create_user("temp", is_staff=True))
    mush = Topping.objects.get(code="MUSH")

    response = client.post(reverse("board:sold-out", args=["topping", mush.pk]), {"out": "1"})

    assert response.status_code == 403
    assert Topping.objects.get(code="MUSH").sold_out_until is None


def test_the_admin_marks_items_sold_out_tonight_in_bulk(menu, admin_client):
    from django.urls import reverse

    picked = list(MenuItem.objects.filter(code__in=["HAW", "WNG"]).values_list("pk", flat=True))

    admin_client.post(
        reverse("admin:orders_menuitem_changelist"),
        {"action": "mark_sold_out", "_selected_action": picked},
    )

    assert set(
        MenuItem.objects.filter(sold_out_until__isnull=False).values_list("code", flat=True)
    ) == {"HAW", "WNG"}
    admin_client.post(
        reverse("admin:orders_menuitem_changelist"),
        {"action": "mark_back_on_sale", "_selected_action": picked[:1]},
    )
    assert MenuItem.objects.filter(sold_out_until__isnull=False).count() == 1
