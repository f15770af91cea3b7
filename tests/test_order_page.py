"""The customer's order page (/o/<token>/) and the shop's home page (/): linked from the texts,
live, cancellable by the same rules as CANCEL ORDER, private, and a receipt at the end."""

import io
import re
import threading
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders import demo, pages, services
from orders.hours import Opening, clock
from orders.links import order_link
from orders.models import Fulfilment, Order, OrderItem, Status
from orders.parser import parse
from orders.texts import render_sms
from telephony.segments import count_segments

from .factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
ALICE = "+14155550199"
LINK = re.compile(r"https://pizza\.example\.com(/o/[A-Za-z0-9_-]+/)")


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def menu(db):
    demo.seed(io.StringIO())


def place_by_text(sms, body="ORDER 1 large pepperoni and 2 coke"):
    sms(ALICE, body)
    reply = sms(ALICE, "YES").replies[-1]
    return Order.objects.latest("id"), reply


def page_of(client, order, path="page"):
    return client.get(reverse(f"orders:{path}", args=[order.token]))


def a_full_order(**kwargs):
    """A delivery with toppings, a crust, half-and-half and a kitchen note."""
    order = OrderFactory(
        customer=CustomerFactory(phone=ALICE, name="Alice Smith"),
        fulfilment=Fulfilment.DELIVERY, address="12 Main St, Apt 4, Springfield 02139",
        total=Decimal("24.50"), **kwargs,
    )  # fmt: skip
    OrderItem.objects.create(
        order=order, name="Pepperoni", size="L", quantity=1, unit_price=Decimal("6.00"),
        modifiers={
            "toppings": [{"code": "MUSH", "name": "Mushrooms", "price": "2"}],
            "crust": {"code": "THIN", "name": "Thin", "price": "0"},
            "half": {"code": "HAW", "name": "Hawaiian"},
        },
        note="well done",
    )  # fmt: skip
    return order


# --- the token -------------------------------------------------------------------------------


def test_every_order_gets_its_own_random_token_of_128_bits():
    orders = [OrderFactory() for _ in range(5)]
    tokens = {order.token for order in orders}
    assert len(tokens) == 5
    for order in orders:
        assert len(order.token) >= 22  # token_urlsafe(16): 16 random bytes
        assert str(order.number) not in order.token and str(order.pk) != order.token


def test_the_link_is_empty_without_a_public_address(settings):
    order = OrderFactory()
    assert order_link(order) == f"https://pizza.example.com/o/{order.token}/"
    settings.PUBLIC_BASE_URL = ""
    assert order_link(order) == ""


# --- the link in the texts -------------------------------------------------------------------


def test_the_confirmation_text_links_to_the_page_of_that_order(menu, sms, client):
    order, confirmation = place_by_text(sms)
    path = LINK.search(confirmation)[1]
    assert path == f"/o/{order.token}/"
    html = client.get(path).content.decode()
    assert f"Order #{order.number}" in html
    assert "Pepperoni" in html and "Coke" in html


def test_the_confirmation_with_its_link_stays_within_two_segments(menu, sms):
    _, confirmation = place_by_text(sms, "ORDER 2 large pepperoni, 1 garlic bread and 2 coke")
    assert LINK.search(confirmation)
    assert count_segments(confirmation) <= 2, confirmation


def test_a_text_has_no_link_line_without_a_public_address(
    settings, outbox, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = ""  # a bare path is no use in a text
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.advance_order(order, Status.PREPARING)
        services.advance_order(order, Status.BAKING)
    assert outbox[-1].body == (
        f"Order #{order.number} is in the oven! Ready about {clock(order.promised_at)}. "
        "Text STATUS anytime."
    )


@pytest.mark.parametrize(
    "fulfilment, stages",
    [
        (Fulfilment.PICKUP, ["preparing", "baking", "quality_check", "ready_for_pickup",
                             "picked_up"]),
        (Fulfilment.DELIVERY, ["preparing", "baking", "quality_check", "out_for_delivery",
                               "delivered"]),
    ],
)  # fmt: skip
def test_each_stage_text_carries_the_link_within_two_segments(
    fulfilment, stages, outbox, settings, django_capture_on_commit_callbacks
):
    settings.ORDER_SMS_STAGES = list(Status.values)
    order = OrderFactory(fulfilment=fulfilment, address="12 Main St")
    with django_capture_on_commit_callbacks(execute=True):
        for stage in stages:
            services.advance_order(order, stage)
    bodies = [message.body for message in outbox]
    assert len(bodies) == len(stages)
    for body in bodies:
        assert order_link(order) in body, body
        assert count_segments(body) <= 2, body


def test_a_cancelled_by_the_shop_text_carries_the_link(outbox, django_capture_on_commit_callbacks):
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order, by=None, reason="out of dough")
    assert order_link(order) in outbox[-1].body


