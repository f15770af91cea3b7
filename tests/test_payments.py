"""Paying by link (payments/, orders/payment.py), driven as customers, Stripe and staff
meet it: orders placed through the signed SMS webhook and the worker, Stripe's API a local
stand-in that judges every request (tests/fixtures/fake_stripe.py), Stripe's events signed
the way Stripe signs them."""

import io
import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import demo, services
from orders import payment as payment_module
from orders.models import Deal, Order
from orders.models import Status as S
from payments import services as payments
from payments import stripe_api
from payments.models import Refund, StripeEvent, StripeRequest
from staff.board.panels import order_columns
from staff.reports.services import day_report
from telephony.models import Message
from telephony.outbox import InlineSenders, send_due
from telephony.segments import count_segments
from tests.factories import OrderFactory
from tests.fixtures.fake_stripe import event

ME = "+14155550123"


@pytest.fixture
def shop(db, settings, fake_stripe, two_pm):
    demo.seed(io.StringIO())
    settings.SHOP_TAX_RATE = "0.08875"
    settings.ORDER_SMS_STAGES = ["baking", "cancelled"]
    return fake_stripe


def place(sms, body="ORDER 1 large pepperoni", phone=ME):
    sms(phone, body)
    reply = sms(phone, "YES").replies
    return Order.objects.of(phone).order_by("-id").first(), reply


def texts_to(phone=ME):
    return list(
        Message.objects.filter(to_number=phone, direction="out")
        .order_by("id")
        .values_list("body", flat=True)
    )


def cents(amount):
    return int(Decimal(amount) * 100)


def session_of(order):
    return payments.latest_page(order).sid


def pay(fake, stripe_events, order, **changes):
    """The customer pays the order's page at Stripe; Stripe sends checkout.session.completed."""
    session = fake.pay(session_of(order), **changes)
    response = stripe_events.post(event("checkout.session.completed", session))
    assert response.status_code == 200, response.content
    order.refresh_from_db()
    return session


# --- the link ----------------------------------------------------------------------------------


def test_a_placed_order_gets_one_payment_page_for_exactly_its_quote(shop, sms):
    order, _ = place(sms, "ORDER 2 large pepperoni with mushrooms, 1 coke")

    [(method, path, params, headers)] = shop.made()
    lines = params["line_items"]
    charged = sum(int(x["price_data"]["unit_amount"]) * int(x["quantity"]) for x in lines)
    assert charged == cents(order.total) and order.tax > 0
    names = [x["price_data"]["product_data"]["name"] for x in lines]
    assert names == ["Pepperoni Large", "Coke", "Tax"]
    assert lines[0]["price_data"]["product_data"]["description"] == "with mushrooms"
    assert {x["price_data"]["currency"] for x in lines} == {"usd"}
    assert params["metadata"] == {"order_id": str(order.pk), "order_number": str(order.number)}
    assert params["success_url"].startswith(f"https://pizza.example.com/o/{order.token}/")
    assert headers["idempotency-key"] == f"{order.token}-page-1"
    page = payments.latest_page(order)
    assert page.status == "done" and page.url.startswith(shop.url)


def test_the_confirmation_offers_the_link_and_the_page_goes_to_stripe(shop, sms, client):
    order, [reply] = place(sms)

    link = f"https://pizza.example.com/o/{order.token}/"
    assert reply.endswith(f"Pay now or at the door, and track it: {link}")
    assert count_segments(reply) <= 2
    assert order.status == S.RECEIVED  # PAYMENT_REQUIRED_ABOVE is empty: never required
    page = client.get(f"/o/{order.token}/")
    assert b"Pay now" in page.content
    to_stripe = client.get(f"/o/{order.token}/pay/")
    assert to_stripe.status_code == 302
    assert to_stripe["Location"] == payments.latest_page(order).url


