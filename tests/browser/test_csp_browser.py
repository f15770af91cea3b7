"""Under the Content-Security-Policy, every page staff and developers use still works in a
real browser, and the browser reports no violation (a blocked script, style or handler)."""

import io

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from orders import demo
from tests.factories import CustomerFactory, OrderFactory, VoicemailFactory
from tests.test_reports_numbers import tuesday  # noqa: F401 (a day with orders, texts, calls)

pytestmark = pytest.mark.browser
PASSWORD = "a-long-test-password"


@pytest.fixture
def violations(page):
    """What the browser refused under the page's CSP (chromium says so on the console, or
    raises an EvalError), and any other script error on the page."""
    seen = []

    def note(message):
        if message.location.get("url", "").endswith("/favicon.ico"):
            return  # there is none; chromium asks anyway
        if "Content Security Policy" in message.text or message.type == "error":
            seen.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", note)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def visit(page, url):
    response = page.goto(url)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    return response


def test_board_reports_admin_and_simulator_work_with_no_csp_violation(
    page,
    live_server,
    django_user_model,
    settings,
    violations,
    tuesday,  # noqa: F811
):
    settings.PHONE_SIMULATOR_ENABLED = True
    demo.seed(io.StringIO())
    order = OrderFactory(customer=CustomerFactory(name="Ana"))
    VoicemailFactory()
    campaign = Campaign.objects.create(name="Tuesday", body="Two for one", state="sending")
    django_user_model.objects.create_superuser("maria", password=PASSWORD)

    visit(page, live_server.url + "/admin/login/?next=/staff/")
    page.fill("#id_username", "maria")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/staff/")
    # htmx runs without eval: a button posts and swaps its panel, a refresh reloads panels.
    page.locator(f"#order-{order.pk}").get_by_role("button", name="Start preparing →").click()
    page.get_by_text(f"Order #{order.number} is now Preparing").wait_for()
    page.evaluate("window.notReloaded = true; htmx.trigger(document.body, 'board:refresh')")
    page.wait_for_timeout(300)
    assert page.evaluate("window.notReloaded") is True

    visit(page, live_server.url + "/staff/reports/?day=2026-03-10")
    assert page.locator("svg.chart").count() == 3
    colour = page.eval_on_selector("svg.chart .bar:not(.zero)", "e => getComputedStyle(e).fill")
    assert colour == "rgb(192, 57, 43)"  # the report's stylesheet applied

    visit(page, live_server.url + reverse("admin:campaigns_campaign_add"))
    page.fill("#id_body", "Two for one")
    page.locator("#segment-counter", has_text="1 segment").wait_for()  # its inline script ran
    visit(page, live_server.url + reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    width = page.eval_on_selector(".campaign-bar [data-part=queued]", "e => e.style.width")
    assert width.endswith("%")  # set by the script, not by a style attribute
    visit(page, live_server.url + reverse("admin:orders_order_changelist"))
    visit(page, live_server.url + reverse("admin:orders_order_change", args=[order.pk]))

    visit(page, live_server.url + "/dev/phone/")
    page.fill("#body", "MENU")
    page.keyboard.press("Enter")
    page.locator(".bubble.mine", has_text="MENU").wait_for()
    page.wait_for_function("document.querySelector('#body').value === ''")  # reset, no eval

    assert violations == []