# --- what the page shows ---------------------------------------------------------------------


def test_the_page_shows_the_shop_items_modifiers_note_total_and_the_promised_time(client, settings):
    settings.SHOP_NAME = "Luigi's"
    order = a_full_order(promised_at=timezone.now() + timedelta(minutes=30))
    response = page_of(client, order)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Luigi&#x27;s" in html
    assert f"Order #{order.number}" in html
    assert "half Hawaiian" in html and "with mushrooms" in html and "thin crust" in html
    assert "well done" in html
    assert "$24.50" in html
    assert "Delivery to 12 Main St" in html and "Apt 4" not in html and "02139" not in html
    assert clock(order.promised_at) in html


def test_the_page_shows_subtotal_tax_and_fee_when_the_order_has_them(client):
    order = OrderFactory()
    context = pages.order_context(order)
    assert context["tax"] == "" and context["subtotal"] == ""  # no such fields yet: left out
    order.tax, order.subtotal, order.delivery_fee = Decimal("1.28"), Decimal("16"), Decimal("3")
    context = pages.order_context(order)
    assert (context["subtotal"], context["tax"], context["delivery_fee"]) == ("$16", "$1.28", "$3")


def test_the_progress_bar_marks_the_current_stage_on_the_orders_own_path(client):
    order = OrderFactory(status=Status.BAKING, fulfilment=Fulfilment.PICKUP)
    html = page_of(client, order).content.decode()
    steps = re.findall(r'<li class="(\w+)"[^>]*><span>([^<]+)</span>', html)
    assert steps == [
        ("done", "Order in"), ("done", "Preparing"), ("current", "In the oven"),
        ("todo", "Final check"), ("todo", "Ready"), ("todo", "Picked up"),
    ]  # fmt: skip
    assert 'aria-current="step"' in html
    assert "Your order is in the oven." in html  # server-rendered: works with JavaScript off


def test_the_live_fragment_polls_while_the_order_moves_and_stops_when_it_is_finished(client):
    order = OrderFactory(status=Status.RECEIVED)
    live = page_of(client, order, "live").content.decode()
    assert live.lstrip().startswith('<section id="order"') and "<html" not in live
    assert f'hx-get="/o/{order.token}/live/"' in live and "every 10s" in live
    services.advance_order(order, Status.PREPARING, notify=False)
    assert "Your order is being prepared." in page_of(client, order, "live").content.decode()
    order = OrderFactory(status=Status.PICKED_UP)
    assert "hx-trigger" not in page_of(client, order, "live").content.decode()


def test_the_page_never_shows_the_phone_number_the_name_or_other_orders(client):
    order = a_full_order()
    other = OrderFactory(customer=order.customer)
    OrderItem.objects.filter(order=other).update(name="Secret Calzone")
    for path in ("page", "live", "cancel"):
        html = page_of(client, order, path).content.decode()
        digits = re.sub(r"\D", "", html)
        assert "4155550199" not in digits, path
        assert "Alice" not in html and "Smith" not in html
        assert "Secret Calzone" not in html and f"#{other.number}" not in html


def test_the_page_is_not_indexed_cached_or_leaked_by_referrer(client):
    response = page_of(client, OrderFactory())
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "no-store"
    # Same origin only: with no-referrer the browser sends "Origin: null" and CSRF refuses
    # the cancel form (caught by tests/browser/test_order_page_browser.py).
    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_the_page_offers_a_call_and_a_status_text_to_the_shop(client, settings):
    settings.SHOP_PHONE = "+15005550001"
    html = page_of(client, OrderFactory()).content.decode()
    assert 'href="tel:+15005550001"' in html
    assert f'href="sms:{settings.TWILIO_PHONE_NUMBER}?&amp;body=STATUS"' in html


# --- unknown and expired tokens --------------------------------------------------------------