def test_an_order_above_the_limit_waits_unseen_and_silent_until_paid(
    shop, sms, settings, stripe_events
):
    settings.PAYMENT_REQUIRED_ABOVE = "10"
    order, [reply] = place(sms)

    assert order.status == S.AWAITING_PAYMENT
    assert f"Order #{order.number} is saved" in reply
    assert f"Pay here: https://pizza.example.com/o/{order.token}/pay/" in reply
    assert count_segments(reply) <= 2
    shown = [card.order for column in order_columns() for card in column.cards]
    assert order not in shown

    pay(shop, stripe_events, order)

    assert order.status == S.RECEIVED and order.paid == order.total and order.paid_by == "card"
    assert order in [card.order for column in order_columns() for card in column.cards]
    paid = [t for t in texts_to() if t.startswith("Paid, thank you!")]
    assert len(paid) == 1 and f"Order #{order.number} is in the kitchen's queue" in paid[0]


def test_a_replayed_or_repeated_payment_event_moves_the_order_once(
    shop, sms, settings, stripe_events
):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    order, _ = place(sms)
    session = shop.pay(session_of(order))
    completed = event("checkout.session.completed", session)

    assert stripe_events.post(completed).json()["new"] is True
    assert stripe_events.post(completed).json()["new"] is False  # Stripe's retry
    again = stripe_events.post(event("checkout.session.async_payment_succeeded", session))
    assert again.json()["outcome"].endswith("already")

    order.refresh_from_db()
    assert order.status == S.RECEIVED and order.paid == order.total
    assert len([t for t in texts_to() if t.startswith("Paid")]) == 1
    assert order.events.filter(kind="status", to_status=S.RECEIVED).count() == 1
    assert StripeEvent.objects.count() == 2


def test_events_out_of_order_change_nothing_they_should_not(shop, sms, settings, stripe_events):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    order, _ = place(sms)
    first = session_of(order)
    shop.expire(first)
    old_page_expired = event("checkout.session.expired", shop.sessions[first])
    page = payments.latest_page(order)
    page.result["expires_at"] = int(timezone.now().timestamp())  # its time is up
    page.save()
    # The customer came back after the first page expired: a second page, paid.
    assert payments.page_for(order) == ("", "wait")
    send_due(InlineSenders())
    pay(shop, stripe_events, order)
    assert order.status == S.RECEIVED

    # The first page's expiry arrives late: the paid order is not cancelled.
    outcome = stripe_events.post(old_page_expired).json()["outcome"]
    assert "older payment page" in outcome
    order.refresh_from_db()
    assert order.status == S.RECEIVED

    # An asynchronous payment's failure for a paid order texts nobody.
    before = len(texts_to())
    stripe_events.post(event("checkout.session.async_payment_failed", shop.sessions[first]))
    assert len(texts_to()) == before


def test_a_bank_debit_completes_first_and_is_paid_later(shop, sms, settings, stripe_events):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    order, _ = place(sms)
    session = shop.pay(session_of(order))
    waiting = dict(session, payment_status="unpaid")

    stripe_events.post(event("checkout.session.completed", waiting))
    order.refresh_from_db()
    assert order.status == S.AWAITING_PAYMENT and not order.paid

    stripe_events.post(event("checkout.session.async_payment_succeeded", session))
    order.refresh_from_db()
    assert order.status == S.RECEIVED and order.paid == order.total


def test_a_failed_bank_debit_texts_the_link_again(shop, sms, settings, stripe_events):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    order, _ = place(sms)
    session = shop.pay(session_of(order))

    stripe_events.post(event("checkout.session.async_payment_failed", session))

    last = texts_to()[-1]
    assert last.startswith(f"Your payment for order #{order.number} didn't go through")
    assert last.endswith(f"https://pizza.example.com/o/{order.token}/pay/")


# --- the payment window --------------------------------------------------------------------


