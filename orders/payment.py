"""An order's money: whether it must be paid before the kitchen sees it, and what a payment,
a refund or the end of the payment window does to it. The card side (Stripe: payment pages,
refunds, its webhook) is payments/, which calls these; status moves go through
orders.moves, the one door.

Decisions:
- Payment is on only with STRIPE_SECRET_KEY; without it nothing here changes an order.
- An order above PAYMENT_REQUIRED_ABOVE is placed "awaiting payment": not on the board, no
  stage texts, its promised time set when it is paid (as if placed then).
- A payment is accepted only for the order's total in the shop's currency. Anything else
  is kept on the order as `payment_flag` for staff (the board lists it), never accepted:
  the order does not move.
- A payment arriving after the order was cancelled is refunded (payments/ queues it).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from .billing import (
    CENT,
    from_cents,
    must_pay_first,
    online,
    prep_minutes,
    required_above,
    to_cents,
)
from .errors import OrderError
from .hours import clock
from .models import Actor, Order, OrderEvent, Status
from .moves import _apply, _lock, cancel_order, notify_customer
from .texts import money

# What payments/ uses of the money rules in orders/billing.py comes from here too.
__all__ = [
    "CENT", "Taken", "cancel_unpaid", "clear_flag", "flag_payment", "from_cents",
    "mark_paid_at_door", "must_pay_first", "note", "online", "record_refund", "remind_unpaid",
    "required_above", "take_payment", "to_cents",
]  # fmt: skip


@dataclass(frozen=True)
class Taken:
    """What a payment did: "paid" (accepted), "already" (this payment was recorded before),
    "flagged" (not accepted: wrong amount or currency), or "cancelled" (the order was
    cancelled before it was paid: to be refunded)."""

    outcome: str
    order: Order


def take_payment(order, amount, currency, *, by="card", reference="", user=None, now=None):
    """Record a payment of `amount` (Decimal) in `currency` for `order` (`by` "card" or
    "door"; `user`: the staff member who took it). The order is paid once: a second payment
    (the same one replayed, or another) is "already" and changes nothing."""
    now = now or timezone.now()
    amount = Decimal(amount).quantize(CENT)
    with transaction.atomic():
        locked = _lock(order)
        if locked.paid:
            return Taken("already", locked)
        expected = (locked.total.quantize(CENT), settings.SHOP_CURRENCY.lower())
        if (amount, (currency or "").lower()) != expected:
            flag = (
                f"Paid {amount} {(currency or '?').upper()} by {by} ({reference or 'no id'}); "
                f"the order is {expected[0]} {expected[1].upper()}. Not accepted: check and "
                "refund or take the difference."
            )
            flag_payment(locked, flag, now, by=user)
            return Taken("flagged", locked)
        locked.paid, locked.paid_by, locked.paid_at = amount, by, now
        locked.payment_reference, locked.payment_flag = reference[:100], ""
        locked.save(
            update_fields=[
                "paid", "paid_by", "paid_at", "payment_reference", "payment_flag", "updated_at"
            ]
        )  # fmt: skip
        how = "at the door" if by == "door" else "by card"
        _event(locked, f"Paid {amount} {how}" + (f" ({reference})" if reference else ""), now, user)
        if locked.status == Status.CANCELLED:
            return Taken("cancelled", locked)
        if locked.status == Status.AWAITING_PAYMENT:
            _to_the_kitchen(locked, now)
        return Taken("paid", locked)


def mark_paid_at_door(order, by):
    """Staff's one tap: the order's total was paid in cash or by card at the door."""
    order = order if isinstance(order, Order) else Order.objects.get(pk=order)
    if order.status == Status.CANCELLED:
        raise OrderError(f"Order #{order.number} is cancelled.")
    taken = take_payment(order, order.total, settings.SHOP_CURRENCY, by="door", user=by)
    if taken.outcome == "already":
        raise OrderError(f"Order #{order.number} is already paid.")
    return taken


def _to_the_kitchen(order, now):
    """Paid: into the kitchen's queue, promised from now (a scheduled order keeps its time),
    and the customer texted the time."""
    if not order.is_scheduled:
        order.promised_at = order.first_promised_at = now + timedelta(
            minutes=prep_minutes(order.fulfilment)
        )
    order.payment_due_by = None
    order.save(update_fields=["promised_at", "first_promised_at", "payment_due_by", "updated_at"])
    moved = _apply(order, "confirm_payment", Status.RECEIVED, None, "Paid", notify=False)
    text = notify_customer(order, "paid", delivery=order.fulfilment == "delivery")
    moved.event.notified = text.status != "failed"
    moved.event.save(update_fields=["notified"])


def record_refund(order, amount, now=None, text=True):
    """`amount` was refunded to the customer: kept on the order, and texted to them (by card;
    `text=False` for money handed back at the door)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(order)
        locked.refunded = min(locked.paid, locked.refunded + Decimal(amount)).quantize(CENT)
        locked.save(update_fields=["refunded", "updated_at"])
        _event(locked, f"Refunded {Decimal(amount):.2f}", now)
        if text:
            notify_customer(locked, "refunded", amount=money(amount))
        return locked