@pytest.mark.parametrize(
    "token", ["A" * 22, "1001", "1", "..%2F..", "x" * 200, "abc<script>", "'; DROP TABLE"]
)
def test_an_unknown_or_malformed_token_is_a_plain_404(client, token):
    OrderFactory()
    for path in (f"/o/{token}/", f"/o/{token}/live/", f"/o/{token}/cancel/"):
        assert client.get(path).status_code == 404, path


def test_the_order_number_or_id_is_not_a_way_in(client):
    order = OrderFactory()
    assert client.get(f"/o/{order.number}/").status_code == 404
    assert client.get(f"/o/{order.pk}/").status_code == 404


def test_a_page_closes_order_page_days_after_the_order_finished(client, settings):
    settings.ORDER_PAGE_DAYS = 30
    order = OrderFactory(status=Status.PICKED_UP)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(days=29))
    assert page_of(client, order).status_code == 200
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(days=31))
    response = page_of(client, order)
    html = response.content.decode()
    assert response.status_code == 404
    assert "This order is closed" in html
    assert "Pepperoni" not in html and f"#{order.number}" not in html
    assert page_of(client, order, "live").status_code == 404


def test_an_order_still_in_progress_never_closes(client, settings):
    settings.ORDER_PAGE_DAYS = 1
    order = OrderFactory(status=Status.BAKING)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(days=5))
    assert page_of(client, order).status_code == 200


# --- cancelling ------------------------------------------------------------------------------


def test_cancel_asks_first_then_cancels_and_texts_like_cancel_order(
    client, outbox, django_capture_on_commit_callbacks
):
    order = OrderFactory(customer=CustomerFactory(phone=ALICE))
    confirm = page_of(client, order, "cancel")
    assert confirm.status_code == 200
    assert "Yes, cancel it" in confirm.content.decode()
    order.refresh_from_db()
    assert order.status == Status.RECEIVED  # GET changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("orders:cancel", args=[order.token]))
    assert response.status_code == 302
    assert response["Location"] == f"/o/{order.token}/?cancelled=1"
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert order.events.last().actor == "customer"
    assert [(m.to, m.body) for m in outbox] == [(ALICE, render_sms("cancelled", order=order))]
    assert "is cancelled; you won't be charged" in outbox[0].body
    assert "This order is cancelled" in client.get(response["Location"]).content.decode()


def test_cancel_is_refused_once_the_order_is_in_the_oven(client, outbox):
    order = OrderFactory(status=Status.BAKING)
    assert "Cancel order…" not in page_of(client, order).content.decode()
    response = client.post(reverse("orders:cancel", args=[order.token]))
    assert response.status_code == 409
    assert "can no longer be cancelled" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.BAKING
    assert outbox == []