def test_an_unpaid_order_is_reminded_once_then_cancelled_and_its_page_closed(
    shop, sms, settings, django_capture_on_commit_callbacks
):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    settings.PAYMENT_WINDOW_MINUTES = 30
    order, _ = place(sms)
    due = order.payment_due_by
    assert due - order.created_at == timedelta(minutes=30)

    with django_capture_on_commit_callbacks(execute=True):
        assert payments.sweep_payments(due - timedelta(minutes=15)) == 0
        assert payments.sweep_payments(due - timedelta(minutes=9)) == 1
        assert payments.sweep_payments(due - timedelta(minutes=5)) == 0  # once
    reminder = texts_to()[-1]
    assert reminder.startswith(f"Order #{order.number} is still waiting for payment. Pay by ")
    assert reminder.endswith(f"/o/{order.token}/pay/")

    with django_capture_on_commit_callbacks(execute=True):
        assert payments.sweep_payments(due + timedelta(seconds=1)) == 1
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert texts_to()[-1].startswith(
        f"Sorry, we had to cancel order #{order.number}: it wasn't paid in time. You won't be "
        "charged."
    )
    assert shop.sessions[session_of(order)]["status"] == "expired"


def test_the_expired_event_cancels_an_order_past_its_window(shop, sms, settings, stripe_events):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    order, _ = place(sms)
    Order.objects.filter(pk=order.pk).update(payment_due_by=timezone.now())

    stripe_events.post(event("checkout.session.expired", shop.expire(session_of(order))))

    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.events.filter(reason="it wasn't paid in time").exists()


def test_a_payment_after_the_order_was_cancelled_is_refunded(
    shop, sms, settings, stripe_events, django_capture_on_commit_callbacks
):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    order, _ = place(sms)
    session = shop.pay(session_of(order))  # paid at Stripe as the window closed
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order, by=None, reason="the oven broke")

    stripe_events.post(event("checkout.session.completed", session))

    order.refresh_from_db()
    assert order.status == S.CANCELLED and order.refunded == order.paid == order.total
    intent = order.payment_reference
    assert shop.payments[intent]["refunded"] == cents(order.total)
    assert texts_to()[-1].startswith(f"We've refunded ${order.total} for order #{order.number}")


def test_a_second_payment_of_the_same_order_is_refunded(shop, sms, stripe_events):
    order, _ = place(sms)
    first = session_of(order)
    payments.request_page(order)  # a second tab's page, before the first was paid
    send_due(InlineSenders())
    second = shop.pay(session_of(order))
    stripe_events.post(event("checkout.session.completed", shop.pay(first)))

    outcome = stripe_events.post(event("checkout.session.completed", second)).json()["outcome"]

    assert "already paid: this payment refunded" in outcome
    assert shop.payments[second["payment_intent"]]["refunded"] == cents(order.total)
    order.refresh_from_db()
    assert order.paid == order.total and order.refunded == 0  # the order's own payment stays


# --- refunds --------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["text", "staff", "page"])
def test_cancelling_a_paid_order_refunds_it_in_full(
    shop, sms, stripe_events, client, admin_user, django_capture_on_commit_callbacks, how
):
    order, _ = place(sms)
    pay(shop, stripe_events, order)

    if how == "text":
        [reply] = sms(ME, "CANCEL ORDER").replies
        assert f"the ${order.total} you paid will be refunded in full" in reply
    with django_capture_on_commit_callbacks(execute=True):
        if how == "staff":
            services.cancel_order(order, by=admin_user, reason="we ran out of dough")
        elif how == "page":
            client.post(f"/o/{order.token}/cancel/")

    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.refunded == order.total and order.payment_state == "refunded"
    assert shop.payments[order.payment_reference]["refunded"] == cents(order.total)
    [made] = Refund.objects.filter(order=order)
    assert made.state == "done" and made.reason == "Order cancelled"
    assert texts_to()[-1] == (
        f"We've refunded ${order.total} for order #{order.number} to your card. It can take 5-10 "
        "days to show on your statement."
    )