def flag_payment(order, why, now=None, by=None):
    """Something about the order's payment needs a person (a payment not accepted, a refund
    Stripe refused...): kept on the order for the board and the admin, and in its history."""
    now = now or timezone.now()
    order.payment_flag = why[:200]
    Order.objects.filter(pk=order.pk).update(payment_flag=order.payment_flag, updated_at=now)
    _event(order, why, now, by=by)


def note(order, what, by=None):
    """Keep `what` on the order's history (a payment event)."""
    _event(order, what, timezone.now(), by=by)


def clear_flag(order, by):
    Order.objects.filter(pk=order.pk).update(payment_flag="", updated_at=timezone.now())
    _event(order, "Payment flag cleared", timezone.now(), by=by)


def _event(order, note, now, by=None):
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.PAYMENT,
        actor=Actor.STAFF if by else Actor.SYSTEM,
        user=by,
        reason=note[:300],
    )


# --- the payment window ----------------------------------------------------------------


def unpaid_due(now=None):
    """Orders awaiting payment whose window has ended (none flagged: staff decide those)."""
    now = now or timezone.now()
    return Order.objects.filter(
        status=Status.AWAITING_PAYMENT, payment_due_by__lte=now, payment_flag=""
    )


def reminders_due(now=None):
    """Orders awaiting payment within 10 minutes of the window's end, not yet reminded."""
    now = now or timezone.now()
    return Order.objects.filter(
        status=Status.AWAITING_PAYMENT,
        payment_due_by__gt=now,
        payment_due_by__lte=now + timedelta(minutes=10),
        payment_reminded_at__isnull=True,
        payment_flag="",
    )


def remind_unpaid(now=None):
    """One text to each order awaiting payment near its window's end. Returns how many."""
    now = now or timezone.now()
    count = 0
    for pk in list(reminders_due(now).values_list("pk", flat=True)[:200]):
        with transaction.atomic():
            order = _lock(pk)
            if order.status != Status.AWAITING_PAYMENT or order.payment_reminded_at:
                continue
            order.payment_reminded_at = now
            order.save(update_fields=["payment_reminded_at", "updated_at"])
            notify_customer(order, "payment_reminder", due=clock(order.payment_due_by, now))
            count += 1
    return count


def cancel_unpaid(now=None, order=None):
    """Cancel the orders awaiting payment past their window (or just `order`, when its
    payment page expired), each texted why. Returns the orders cancelled."""
    now = now or timezone.now()
    found = unpaid_due(now) if order is None else Order.objects.filter(pk=order.pk)
    cancelled = []
    for pk in list(found.values_list("pk", flat=True)[:200]):
        try:
            moved = cancel_order(
                pk, by=None, reason=NOT_PAID_IN_TIME, only_from=Status.AWAITING_PAYMENT
            )
        except OrderError:
            continue  # paid, or cancelled, while we looked
        cancelled.append(moved.order)
    return cancelled


# The reason texted (in the customer's language) and kept on the order.
NOT_PAID_IN_TIME = pgettext_lazy("cancel reason", "it wasn't paid in time")
