"""Paying by link: each placed order gets a Stripe Checkout Session (its payment page), made by
the worker through the outbox; Stripe's events say it was paid, failed, expired or refunded;
a cancelled paid order is refunded. What a payment does to the order (the kitchen, texts, the
money kept) is orders/payment.py.

Decisions where the issue is silent:
- The texts carry the order page's link, as always (a Checkout address is 300 characters:
  a text of its own). The page's "Pay now" button, and /o/<token>/pay/, go to the payment
  page; one not made yet (Stripe slow or down) says so and looks again every few seconds.
- One payment page at a time per order. A page expires after PAYMENT_WINDOW_MINUTES (plus 5:
  our sweep cancels first) for an order that must be paid first, else after 23 hours; a
  customer who comes back later gets a new one. A changed order (by text, before it is paid)
  gets a new page and its old one is closed.
- A payment page that cannot be made (Stripe refused, or still down after the outbox's
  retries) is asked again 5 minutes later, up to PAGE_ATTEMPTS pages an order; after that
  the order is flagged for staff.
- Paid twice (two pages, two tabs), the second payment is refunded at once; paid after the
  order was cancelled, the payment is refunded at once. Both are kept on the order's history.
- An order paid at the door is refunded by hand: a refund in the admin records it, with no
  call to Stripe.
- `manage.py stripe_configure` talks to Stripe directly: it is run by hand at setup, prints
  what it found, and is no webhook or customer's request.
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from orders import payment
from orders.errors import OrderError
from orders.models import Order, Status
from orders.moves import notify_customer
from orders.signals import order_cancelled, order_changed, order_placed
from orders.texts import line_extras, line_label

from . import outbox
from .models import Refund, StripeEvent, StripeRequest

logger = logging.getLogger(__name__)
Kind = StripeRequest.Kind
ReqStatus = StripeRequest.Status
PAGE_ATTEMPTS = 5
PAGE_RETRY = timedelta(minutes=5)


# --- payment pages -------------------------------------------------------------------------


def _public(path):
    return (settings.PUBLIC_BASE_URL or "http://localhost:8000") + path


def session_params(order, now=None):
    """What Stripe is asked for an order's payment page: its lines as quoted (items with
    their toppings, the deal, tax, the delivery fee) in integer cents adding up to the
    order's total exactly, the order's page to come back to, the order in metadata."""
    now = now or timezone.now()
    currency = settings.SHOP_CURRENCY.lower()

    def line(name, cents, quantity=1, description=""):
        product = {"name": name[:250]}
        if description:
            product["description"] = description[:500]
        return {
            "price_data": {"currency": currency, "unit_amount": cents, "product_data": product},
            "quantity": quantity,
        }

    items = list(order.items.all())
    if order.discount:  # the deal's price is for the food together: one line
        names = ", ".join(f"{i.quantity}x {line_label(i)}" for i in items)
        lines = [line(f"Order #{order.number} ({order.deal.code if order.deal else 'deal'})",
                      payment.to_cents(order.subtotal), description=names)]  # fmt: skip
    else:
        lines = [
            line(
                f"{line_label(i)} {i.get_size_display()}" if i.size else line_label(i),
                payment.to_cents(i.unit_price),
                i.quantity,
                line_extras(i),
            )  # fmt: skip
            for i in items
        ]
    if order.tax:
        lines.append(line("Tax", payment.to_cents(order.tax)))
    if order.delivery_fee:
        lines.append(line("Delivery fee", payment.to_cents(order.delivery_fee)))
    total = sum(x["price_data"]["unit_amount"] * x["quantity"] for x in lines)
    if total != payment.to_cents(order.total):  # never charge other than the quote
        lines = [line(f"Order #{order.number}", payment.to_cents(order.total))]
    if order.status == Status.AWAITING_PAYMENT and order.payment_due_by:
        expires = max(order.payment_due_by + timedelta(minutes=5), now + timedelta(minutes=35))
    else:
        expires = now + timedelta(hours=23)
    page = _public(reverse("orders:page", args=[order.token]))
    ids = {"order_id": str(order.pk), "order_number": str(order.number)}
    return {
        "mode": "payment",
        "line_items": lines,
        "success_url": page + "?paid=1",
        "cancel_url": page,
        "client_reference_id": str(order.number),
        "metadata": ids,
        "payment_intent_data": {"metadata": ids, "description": f"Order #{order.number}"},
        "expires_at": int(expires.timestamp()),
        "locale": "es" if order.customer.language == "es" else "auto",
    }


def request_page(order, now=None, after=None):
    """Queue a payment page for `order` (its n-th: the idempotency key says which, so a
    repeat of this request never makes a second page). Returns the StripeRequest."""
    return outbox.written(
        StripeRequest.objects.create(
            order=order,
            kind=Kind.CREATE_SESSION,
            params=session_params(order, now),
            idempotency_key=f"{order.token}-page-{_pages_made(order) + 1}",
            next_attempt_at=after,
        )
    )


def latest_page(order):
    """The order's newest payment page request (any state), or None."""
    return (
        StripeRequest.objects.filter(order=order, kind=Kind.CREATE_SESSION).order_by("-id").first()
    )