def test_a_partial_refund_with_a_reason_and_one_made_in_stripes_dashboard(
    shop, sms, stripe_events, admin_user, django_capture_on_commit_callbacks
):
    order, _ = place(sms)
    pay(shop, stripe_events, order)

    with django_capture_on_commit_callbacks(execute=True):
        made = payments.refund(order, Decimal("5.00"), "Cold pizza", by=admin_user)
    with pytest.raises(services.OrderError, match="left to refund"):
        payments.refund(order, order.total, "too much", by=admin_user)

    made.refresh_from_db()
    order.refresh_from_db()
    assert made.state == "done" and order.refunded == Decimal("5.00")
    assert order.payment_state == "partly refunded"
    assert texts_to()[-1].startswith(f"We've refunded $5 for order #{order.number}")
    # Stripe's charge.refunded for it changes nothing; a dashboard refund of 2 more is kept.
    intent = order.payment_reference
    stripe_events.post(event("charge.refunded", shop.charge(intent)))
    shop.payments[intent]["refunded"] += 200
    stripe_events.post(event("charge.refunded", shop.charge(intent)))
    order.refresh_from_db()
    assert order.refunded == Decimal("7.00")
    assert [r.reason for r in Refund.objects.filter(order=order).order_by("id")] == [
        "Cold pizza", "Refunded in Stripe's dashboard",
    ]  # fmt: skip


# --- what Stripe gets wrong ------------------------------------------------------------------


def test_a_forged_or_stale_webhook_is_refused_and_nothing_is_stored(shop, sms, stripe_events):
    order, _ = place(sms)
    session = shop.pay(session_of(order))
    completed = event("checkout.session.completed", session)

    assert stripe_events.post(completed, secret="whsec_someone_else").status_code == 400
    # Stripe's library judges the signature's age by the real clock (time.time), not the
    # test's (2 PM today, which is hours ahead after midnight): ten minutes old by that one.
    stale = time.time() - 10 * 60
    assert stripe_events.post(completed, timestamp=stale).status_code == 400
    assert stripe_events.client.post("/stripe/webhook/", "{}", content_type="application/json")
    assert StripeEvent.objects.count() == 0
    order.refresh_from_db()
    assert not order.paid


def test_a_payment_of_another_amount_or_currency_is_flagged_not_accepted(
    shop, sms, settings, stripe_events
):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    order, _ = place(sms)

    pay(shop, stripe_events, order, amount=cents(order.total) - 100)

    assert order.status == S.AWAITING_PAYMENT and not order.paid
    assert order.payment_flag.startswith(f"Paid {order.total - 1} USD by card")
    # Flagged orders are left to staff: the window's end does not cancel them.
    assert payments.sweep_payments(order.payment_due_by + timedelta(minutes=1)) == 0


def test_a_stripe_outage_keeps_the_order_and_the_page_is_made_when_stripe_answers(
    shop, sms, client
):
    shop.fail_next(1, status=503)
    order, [reply] = place(sms)

    assert order.status == S.RECEIVED and "Pay now or at the door" in reply
    page = payments.latest_page(order)
    assert page.status == "queued" and page.attempts == 1 and page.next_attempt_at
    waiting = client.get(f"/o/{order.token}/pay/")
    assert waiting.status_code == 200 and waiting["Refresh"] == "3"
    assert b"Getting your payment page ready" in waiting.content

    send_due(InlineSenders())  # not due yet: the retry waits its backoff
    assert StripeRequest.objects.get(pk=page.pk).status == "queued"
    StripeRequest.objects.filter(pk=page.pk).update(next_attempt_at=timezone.now())
    send_due(InlineSenders())

    assert client.get(f"/o/{order.token}/pay/")["Location"] == payments.latest_page(order).url
    assert len(shop.sessions) == 1


@pytest.mark.parametrize("fault", ["garbage", "stall"])
def test_a_garbled_or_stalled_answer_is_retried_and_makes_one_page(shop, sms, monkeypatch, fault):
    monkeypatch.setattr(stripe_api, "TIMEOUT_SECONDS", 0.5)
    stripe_api._client.cache_clear()
    if fault == "garbage":
        shop.garbage_next()
    else:
        shop.stall_next(seconds=1.5)
    order, _ = place(sms)
    page = payments.latest_page(order)
    assert page.status == "queued" and page.error_message.startswith("Stripe")

    StripeRequest.objects.filter(pk=page.pk).update(next_attempt_at=timezone.now())
    if fault == "stall":
        import time

        time.sleep(1.2)  # the stalled request is made at Stripe meanwhile
    send_due(InlineSenders())

    page.refresh_from_db()
    assert page.status == "done"
    assert len(shop.sessions) == 1  # the repeat's idempotency key returned the first page
    assert len({r[3]["idempotency-key"] for r in shop.made()}) == 1