def test_a_double_click_cancels_once_and_texts_once(
    client, outbox, django_capture_on_commit_callbacks
):
    order = OrderFactory()
    url = reverse("orders:cancel", args=[order.token])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url)
        second = client.post(url)
    assert first.status_code == 302
    assert second.status_code == 409
    assert "already cancelled" in second.content.decode()
    assert len(outbox) == 1
    assert order.events.filter(kind="cancelled").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_cancels_at_the_same_moment_cancel_once(outbox):
    order = OrderFactory()
    url = reverse("orders:cancel", args=[order.token])
    start, codes = threading.Barrier(2), []

    def click():
        try:
            start.wait()
            codes.append(Client().post(url).status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [302, 409]
    assert order.events.filter(kind="cancelled").count() == 1
    assert len(outbox) == 1


def test_cancel_takes_only_post_or_get(client):
    order = OrderFactory()
    assert client.put(reverse("orders:cancel", args=[order.token])).status_code == 405
    assert client.post(reverse("orders:page", args=[order.token])).status_code == 405


# --- after delivery: a receipt ---------------------------------------------------------------


def test_a_delivered_order_is_a_printable_receipt_with_the_shops_address(client, settings):
    settings.SHOP_ADDRESS = "1 Harbor Rd, Springfield"
    order = a_full_order(status=Status.DELIVERED)
    html = page_of(client, order).content.decode()
    assert "Receipt" in html and "1 Harbor Rd, Springfield" in html
    assert "print-button" in html
    assert "Cancel order…" not in html and "hx-trigger" not in html


def test_order_this_again_prefills_a_text_the_parser_reads_back_as_the_same_order(menu, client):
    order = OrderFactory(status=Status.PICKED_UP)
    OrderItem.objects.filter(order=order).delete()
    items = {item.code: item for item in services.menu().items}
    OrderItem.objects.create(
        order=order, menu_item_id=items["PEP"].pk, name="Pepperoni", size="L", quantity=2,
        unit_price=Decimal("19.50"),
        modifiers={"toppings": [{"code": "MUSH", "name": "Mushrooms", "price": "2"}],
                   "crust": {"code": "THIN", "name": "Thin", "price": "0"}},
    )  # fmt: skip
    OrderItem.objects.create(
        order=order,
        menu_item_id=items["COKE"].pk,
        name="Coke",
        quantity=3,
        unit_price=Decimal("2.50"),
    )
    html = page_of(client, order).content.decode()
    href = re.search(r'href="(sms:[^"]+)">Order this again', html)[1]
    body = unquote(href.split("body=", 1)[1])
    assert body == "ORDER 2 L PEP with MUSH on THIN crust, 3 COKE"
    command = parse(body, services.menu().index)
    lines = [(li.code, li.quantity, li.size, li.toppings, li.crust) for li in command.lines]
    assert lines == [("PEP", 2, "L", ("MUSH",), "THIN"), ("COKE", 3, "", (), "")]


# --- the rate limit --------------------------------------------------------------------------


def test_one_address_is_limited_per_minute_and_told_to_wait(client, settings):
    settings.ORDER_PAGE_REQUESTS_PER_MINUTE = 5
    order = OrderFactory()
    codes = [page_of(client, order).status_code for _ in range(5)]
    assert codes == [200] * 5
    refused = page_of(client, order)
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert client.get("/o/" + "B" * 22 + "/").status_code == 429  # guessing counts too
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert other.get(reverse("orders:page", args=[order.token])).status_code == 200


def test_behind_a_proxy_the_limit_counts_the_address_the_proxy_saw(client, settings):
    settings.ORDER_PAGE_REQUESTS_PER_MINUTE = 2
    settings.ORDER_PAGE_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    order = OrderFactory()
    url = reverse("orders:page", args=[order.token])
    for _ in range(2):
        assert client.get(url, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1").status_code == 200
    assert client.get(url, HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.1").status_code == 429
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200


def test_the_limit_starts_again_the_next_minute(rf, settings):
    settings.ORDER_PAGE_REQUESTS_PER_MINUTE = 1
    request = rf.get("/o/x/")
    assert not pages.over_limit(request, now=600.0)
    assert pages.over_limit(request, now=659.0)
    assert not pages.over_limit(request, now=660.0)


# --- the home page ---------------------------------------------------------------------------


def test_the_home_page_says_who_we_are_when_we_are_open_and_how_to_order(client, settings):
    settings.SHOP_NAME = "Luigi's"
    settings.SHOP_HOURS = "mon-sun 11:00-22:00"
    settings.SHOP_PHONE = "+15005550001"
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Luigi&#x27;s" in html
    assert ("Open now" in html) or ("Closed now" in html)
    assert "Monday to Sunday, 11:00 to 22:00" in html
    assert f'href="sms:{settings.TWILIO_PHONE_NUMBER}?&amp;body=MENU"' in html
    assert 'href="tel:+15005550001"' in html
    assert "Text <b>MENU</b>" in html
    assert 'href="/staff/"' in html


def test_the_home_page_says_closed_and_when_it_opens(client, monkeypatch):
    monkeypatch.setattr(pages, "opening", lambda: Opening(False, "", "tomorrow at 11:00 AM"))
    html = client.get("/").content.decode()
    assert "Closed now" in html and "opens tomorrow at 11:00 AM" in html


# --- queries per page, pinned ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["page", "live", "cancel"])
def test_queries_per_order_page_do_not_grow_with_the_items(client, path):
    small, large = a_full_order(), a_full_order()
    for _ in range(30):
        OrderItem.objects.create(order=large, name="Coke", quantity=1, unit_price=Decimal("2"))
    counts = []
    page_of(client, small, path)  # warm: the shop's settings are read once a second (orders.shop)
    for order in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert page_of(client, order, path).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 2, counts


def test_the_home_page_reads_only_the_shop_settings_and_those_once_a_second(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert len(queries) == 1 and "orders_shopsettings" in queries[0]["sql"]
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert len(queries) == 0