def page_for(order, now=None):
    """Where the customer pays for `order` now: (url or "", why not). Asks for a new page
    when the last one expired or could not be made. Why not: "paid", "closed" (cancelled,
    or payment is off), "wait" (being made)."""
    now = now or timezone.now()
    if order.paid:
        return "", "paid"
    if order.status == Status.CANCELLED or not payment.online():
        return "", "closed"
    page = latest_page(order)
    if page is not None and page.status in (ReqStatus.QUEUED, ReqStatus.CLAIMED):
        return "", "wait"
    if page is not None and page.status == ReqStatus.DONE:
        expires = page.result.get("expires_at", 0)
        if page.url and expires > now.timestamp() + 60 and page.result.get("status") == "open":
            return page.url, ""
    if page is not None and page.status == ReqStatus.FAILED and _pages_made(order) >= PAGE_ATTEMPTS:
        return "", "closed"
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if latest_page(locked) == page:  # nobody asked meanwhile
            request_page(locked, now)
    return "", "wait"


def _pages_made(order):
    return StripeRequest.objects.filter(order=order, kind=Kind.CREATE_SESSION).count()


def close_pages(order):
    """Close the order's open payment page at Stripe (so it can no longer be paid)."""
    page = latest_page(order)
    if page is None or page.status != ReqStatus.DONE or page.result.get("status") != "open":
        return None
    return outbox.written(
        StripeRequest.objects.get_or_create(
            idempotency_key=f"{order.token}-close-{page.pk}",
            defaults={
                "order": order, "kind": Kind.EXPIRE_SESSION, "params": {"session": page.sid},
            },
        )[0]
    )  # fmt: skip


def refusal(request):
    """Why a queued request is no longer wanted (checked when the worker claims it)."""
    if request.kind != Kind.CREATE_SESSION:
        return None
    order = Order.objects.filter(pk=request.order_id).values("status", "paid").first()
    if order is None or order["status"] == Status.CANCELLED:
        return "not made: the order was cancelled"
    if order["paid"]:
        return "not made: the order is paid"
    return None


# --- what the orders app tells us -----------------------------------------------------------


@receiver(order_placed)
def _placed(sender, order, **kwargs):
    if payment.online():
        request_page(order)


@receiver(order_changed)
def _changed(sender, order, **kwargs):
    if payment.online() and not order.paid:
        close_pages(order)
        request_page(order)


@receiver(order_cancelled)
def _cancelled(sender, order, **kwargs):
    if not payment.online():
        return
    left = refundable(order) if order.paid_by == "card" else 0
    if left > 0:
        refund(order, left, "Order cancelled")
    elif not order.paid:
        close_pages(order)


# --- refunds -------------------------------------------------------------------------------


def refundable(order):
    """What may still be refunded: paid, less what is refunded or being refunded."""
    return max(Decimal("0"), order.paid - _refunds_asked(order))