def test_a_page_stripe_refuses_is_asked_again_later_then_flagged(shop, sms, settings):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    shop.fail_next(1, status=400)
    order, _ = place(sms)

    first = StripeRequest.objects.filter(order=order).order_by("id").first()
    assert first.status == "failed"
    again = payments.latest_page(order)
    assert again.pk != first.pk and again.next_attempt_at > timezone.now()
    for _ in range(payments.PAGE_ATTEMPTS):
        shop.fail_next(1, status=400)
        StripeRequest.objects.filter(status="queued").update(next_attempt_at=timezone.now())
        send_due(InlineSenders())
    order.refresh_from_db()
    assert order.payment_flag.startswith("No payment page could be made")


# --- staff -------------------------------------------------------------------------------------


def test_without_stripe_keys_nothing_changes(db, settings, sms, client):
    demo.seed(io.StringIO())
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    order, [reply] = place(sms)

    assert order.status == S.RECEIVED and not StripeRequest.objects.exists()
    assert reply.endswith(f"Track it: https://pizza.example.com/o/{order.token}/")
    assert b"Pay now" not in client.get(f"/o/{order.token}/").content


def test_stripe_configure_registers_the_webhook_once(shop, settings):
    out = io.StringIO()
    call_command("stripe_configure", stdout=out)
    assert "Made" in out.getvalue() and "STRIPE_WEBHOOK_SECRET=whsec_" in out.getvalue()
    [endpoint] = shop.endpoints.values()
    assert endpoint["url"] == "https://pizza.example.com/stripe/webhook/"
    assert set(endpoint["enabled_events"]) == set(payments.HANDLERS)

    out = io.StringIO()
    call_command("stripe_configure", stdout=out)
    assert "already" in out.getvalue() and len(shop.endpoints) == 1


def test_money_is_exact_with_a_deal_tax_and_a_delivery_fee(shop, sms, settings):
    settings.DELIVERY_FEE = "3.50"
    settings.DELIVERY_ZIP_CODES = []
    Deal.objects.create(
        code="2FOR25", description="2 large pizzas for $25", size="L", quantity=2,
        price=Decimal("25"), uses_per_customer=0,
    )  # fmt: skip
    order, reply = place(sms, "ORDER 2 large pepperoni 2FOR25, 1 coke, deliver to 12 Main St")

    assert order.discount > 0 and order.delivery_fee == Decimal("3.50"), reply
    [(_, _, params, _)] = shop.made()
    lines = [
        (
            x["price_data"]["product_data"]["name"],
            int(x["price_data"]["unit_amount"]) * int(x["quantity"]),
        )
        for x in params["line_items"]
    ]
    assert lines == [
        (f"Order #{order.number} (2FOR25)", cents(order.subtotal)),
        ("Tax", cents(order.tax)),
        ("Delivery fee", 350),
    ]
    assert sum(amount for _, amount in lines) == cents(order.total)


# --- the board and the admin ---------------------------------------------------------------


def test_the_board_shows_each_cards_payment_and_takes_one_at_the_door_in_one_tap(
    shop, sms, settings, admin_client, stripe_events
):
    settings.PAYMENT_REQUIRED_ABOVE = "100"
    unpaid, _ = place(sms)
    paid, _ = place(sms, phone="+14155550124")
    pay(shop, stripe_events, paid)

    board = admin_client.get("/staff/").content.decode()
    assert re.search(rf'id="order-{unpaid.pk}".*?class="money unpaid"', board, re.S)
    assert re.search(rf'id="order-{paid.pk}".*?class="money paid"', board, re.S)

    response = admin_client.post(f"/staff/orders/{unpaid.pk}/paid/", HTTP_HX_REQUEST="true")

    assert f"Order #{unpaid.number}: ${unpaid.total} paid at the door." in response.content.decode()
    unpaid.refresh_from_db()
    assert unpaid.paid == unpaid.total and unpaid.paid_by == "door"
    again = admin_client.post(f"/staff/orders/{unpaid.pk}/paid/", HTTP_HX_REQUEST="true")
    assert "is already paid" in again.content.decode()
    assert unpaid.events.filter(kind="payment").count() == 1


