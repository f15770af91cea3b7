"""Honest promised times on a rush, and pausing new orders (orders.billing, orders.shop):
through the signed webhook and the worker, the board's controls, and the phone."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from orders import billing, demo, shop
from orders.hours import local
from orders.models import MenuItem, Order, OrderItem, Quote, Status
from staff.board.access import ensure_groups
from tests.factories import OrderFactory

ME = "+14155550123"


@pytest.fixture
def menu(db, settings):
    demo.seed(io.StringIO())
    settings.KITCHEN_PIZZAS_PER_10_MIN = 8
    settings.ORDER_PICKUP_MINUTES, settings.ORDER_DELIVERY_MINUTES = 20, 40
    shop.forget()


def in_the_kitchen(pizzas, status=Status.PREPARING, **order):
    """An order of `pizzas` large pepperoni the kitchen has to make."""
    placed = OrderFactory(status=status, **order)
    OrderItem.objects.filter(order=placed).update(
        quantity=pizzas, menu_item=MenuItem.objects.get(code="PEP")
    )
    return placed


def minutes_to(order):
    return round((order.promised_at - timezone.now()).total_seconds() / 60)


def test_a_quiet_kitchen_promises_the_usual_time(menu, sms):
    in_the_kitchen(7)  # fewer than the 8 it makes in 10 minutes: the oven has room

    (quote,) = sms(ME, "2 large pepperoni").replies
    sms(ME, "YES")

    assert "Busy kitchen" not in quote
    assert minutes_to(Order.objects.latest("id")) == 20


def test_on_a_rush_the_quote_the_confirmation_the_page_and_status_say_the_later_time(
    menu, sms, client
):
    in_the_kitchen(10, Status.RECEIVED)
    in_the_kitchen(6, Status.BAKING)  # 16 pizzas: two batches of 8, 20 minutes more
    in_the_kitchen(30, Status.READY_FOR_PICKUP)  # done: not the kitchen's any more

    (quote,) = sms(ME, "2 large pepperoni").replies
    (placed,) = sms(ME, "YES").replies
    order = Order.objects.latest("id")
    (status,) = sms(ME, "STATUS").replies
    ready = local(order.promised_at).strftime("%-I:%M %p")

    assert "Busy kitchen: about 40 min." in quote
    assert minutes_to(order) == 40
    assert ready in placed and ready in status
    from orders.links import order_link

    assert ready in client.get(order_link(order)).content.decode()


def test_orders_scheduled_to_start_later_do_not_load_the_kitchen_now(menu):
    in_the_kitchen(40, start_at=timezone.now() + timedelta(hours=2))
    assert billing.kitchen_queue() == 0 and billing.busy_minutes() == 0


def test_the_wait_question_tells_the_loaded_time(menu, sms):
    in_the_kitchen(24)  # three batches: 30 minutes more
    (reply,) = sms(ME, "how long is the wait").replies
    assert "pickup in about 50 minutes, delivery in about 70 minutes" in reply


@pytest.fixture
def cook(client, django_user_model):
    ensure_groups()
    user = django_user_model.objects.create_user("cook", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Kitchen"))
    client.force_login(user)
    return client


HTMX = {"HX-Request": "true"}


def test_the_kitchen_sets_its_pace_on_the_board_and_the_promise_follows(menu, cook, sms):
    in_the_kitchen(8)
    board = cook.get(reverse("board:board")).content.decode()

    response = cook.post(reverse("board:kitchen-pace"), {"pace": "4"}, headers=HTMX)
    sms(ME, "1 large pepperoni")
    sms(ME, "YES")

    assert "8</b> pizzas waiting or in the oven" in board
    assert "new orders promised <b>10 min later</b>" in board
    assert "Kitchen pace: 4 pizzas per 10 minutes." in response.content.decode()
    assert "new orders promised <b>20 min later</b>" in response.content.decode()
    assert minutes_to(Order.objects.latest("id")) == 40
    bad = cook.post(reverse("board:kitchen-pace"), {"pace": "lots"}, headers=HTMX)
    assert "a number from 0 to 500" in bad.content.decode() and shop.kitchen_pace() == 4


def test_paused_orders_are_told_when_we_take_them_again_and_may_order_for_later(
    menu, cook, sms, monkeypatch, two_pm
):
    sms(ME, "1 large pepperoni")  # quoted before the pause
    response = cook.post(reverse("board:pause"), {"minutes": "30"}, headers=HTMX)
    until = shop.paused_until(timezone.now())

    (yes,) = sms(ME, "YES").replies
    (order,) = sms("+14155550124", "2 large pepperoni").replies
    later = (local(until) + timedelta(minutes=30)).strftime("%-I:%M%p").lower()
    (ahead,) = sms("+14155550125", f"2 large pepperoni for pickup at {later}").replies

    assert "New orders paused until" in response.content.decode()
    assert "Take orders again" in response.content.decode()
    told = f"we take new orders again at {local(until).strftime('%-I:%M %p')}"
    assert told in yes and told in order
    assert "You can order for later now" in order
    assert not Order.objects.exists()
    assert ahead.startswith("Your order:")  # for after the pause: quoted
    # It ends by itself.
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=31))
    (after,) = sms("+14155550126", "1 large pepperoni").replies
    assert after.startswith("Your order:")


def test_staff_take_orders_again_before_the_pause_ends(menu, cook, sms):
    cook.post(reverse("board:pause"), {"minutes": "60"})
    response = cook.post(reverse("board:pause"), {"minutes": "0"}, headers=HTMX)

    assert "Taking new orders again." in response.content.decode()
    assert sms(ME, "1 large pepperoni").replies[0].startswith("Your order:")
    assert cook.post(reverse("board:pause"), {"minutes": "45"}).status_code == 302
    assert shop.paused_until(timezone.now()) is None  # only 15, 30 or 60


def test_a_caller_ordering_during_a_pause_hears_it(menu, twilio):
    shop.save(paused_until=timezone.now() + timedelta(minutes=15))
    sid = "CA" + "9" * 32
    twilio.post(reverse("support:voice"), {"CallSid": sid, "From": ME, "CallStatus": "ringing"})

    heard = twilio.post(
        reverse("support:menu"),
        {"CallSid": sid, "From": ME, "SpeechResult": "one large pepperoni", "Confidence": "0.9"},
    ).content.decode()

    assert "our kitchen is full right now: we take new orders again at" in heard
    assert not Quote.objects.exists()
