"""Drivers (orders/drivers.py): picked on the board when a delivery goes out, texted its
details, DONE 1042 from their phone marks it delivered; the customer reads who is coming;
the reports count each driver's deliveries and time on the road."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import demo, services
from orders.links import order_link
from orders.models import Driver, OrderEvent
from orders.models import Status as S
from telephony.models import Message
from tests.factories import OrderFactory

CUSTOMER = "+14155550123"
MARIA = "+14155550177"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(db, settings):
    demo.seed(io.StringIO())
    settings.ORDER_SMS_STAGES = ["out_for_delivery", "delivered"]
    return Driver.objects.create(name="Maria", phone=MARIA)


def ready_to_go(**fields):
    return OrderFactory(
        customer__phone=CUSTOMER, status=S.QUALITY_CHECK, fulfilment="delivery",
        address="12 Main St, 10001", **fields,
    )  # fmt: skip


def texts_to(phone):
    return list(Message.objects.filter(to_number=phone).values_list("body", flat=True))


def test_the_card_asks_which_driver_and_the_driver_is_texted_the_run(
    shop, admin_client, outbox, django_capture_on_commit_callbacks
):
    order = ready_to_go()
    card = admin_client.get(reverse("board:panel", args=["orders"])).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        refused = admin_client.post(
            reverse("board:move", args=[order.pk]), {"to": S.OUT_FOR_DELIVERY}, headers=HTMX
        )
        moved = admin_client.post(
            reverse("board:move", args=[order.pk]),
            {"to": S.OUT_FOR_DELIVERY, "driver": shop.pk}, headers=HTMX,
        )  # fmt: skip

    assert f'<option value="{shop.pk}">Maria</option>' in card
    assert "Pick the driver taking it." in refused.content.decode()
    assert "12 Main St, 10001 · <b>Maria</b>" in moved.content.decode()
    order.refresh_from_db()
    assert (order.status, order.driver) == (S.OUT_FOR_DELIVERY, shop)
    [run] = texts_to(MARIA)
    assert run.startswith(
        f"Order #{order.number} to deliver:\n1x Pepperoni L\nTo: 12 Main St, 10001"
    )
    assert "Map: https://www.google.com/maps/search/?api=1&query=12+Main+St%2C+10001" in run
    assert "Customer: (415) 555-0123" in run and f"Text DONE {order.number}" in run
    [told] = texts_to(CUSTOMER)
    assert told.startswith(f"Maria is on the way with order #{order.number}!")


def test_the_customers_page_says_who_is_coming(shop, client):
    order = ready_to_go()
    services.advance_order(order, S.OUT_FOR_DELIVERY, driver=shop)

    page = client.get(order_link(order)).content.decode()

    assert "Maria is on the way." in page


def test_done_from_the_drivers_phone_marks_it_delivered(shop, sms):
    order = ready_to_go()
    services.advance_order(order, S.OUT_FOR_DELIVERY, driver=shop)

    (reply,) = sms(MARIA, f"DONE {order.number}").replies
    (again,) = sms(MARIA, f"done #{order.number}").replies

    order.refresh_from_db()
    assert order.status == S.DELIVERED
    assert reply == f"Thanks Maria: order #{order.number} is marked delivered."
    assert "already marked delivered" in again
    assert OrderEvent.objects.filter(order=order, to_status=S.DELIVERED).count() == 1
    assert any("delivered" in body.lower() for body in texts_to(CUSTOMER))


def test_entregado_works_too(shop, sms):
    order = ready_to_go()
    services.advance_order(order, S.OUT_FOR_DELIVERY, driver=shop)
    sms(MARIA, f"ENTREGADO {order.number}")
    order.refresh_from_db()
    assert order.status == S.DELIVERED


def test_done_from_another_phone_or_for_another_drivers_order_changes_nothing(shop, sms):
    order = ready_to_go()
    luis = Driver.objects.create(name="Luis", phone="+14155550178")
    services.advance_order(order, S.OUT_FOR_DELIVERY, driver=shop)

    (stranger,) = sms("+14155550199", f"DONE {order.number}").replies
    (other,) = sms(luis.phone, f"DONE {order.number}").replies
    (wrong,) = sms(MARIA, "DONE 99999").replies

    order.refresh_from_db()
    assert order.status == S.OUT_FOR_DELIVERY
    assert "Thanks Maria" not in stranger and "marked delivered" not in stranger
    assert other == f"Order #{order.number} is not one of your deliveries, Luis. Check the number."
    assert "99999 is not one of your deliveries" in wrong


def test_with_no_driver_on_shift_an_order_goes_out_as_before(shop, admin_client):
    Driver.objects.update(on_shift=False)
    order = ready_to_go()

    admin_client.post(reverse("board:move", args=[order.pk]), {"to": S.OUT_FOR_DELIVERY})

    order.refresh_from_db()
    assert order.status == S.OUT_FOR_DELIVERY and order.driver is None


def test_the_reports_show_deliveries_and_time_on_the_road_per_driver(shop, admin_client):
    for minutes in (20, 30):
        order = ready_to_go()
        services.advance_order(order, S.OUT_FOR_DELIVERY, driver=shop)
        services.advance_order(order, S.DELIVERED)
        left = OrderEvent.objects.get(order=order, to_status=S.OUT_FOR_DELIVERY)
        OrderEvent.objects.filter(pk=left.pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes)
        )

    page = admin_client.get(reverse("reports:day")).content.decode()

    assert "<td>Maria</td><td>2</td><td>25.0 min</td>" in page