def _refunds_asked(order):
    """The refunds of `order` made or being made (not those that failed), in all."""
    asked = Refund.objects.filter(order=order).exclude(state=Refund.State.FAILED)
    return asked.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def refund(order, amount, reason, by=None):
    """Refund `amount` of `order`'s payment (all of what is left when `amount` is None), with
    `reason` kept. By card: a Stripe refund through the outbox, the customer texted when it is
    made. Paid at the door: recorded at once (staff hand the money back). Returns the Refund;
    OrderError for an amount that is not there to refund."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        left = refundable(order)
        amount = left if amount is None else Decimal(amount).quantize(payment.CENT)
        if not order.paid:
            raise OrderError(f"Order #{order.number} has not been paid.")
        if amount <= 0 or amount > left:
            raise OrderError(f"Order #{order.number} has {left:.2f} left to refund.")
        if not (reason or "").strip():
            raise OrderError("Say why the money is refunded (it is kept with the order).")
        made = Refund.objects.create(order=order, amount=amount, reason=reason.strip()[:200], by=by)
        if order.paid_by != "card":
            Refund.objects.filter(pk=made.pk).update(
                state=Refund.State.DONE, done_at=timezone.now()
            )
            payment.record_refund(order, amount, text=False)
            return made
        made.request = outbox.written(
            StripeRequest.objects.create(
                order=order,
                kind=Kind.REFUND,
                params={
                    # A payment by link is a PaymentIntent; one by keypad (<Pay>) a charge.
                    _paid_with(order.payment_reference): order.payment_reference,
                    "amount": payment.to_cents(amount),
                    "metadata": {"order_id": str(order.pk), "refund_id": str(made.pk)},
                },
                idempotency_key=f"{order.token}-refund-{made.pk}",
            )
        )
        made.save(update_fields=["request"])
        return made


def _paid_with(reference):
    return "charge" if reference.startswith(("ch_", "py_")) else "payment_intent"


# --- what Stripe answered (the outbox) --------------------------------------------------


def request_finished(request):
    """A Stripe request ended (StripeRequest DONE or FAILED): act on it."""
    order = request.order
    if request.kind == Kind.REFUND:
        _refund_finished(request, order)
    elif request.kind == Kind.CREATE_SESSION and request.status == ReqStatus.FAILED:
        _page_failed(request, order)


def _refund_finished(request, order):
    made = Refund.objects.filter(request=request, state=Refund.State.PENDING).first()
    if made is None:
        return
    if request.status == ReqStatus.DONE:
        Refund.objects.filter(pk=made.pk).update(
            state=Refund.State.DONE, stripe_id=request.sid, done_at=timezone.now()
        )
        payment.record_refund(order, made.amount)
        return
    Refund.objects.filter(pk=made.pk).update(state=Refund.State.FAILED)
    payment.flag_payment(
        order, f"Stripe did not make the refund of {made.amount}: {request.error_message}"
    )


def _page_failed(request, order):
    if order.status == Status.CANCELLED or order.paid or request.error_message.startswith("not "):
        return
    if _pages_made(order) >= PAGE_ATTEMPTS:
        payment.flag_payment(order, f"No payment page could be made: {request.error_message}"[:200])
        return
    request_page(order, after=timezone.now() + PAGE_RETRY)


# --- Stripe's events -----------------------------------------------------------------------


def handle_event(event):
    """Handle one verified event (a dict) once: a replay of a recorded id does nothing.
    Returns (outcome, new)."""
    with transaction.atomic():
        recorded, new = StripeEvent.objects.get_or_create(
            event_id=str(event.get("id", ""))[:255],
            defaults={"type": str(event.get("type", ""))[:100], "payload": event},
        )
        if not new:
            return recorded.outcome or "already handled", False
        handler = HANDLERS.get(recorded.type)
        obj = (event.get("data") or {}).get("object") or {}
        outcome = handler(obj) if handler else "not an event we act on"
        recorded.outcome = outcome[:300]
        recorded.save(update_fields=["outcome"])
    logger.info("Stripe event %s (%s): %s", recorded.event_id, recorded.type, outcome)
    return outcome, True


def _order_of(obj):
    metadata = obj.get("metadata") or {}
    order_id = str(metadata.get("order_id") or "")
    if order_id.isdigit():
        return Order.objects.select_related("customer").filter(pk=int(order_id)).first()
    return Order.objects.by_number(obj.get("client_reference_id") or "").first()


def _note_page(session):
    """Keep what Stripe says of one of our pages (open, complete, expired)."""
    page = StripeRequest.objects.filter(kind=Kind.CREATE_SESSION, sid=session.get("id") or "-")
    for found in page.select_for_update():
        found.result["status"] = str(session.get("status") or "")[:20]
        found.save(update_fields=["result", "updated_at"])


def _session_completed(session):
    if session.get("payment_status") == "paid":
        return _session_paid(session)  # (which notes the page)
    _note_page(session)
    return "completed, the payment still to come (a bank debit): waiting"


def _session_paid(session):
    _note_page(session)
    order = _order_of(session)
    if order is None:
        return "no such order: ignored"
    amount = payment.from_cents(session.get("amount_total") or 0)
    reference = session.get("payment_intent") or session.get("id") or ""
    taken = payment.take_payment(
        order, amount, session.get("currency") or "", by="card", reference=reference
    )
    order = taken.order
    if taken.outcome == "already" and order.payment_reference != reference:
        _refund_stray(order, reference, "Paid twice: the second payment refunded")
        return f"order #{order.number} was already paid: this payment refunded"
    if taken.outcome == "cancelled":
        refund(order, None, "Paid after the order was cancelled")
        return f"order #{order.number} was cancelled: the payment refunded"
    return f"order #{order.number}: {taken.outcome}"


def _refund_stray(order, reference, reason):
    """Refund, in full, a payment that is not the order's (the second of two). It is no
    Refund of the order's money: only its history says so."""
    outbox.written(
        StripeRequest.objects.get_or_create(
            idempotency_key=f"{order.token}-stray-{reference}"[:100],
            defaults={
                "order": order, "kind": Kind.REFUND,
                "params": {"payment_intent": reference, "metadata": {"order_id": str(order.pk)}},
            },
        )[0]
    )  # fmt: skip
    payment.note(order, f"{reason} ({reference})")


