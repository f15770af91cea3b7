"""A staff member runs the evening from the live board in a real browser."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from orders import demo
from orders.models import Fulfilment, Inquiry, Order, OrderEvent
from orders.models import Status as S
from orders.services import advance_order
from staff.board.access import ensure_groups
from support.models import SupportCall
from telephony.models import Message
from tests.factories import (
    AgentFactory,
    CustomerFactory,
    OrderFactory,
    SupportCallFactory,
    VoicemailFactory,
)
from tests.fixtures.workers import a_dead_pid, beating

pytestmark = pytest.mark.browser
PASSWORD = "a-long-test-password"


def front_desk(django_user_model):
    """maria, at the front desk: everything on the board (staff/board/access.py)."""
    ensure_groups()
    maria = django_user_model.objects.create_user("maria", password=PASSWORD, is_staff=True)
    maria.groups.add(Group.objects.get(name="Front desk"))
    return maria


def an_evening():
    """Orders in every column (one late), a question waiting, agents and a caller on hold."""
    demo.seed(io.StringIO())
    now = timezone.now()
    ours = OrderFactory(customer=CustomerFactory(name="Ana", phone="+14155550142"))
    for status, minutes, fulfilment in [
        (S.RECEIVED, 12, Fulfilment.DELIVERY), (S.PREPARING, 8, Fulfilment.PICKUP),
        (S.BAKING, -4, Fulfilment.PICKUP), (S.QUALITY_CHECK, 3, Fulfilment.DELIVERY),
        (S.READY_FOR_PICKUP, 1, Fulfilment.PICKUP), (S.OUT_FOR_DELIVERY, 15, Fulfilment.DELIVERY),
    ]:  # fmt: skip
        OrderFactory(
            status=status, fulfilment=fulfilment, promised_at=now + timedelta(minutes=minutes),
            address="12 Main St" if fulfilment == Fulfilment.DELIVERY else "",
        )  # fmt: skip
    for order in Order.objects.all():
        OrderEvent.objects.create(order=order, kind="placed", to_status=order.status, actor="staff")
    asker = CustomerFactory(name="Sam")
    question = Message.objects.create(
        direction="in", from_number=str(asker.phone), to_number="+15005550006",
        body="Do you have a gluten free base?", status="received",
    )  # fmt: skip
    Inquiry.objects.create(message=question, customer=asker)
    AgentFactory(name="Maria")
    AgentFactory(name="Luca", on_shift=False)
    SupportCallFactory(status=SupportCall.Status.WAITING, waiting_since=now - timedelta(seconds=70))
    held = SupportCallFactory(
        caller_number="+14155550177", status=SupportCall.Status.CALL_BACK,
        waiting_since=now - timedelta(seconds=150),
    )  # fmt: skip
    SupportCallFactory(
        caller_number=held.caller_number, call_sid=None, callback_of=held,
        direction=SupportCall.Direction.CALLBACK, status=SupportCall.Status.WAITING,
        waiting_since=held.waiting_since,
    )  # fmt: skip
    VoicemailFactory()
    return ours


def card_in(page, stage, order):
    return page.locator(f'.column[data-stage="{stage}"] #order-{order.pk}')


def test_staff_log_in_move_an_order_two_stages_and_see_the_texts(
    page, live_server, django_user_model, screenshot
):
    front_desk(django_user_model)
    order = an_evening()

    page.goto(live_server.url + "/staff/")
    assert "/admin/login/" in page.url  # the real admin login page
    page.fill("#id_username", "maria")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/staff/")

    card_in(page, "received", order).wait_for()
    card_in(page, "received", order).get_by_role("button", name="Start preparing →").click()
    card_in(page, "preparing", order).wait_for()
    assert page.get_by_text(f"Order #{order.number} is now Preparing").is_visible()
    card_in(page, "preparing", order).get_by_role("button", name="Into the oven →").click()
    card_in(page, "baking", order).wait_for()
    page.get_by_text(f"Order #{order.number} is now Baking; the customer was texted.").wait_for()
    assert card_in(page, "received", order).count() == 0
    screenshot("board")
    screenshot("board-full", full_page=True)
    callers = page.locator("#support ul.callers li")
    assert callers.count() == 2  # on hold, and a call-back keeping its place ahead
    assert "+14155550177" in callers.nth(0).inner_text()
    assert "call back" in callers.nth(0).locator(".badge").inner_text()
    page.locator("#support").screenshot(path=str(screenshot("board").parent / "support.png"))

    # One tap marks mushrooms sold out tonight; the panel says until when.
    page.locator("#tonight").get_by_role("button", name="Mushrooms").click()
    page.locator("#tonight .chip.out").wait_for()
    assert page.locator("#tonight .chip.out").inner_text() == "✕ Mushrooms"
    assert "Mushrooms is sold out until" in page.locator("#tonight").inner_text()
    page.locator("#tonight").screenshot(path=str(screenshot("board").parent / "sold-out.png"))

    # Another tablet moves an order: this board shows it without a full reload (the panels
    # poll every 5 s; the test asks for the refresh now instead of waiting for the timer).
    other = Order.objects.get(status=S.PREPARING)
    advance_order(other, S.BAKING)
    page.evaluate("window.notReloaded = true; htmx.trigger(document.body, 'board:refresh')")
    card_in(page, "baking", other).wait_for()
    assert page.evaluate("window.notReloaded") is True

    card_in(page, "baking", order).get_by_role("link", name=f"#{order.number}").click()
    bubble = page.locator(".bubble.out", has_text=f"Order #{order.number} is in the oven!")
    bubble.wait_for()
    screenshot("board-customer")
    order.refresh_from_db()
    assert order.status == S.BAKING


def test_the_board_fits_an_upright_tablet_without_scrolling_sideways(
    page, live_server, django_user_model, screenshot
):
    front_desk(django_user_model)
    an_evening()
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(live_server.url + "/staff/")
    page.fill("#id_username", "maria")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/staff/")
    page.locator(".column").first.wait_for()

    screenshot("board-upright", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the board is {overflow}px wider than an upright tablet"
    for column in page.locator(".column").all():  # every stage in view, none scrolled away
        box = column.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 820, column.get_attribute("data-stage")


def test_a_card_shows_an_opt_out_and_a_late_orders_new_estimate(
    page, live_server, django_user_model, screenshot
):
    """Issue 29: the kitchen sees at a glance who opted out after ordering, and a late order
    stays late against its first promise, with the time the customer was told since."""
    front_desk(django_user_model)
    order = an_evening()
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(
        opted_out_at=now, first_promised_at=now - timedelta(minutes=10),
        promised_at=now + timedelta(minutes=5), late_notices=1,
    )  # fmt: skip

    page.goto(live_server.url + "/staff/")
    page.fill("#id_username", "maria")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    card = card_in(page, "received", order)
    card.wait_for()
    flag = card.locator(".opted-out")
    assert flag.inner_text() == "Customer opted out after ordering: call before making"
    assert flag.is_visible()
    assert "LATE" in card.locator(".due").inner_text()
    assert card.locator(".estimate").inner_text().startswith("now told ")
    card.screenshot(path=str(screenshot("board-opted-out-card").parent / "card-opted-out.png"))


@pytest.mark.parametrize("width,height", [(1180, 820), (390, 844)])
def test_the_red_banner_says_what_is_wrong_and_goes_when_it_is_mended(
    page, live_server, django_user_model, screenshot, width, height
):
    """Issue 27: staff see at once that texts are not being answered (the telephony worker
    died) and that Twilio refuses texts, with the error code in words; on a tablet and on a
    phone. Mended, the banner goes at its next refresh."""
    from telephony import processes

    front_desk(django_user_model)
    an_evening()
    dead = beating(processes.TELEPHONY_WORKER, pid=a_dead_pid())
    for n in range(12):
        Message.objects.create(
            direction="out", from_number="+15005550006", to_number=f"+1415555{n:04d}",
            body="Your order is ready", status="undelivered", error_code=30034,
        )  # fmt: skip
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url + "/staff/")
    page.fill("#id_username", "maria")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    banner = page.locator(".alert-banner")
    banner.wait_for()

    words = banner.inner_text()
    assert "The telephony worker is not running: texts are stored, but nobody is answered." in words
    assert "Twilio is refusing texts: 12 of 12 refused or undelivered in 15 min." in words
    assert "Commonest error 30034: " in words and "10DLC" in words
    assert banner.get_by_role("link", name="Processes").count() == 0  # the admin's list: not hers
    box = banner.bounding_box()
    assert box["y"] < height / 2 and box["x"] >= 0 and box["x"] + box["width"] <= width
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the banner makes the page {overflow}px wider than the screen"
    banner.screenshot(path=str(screenshot(f"board-alert-{width}").parent / f"alert-{width}.png"))

    dead.delete()  # the worker started again: its dead row is gone, a live one beats
    beating(processes.TELEPHONY_WORKER)
    Message.objects.filter(status="undelivered").update(status="delivered", error_code=None)
    with page.expect_response(lambda r: "/panels/alerts/" in r.url):  # the 15 s refresh, now
        page.evaluate("htmx.ajax('GET', htmx.find('#alerts').getAttribute('hx-get'), '#alerts')")
    banner.wait_for(state="detached")
