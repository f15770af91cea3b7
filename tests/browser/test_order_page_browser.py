"""The customer's order page, the shop's home page and the staff board in a real browser, on a
phone (390 px) and a laptop (1280 px): nothing wider than the screen, the stage moves by itself,
the page still shows the stage with JavaScript off, and no CSP violation. Screenshots go to
test-artifacts/, and to docs/ with UPDATE_SCREENSHOTS=1 (the README shows them)."""

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from orders import pages
from orders.models import Fulfilment, OrderItem
from orders.models import Status as S
from orders.services import advance_order
from tests.factories import CustomerFactory, OrderFactory

from .test_board_browser import PASSWORD, an_evening, front_desk
from .test_csp_browser import violations  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
DOCS = Path(__file__).resolve().parents[2] / "docs"


def overflow(page):
    """How many pixels the page is wider than the screen (0: nothing to scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def keep(path, name):
    """Copy a test-artifacts screenshot into docs/ when asked (UPDATE_SCREENSHOTS=1), so an
    ordinary run leaves the checkout clean."""
    if os.environ.get("UPDATE_SCREENSHOTS"):
        shutil.copyfile(path, DOCS / f"{name}.png")


def an_order():
    order = OrderFactory(
        customer=CustomerFactory(phone="+14155550199", name="Ana"),
        fulfilment=Fulfilment.DELIVERY,
        address="1234 Extraordinarily-Long-Boulevard-Name Northeast, Apartment 5B, Springfield",
        subtotal=Decimal("41.50"),
        tax=Decimal("3.68"),
        delivery_fee=Decimal("3.00"),
        total=Decimal("48.18"),  # the factory's 1x Pepperoni L $16, and the lines below
    )
    OrderItem.objects.create(
        order=order, name="Pepperoni", size="L", quantity=1, unit_price=Decimal("20.50"),
        modifiers={
            "toppings": [{"code": "MUSH", "name": "Mushrooms", "price": "2"},
                         {"code": "XCH", "name": "Extra cheese", "price": "2.50"}],
            "crust": {"code": "STUF", "name": "Stuffed crust", "price": "3"},
            "half": {"code": "HAW", "name": "Hawaiian"},
        },
        note="well done, cut in squares please",
    )  # fmt: skip
    OrderItem.objects.create(order=order, name="Coke", quantity=2, unit_price=Decimal("2.50"))
    return order


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1280"])
def test_the_order_page_fits_and_moves_by_itself(
    page,
    live_server,
    screenshot,
    violations,  # noqa: F811
    monkeypatch,
    viewport,
):
    monkeypatch.setattr(pages, "POLL_SECONDS", 1)
    order = an_order()
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/o/{order.token}/")
    page.get_by_text("Your order is in the queue.").wait_for()
    assert overflow(page) <= 0
    keep(
        screenshot(f"order-page-{viewport['width']}", full_page=True),
        f"order-page-{viewport['width']}",
    )

    page.evaluate("window.notReloaded = true")
    advance_order(order, S.PREPARING, notify=False)
    advance_order(order, S.BAKING, notify=False)
    page.get_by_text("Your order is in the oven.").wait_for()
    assert page.evaluate("window.notReloaded") is True  # swapped in by htmx, not reloaded
    assert page.locator('.steps li[aria-current="step"]').inner_text() == "In the oven"
    assert page.get_by_role("link", name="Cancel order…").count() == 0
    assert overflow(page) <= 0
    assert violations == []


def test_cancelling_from_a_phone_asks_first(page, live_server, violations):  # noqa: F811
    order = an_order()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/o/{order.token}/")
    page.get_by_role("link", name="Cancel order…").click()
    confirm = page.get_by_role("button", name="Yes, cancel it")
    confirm.wait_for()  # the click navigates: measure the confirmation page once it is there
    assert overflow(page) <= 0
    confirm.click()
    page.get_by_text("This order is cancelled.").wait_for()
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert violations == []


def test_a_receipt_prints_and_fits_a_phone(page, live_server, screenshot):
    order = an_order()
    for stage in (S.PREPARING, S.BAKING, S.QUALITY_CHECK, S.OUT_FOR_DELIVERY, S.DELIVERED):
        advance_order(order, stage, notify=False)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/o/{order.token}/")
    page.get_by_role("button", name="Print").wait_for()  # shown by order.js
    assert (
        page.get_by_role("link", name="Order this again").get_attribute("href").startswith("sms:")
    )
    assert overflow(page) <= 0
    keep(screenshot("receipt-390", full_page=True), "receipt-390")


def test_with_javascript_off_the_page_still_shows_the_stage(browser, live_server, transactional_db):
    order = an_order()
    advance_order(order, S.PREPARING, notify=False)
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/o/{order.token}/")
        assert "Your order is being prepared." in page.inner_text("main")
        assert page.locator('.steps li[aria-current="step"]').inner_text() == "Preparing"
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1280"])
def test_the_home_page_fits(page, live_server, screenshot, violations, viewport):  # noqa: F811
    page.set_viewport_size(viewport)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Text us").wait_for()
    assert overflow(page) <= 0
    assert violations == []
    keep(screenshot(f"home-{viewport['width']}", full_page=True), f"home-{viewport['width']}")


def test_the_board_fits_a_phone(page, live_server, django_user_model, screenshot):
    front_desk(django_user_model)
    an_evening()
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/staff/")
    page.fill("#id_username", "maria")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/staff/")
    page.locator(".column").first.wait_for()
    keep(screenshot("board-390", full_page=True), "board-390")
    assert overflow(page) <= 0, f"the board is {overflow(page)}px wider than a phone"


def test_paying_from_a_phone_before_and_after(
    page,
    live_server,
    screenshot,
    violations,  # noqa: F811
    monkeypatch,
    fake_stripe,
    settings,  # noqa: F811
):
    """An order waiting for payment at 390 px: the Pay now button goes to Stripe's page (the
    stand-in's), and once Stripe says it is paid the page shows it by itself."""
    from django.utils import timezone

    from orders.payment import take_payment

    monkeypatch.setattr(pages, "POLL_SECONDS", 1)
    settings.PAYMENT_REQUIRED_ABOVE = "20"
    order = an_order()
    order.payment_due_by = timezone.now() + timezone.timedelta(minutes=30)
    order.save()
    type(order).objects.filter(pk=order.pk).update(status=S.AWAITING_PAYMENT)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/o/{order.token}/")
    page.get_by_role("link", name="Pay now · $48.18").wait_for()
    assert page.get_by_text("and your order goes straight to the kitchen").count() == 1
    assert overflow(page) <= 0
    keep(screenshot("order-to-pay-390", full_page=True), "order-to-pay-390")

    page.get_by_role("link", name="Pay now · $48.18").click()
    page.wait_for_url(f"{fake_stripe.url}/c/pay/*", timeout=15000)  # after "getting it ready"

    page.goto(f"{live_server.url}/o/{order.token}/?paid=1")
    page.get_by_text("We're confirming your payment").wait_for()
    take_payment(order, order.total, "usd", reference="pi_test_browser")
    page.get_by_text("Paid $48.18 by card").wait_for()
    page.get_by_text("Your order is in the queue.").wait_for()
    assert overflow(page) <= 0
    keep(screenshot("order-paid-390", full_page=True), "order-paid-390")
    assert violations == []