def _session_failed(session):
    order = _order_of(session)
    if order is None:
        return "no such order: ignored"
    if order.paid or order.status == Status.CANCELLED:
        return f"order #{order.number}: nothing to do"
    notify_customer(order, "payment_failed")
    return f"order #{order.number}: the payment failed; the customer was texted"


def _session_expired(session):
    _note_page(session)
    order = _order_of(session)
    if order is None:
        return "no such order: ignored"
    latest = latest_page(order)
    if latest is None or latest.sid != session.get("id"):
        return f"order #{order.number}: an older payment page; nothing to do"
    if order.status != Status.AWAITING_PAYMENT:
        return f"order #{order.number}: its page expired; it may be paid at the door"
    if order.payment_due_by and order.payment_due_by <= timezone.now():
        payment.cancel_unpaid(order=order)
        return f"order #{order.number}: not paid in time, cancelled"
    request_page(order)
    return f"order #{order.number}: its page expired early; a new one asked for"


def _charge_refunded(charge):
    """Refunds made anywhere (ours, or in Stripe's dashboard): what Stripe has refunded in all
    (`amount_refunded`) beyond what we made or are making is recorded and texted."""
    reference = charge.get("payment_intent") or ""
    order = Order.objects.filter(payment_reference=reference).first() if reference else None
    if order is None:
        return "no order paid with this charge: ignored"
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        refunded = payment.from_cents(charge.get("amount_refunded") or 0)
        known = _refunds_asked(order)
        extra = min(refunded - known, order.paid - known)
        if extra <= 0:
            return f"order #{order.number}: refunds already known"
        Refund.objects.create(
            order=order, amount=extra, reason="Refunded in Stripe's dashboard",
            state=Refund.State.DONE, done_at=timezone.now(),
        )  # fmt: skip
        payment.record_refund(order, extra)
    return f"order #{order.number}: {extra} refunded outside the shop, recorded"


HANDLERS = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_paid,
    "checkout.session.async_payment_failed": _session_failed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
}


# --- the sweep -----------------------------------------------------------------------------


def sweep_payments(now=None):
    """The worker's minute sweep (settings.TELEPHONY_SWEEPS): remind, then cancel, the orders
    not paid in their window; finish handling Stripe's answers a failed handler left."""
    now = now or timezone.now()
    if not payment.online() and not Order.objects.filter(status=Status.AWAITING_PAYMENT).exists():
        return 0
    count = payment.remind_unpaid(now) + len(payment.cancel_unpaid(now))
    return count + outbox.tell_untold(now)