def test_the_board_lists_orders_waiting_for_payment_and_flagged_payments(
    shop, sms, settings, admin_client, stripe_events
):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    waiting, _ = place(sms)
    flagged, _ = place(sms, phone="+14155550124")
    pay(shop, stripe_events, flagged, currency="eur")

    panel = admin_client.get("/staff/panels/orders/").content.decode()

    assert f"<b>#{waiting.number}</b>" in panel and "waiting for payment until" in panel
    assert f"⚠ Paid {flagged.total} EUR by card" in panel
    assert f'id="order-{waiting.pk}"' not in panel  # not on the kitchen's columns


def test_a_partial_refund_from_the_admin_says_why_and_refuses_too_much(
    shop, sms, admin_client, stripe_events, django_capture_on_commit_callbacks
):
    order, _ = place(sms)
    pay(shop, stripe_events, order)

    too_much = admin_client.post(
        "/admin/payments/refund/add/",
        {"number": str(order.number), "amount": str(order.total + 1), "reason": "x"},
    )
    assert f"has {order.total} left to refund" in too_much.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/payments/refund/add/",
            {"number": str(order.number), "amount": "4.50", "reason": "Missing garlic knots"},
        )

    [made] = Refund.objects.filter(order=order)
    assert (made.amount, made.reason, made.state) == (
        Decimal("4.50"),
        "Missing garlic knots",
        "done",
    )
    order.refresh_from_db()
    assert order.refunded == Decimal("4.50")
    listed = admin_client.get("/admin/orders/order/").content.decode()
    assert "partly refunded" in listed
    assert texts_to()[-1].startswith(f"We've refunded $4.50 for order #{order.number}")


def test_the_days_report_and_csv_show_paid_refunded_and_outstanding(
    shop, sms, admin_client, stripe_events, django_capture_on_commit_callbacks
):
    by_card, _ = place(sms)
    at_door, _ = place(sms, phone="+14155550124")
    owing, _ = place(sms, phone="+14155550125")
    pay(shop, stripe_events, by_card)
    payment_module.mark_paid_at_door(at_door, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        payments.refund(by_card, Decimal("2.00"), "Late")

    report = day_report(timezone.localdate(by_card.created_at))

    assert report.paid == by_card.total + at_door.total
    assert report.refunded == Decimal("2.00")
    assert report.outstanding == owing.total
    rows = admin_client.get("/staff/reports/?format=csv").content.decode()
    assert f"payments,paid,{by_card.total + at_door.total}" in rows
    assert "payments,refunded,2.00" in rows and f"payments,outstanding,{owing.total}" in rows


def test_a_spanish_customer_is_asked_to_pay_in_spanish(shop, sms, settings):
    settings.PAYMENT_REQUIRED_ABOVE = "0"
    sms(ME, "hola, quiero 1 pizza grande de pepperoni")
    [reply] = sms(ME, "SI").replies
    order = Order.objects.get()

    assert order.customer.language == "es" and order.status == S.AWAITING_PAYMENT
    assert reply.startswith(f"¡Gracias! Guardamos tu pedido #{order.number}")
    assert f"Paga aqui: https://pizza.example.com/o/{order.token}/pay/" in reply
    [(_, _, params, _)] = shop.made()
    assert params["locale"] == "es"


def test_the_webhook_and_the_pay_link_run_the_same_queries_however_many_orders(
    shop, sms, stripe_events, client
):
    def measure(phone):
        order, _ = place(sms, phone=phone)
        session = shop.pay(session_of(order))
        with CaptureQueriesContext(connection) as paying:
            stripe_events.post(event("checkout.session.completed", session))
        with CaptureQueriesContext(connection) as going:
            client.get(f"/o/{order.token}/pay/")
        return len(paying), len(going)

    first = measure("+14155550130")
    for n in range(40):
        OrderFactory(customer__phone=f"+1415555{1000 + n}", paid=Decimal("1"))
    assert measure("+14155550131") == first
