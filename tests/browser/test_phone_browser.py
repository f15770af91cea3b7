"""A newcomer tries the shop from the phone simulator in a real browser."""

import io

import pytest

from orders import demo
from orders.models import Order
from tests.factories import AgentFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def simulator(settings, page, live_server, django_user_model):
    """On outside DEBUG, as on a staging server: a staff member logs in through the admin."""
    settings.PHONE_SIMULATOR_ENABLED = True
    demo.seed(io.StringIO())
    django_user_model.objects.create_superuser("dev", password="a-long-test-password")
    page.goto(live_server.url + "/dev/phone/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", "dev")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/dev/phone/")


def test_a_customer_orders_end_to_end_from_the_phone_simulator(
    page, live_server, simulator, screenshot
):
    page.goto(live_server.url + "/dev/phone/")
    page.locator(".quick").get_by_role("button", name="MENU").click()
    page.locator(".bubble.theirs", has_text="Pepperoni").wait_for()
    page.fill("#body", "ORDER 1 large pepperoni")
    page.keyboard.press("Enter")
    page.locator(".bubble.theirs", has_text="$16").wait_for()
    assert page.input_value("#body") == ""  # the box is cleared after sending
    page.locator(".quick").get_by_role("button", name="YES").click()
    page.locator(".bubble.theirs", has_text="is in").wait_for()
    order = Order.objects.get(customer__phone="+14155550123")
    assert page.locator(".bubble.theirs", has_text=f"Order #{order.number} is in").count() == 1
    sent = page.locator(".bubble.mine p").all_inner_texts()
    assert sent == ["MENU", "ORDER 1 large pepperoni", "YES"]
    screenshot("phone")


def test_a_caller_reaches_the_simulated_agent(page, live_server, simulator, screenshot):
    AgentFactory(name="Maria")
    page.goto(live_server.url + "/dev/phone/")
    page.click("label[for=tab-call]")
    page.get_by_role("button", name="Call +15005550006").click()
    page.get_by_text("To speak to a person, press 0").wait_for()
    page.locator(".keypad").get_by_role("button", name="0").click()
    page.get_by_text("The shop rings Maria").wait_for()
    page.get_by_role("button", name="Agent answers").click()
    page.get_by_text("Maria presses 1 and hears").wait_for()
    page.get_by_text("Maria joins your call").wait_for()
    screenshot("phone-call")
    page.get_by_role("button", name="Hang up").click()
    page.get_by_text("Call ended.").wait_for()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_caller_orders_by_speaking_in_the_phone_simulator(
    page, live_server, simulator, screenshot, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/dev/phone/")
    page.click("label[for=tab-call]")
    page.get_by_role("button", name="Call +15005550006").click()
    page.get_by_text("Tell me what you'd like").first.wait_for()
    page.fill("#say-words", "can I get two large pepperoni for pickup")
    page.keyboard.press("Enter")  # says it (the box's button comes before the keypad)
    page.get_by_text("You'd like 2 large Pepperoni.").wait_for()
    screenshot(f"phone-read-back-{width}")
    page.fill("#say-words", "yes")
    page.get_by_role("button", name="Say it").click()
    page.get_by_text("The shop hangs up.").wait_for()
    order = Order.objects.get(customer__phone="+14155550123")
    assert page.get_by_text(f"Your order number is {order.number}.").count() == 1
    assert [(i.quantity, i.size) for i in order.items.all()] == [(2, "L")]
    screenshot(f"phone-order-by-voice-{width}", full_page=True)
