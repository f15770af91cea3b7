"""A customer who writes in Spanish orders a pizza with toppings from the phone simulator, in a
real browser: the quote and the confirmation come back in Spanish. The screenshot goes to
test-artifacts/, and to docs/ with UPDATE_SCREENSHOTS=1 (the README shows it)."""

import pytest

from orders.models import Order

from .test_order_page_browser import keep
from .test_phone_browser import simulator  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def test_a_spanish_order_with_toppings_from_the_phone_simulator(
    page,
    live_server,
    simulator,  # noqa: F811
    screenshot,
):
    page.set_viewport_size({"width": 1180, "height": 1000})
    page.goto(live_server.url + "/dev/phone/")
    page.fill("#body", "hola! quiero una pizza grande de pepperoni con champiñones y cebolla")
    page.keyboard.press("Enter")
    quote = page.locator(".bubble.theirs", has_text="Tu pedido:")
    quote.wait_for()
    assert "1x Pepperoni L con mushrooms, onions $20" in quote.inner_text()
    assert "Responde SI para confirmarlo" in quote.inner_text()
    page.fill("#body", "sí")
    page.keyboard.press("Enter")
    placed = page.locator(".bubble.theirs", has_text="Recibimos tu pedido #")
    placed.wait_for()
    order = Order.objects.get(customer__phone="+14155550123")
    assert f"Recibimos tu pedido #{order.number}: 1x Pepperoni L con mushrooms, onions" in (
        placed.inner_text()
    )
    assert "Listo para recoger como a las" in placed.inner_text()
    quote.evaluate("bubble => bubble.scrollIntoView({block: 'start'})")  # quote and reply in view
    keep(screenshot("simulator-spanish"), "simulator-spanish")
