"""The state machine's one door: every status change goes through `advance_order` /
`cancel_order` (locked, checked, recorded, the customer texted), and running late."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise

from telephony.logging import concerning
from telephony.models import Message
from telephony.reach import channel_for
from telephony.sms import send_sms

from . import drivers, feedback
from .errors import InvalidTransition, OrderError
from .hours import clock
from .links import order_link, pay_link
from .models import (
    CUSTOMER_MAY_CANCEL,
    FINISHED,
    IN_PROGRESS,
    PATHS,
    Actor,
    Order,
    OrderEvent,
    Status,
)
from .signals import order_cancelled
from .texts import money, render_sms

logger = logging.getLogger(__name__)

# --- the state machine's one door --------------------------------------------------------


@dataclass
class Moved:
    """The result of a status change: the order as it is now, its event, and the text queued
    for the customer (None when this stage does not text; status `failed` when the number may
    not be texted, e.g. opted out)."""

    order: Order
    event: OrderEvent
    text: Message | None

    @property
    def texted(self):
        return self.text is not None and self.text.status != Message.Status.FAILED

    def describe(self):
        """For staff: 'Order #1042 is now Baking; the customer was texted.'"""
        stage = self.order.get_status_display()
        if self.texted:
            texted = "the customer was texted"
        elif self.text is not None:
            texted = f"the customer was not texted ({self.text.error_message})"
        else:
            texted = "no text for this stage (ORDER_SMS_STAGES)"
        return f"Order #{self.order.number} is now {stage}; {texted}."


def _actor(by):
    if by in (None, Actor.SYSTEM):
        return Actor.SYSTEM, None
    if by == Actor.CUSTOMER:
        return Actor.CUSTOMER, None
    return Actor.STAFF, by


def _lock(order):
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=order.pk if isinstance(order, Order) else order)
    )


@dataclass(frozen=True)
class StageMove:
    name: str  # the transition's name, e.g. "start_baking"
    label: str  # what the staff button says, e.g. "Into the oven"
    target: str


def stage_moves(order):
    """The moves `order` may make now, with the labels the state machine gives them."""
    return [
        StageMove(t.name, t.custom.get("label") or t.name, t.target)
        for t in order.get_available_status_transitions()
    ]


def transition_target(order, name):
    """The status the transition called `name` leads to (allowed now or not), or None."""
    for t in order.get_all_status_transitions():
        if t.name == name:
            return t.target
    return None


def allowed_moves(order):
    """The statuses `order` may move to now (staff's view)."""
    targets = {t.target for t in order.get_available_status_transitions()}
    return [status for status in Status.values if status in targets]


def next_status(order):
    """The next stage on the order's happy path, or None when it is finished."""
    path = PATHS[order.fulfilment]
    if order.status not in path or order.status == path[-1]:
        return None
    return path[path.index(order.status) + 1]


def _refuse(order, to_status):
    label = Status(to_status).label if to_status in Status.values else str(to_status)
    current = order.get_status_display()
    if order.status == to_status:
        return InvalidTransition(f"Order #{order.number} is already {current}.")
    if order.status in FINISHED:
        return InvalidTransition(
            f"Order #{order.number} is already {current}; it cannot move to {label}."
        )
    choices = ", ".join(Status(s).label for s in allowed_moves(order)) or "nothing"
    return InvalidTransition(
        f"Order #{order.number} cannot go from {current} to {label}; it can go to {choices}."
    )


def advance_order(order, to_status, by=None, reason="", notify=True, driver=None):
    """Move `order` to `to_status`: the one door for status changes.

    Locks the row, refuses a move the state machine does not allow (InvalidTransition,
    including "already <stage>" when another change got there first), writes an OrderEvent
    and queues the customer's text in the same transaction (sent after commit).
    `by`: a staff user, Actor.CUSTOMER, or None for the system. `driver`: who takes a
    delivery out (orders/drivers.py): kept on the order and texted its details.
    """
    if to_status == Status.CANCELLED:
        return cancel_order(order, by=by, reason=reason, notify=notify)
    with transaction.atomic():
        locked = _lock(order)
        transitions = {t.target: t for t in locked.get_available_status_transitions()}
        chosen = transitions.get(to_status)
        if chosen is None:
            raise _refuse(locked, to_status)
        if driver is not None and to_status == Status.OUT_FOR_DELIVERY:
            locked.driver = driver
            locked.save(update_fields=["driver"])
        moved = _apply(locked, chosen.name, to_status, by, reason, notify)
        if driver is not None and to_status == Status.OUT_FOR_DELIVERY:
            drivers.text_driver(locked)
        return moved


def cancel_order(order, by=None, reason="", notify=True, only_from=None):
    """Cancel `order`. Customers may cancel while it is received or being prepared; staff
    (and the system) from any unfinished stage, with a reason. `only_from`: cancel only an
    order in that stage (InvalidTransition otherwise: it moved on while we looked).

    A paid order is refunded (payments/ hears `order_cancelled`)."""
    actor, _ = _actor(by)
    reason = reason if isinstance(reason, Promise) else (reason or "").strip()
    if actor == Actor.STAFF and not reason:
        raise OrderError("Say why the order is cancelled (the reason is kept with the order).")
    with transaction.atomic():
        locked = _lock(order)
        if locked.status in FINISHED:
            raise _refuse(locked, Status.CANCELLED)
        if only_from and locked.status != only_from:
            raise InvalidTransition(f"Order #{locked.number} is {locked.get_status_display()}.")
        if actor == Actor.CUSTOMER and locked.status not in CUSTOMER_MAY_CANCEL:
            raise InvalidTransition(
                f"Order #{locked.number} is already {locked.stage_words}, so it can no longer "
                "be cancelled by text."
            )
        return _apply(locked, "cancel", Status.CANCELLED, by, reason, notify)


def _apply(order, method, to_status, by, reason, notify):
    with concerning(order=order.number):  # on every log line the move writes
        logger.info("Order #%s: %s -> %s", order.number, order.status, to_status)
        return _move(order, method, to_status, by, reason, notify)


def _move(order, method, to_status, by, reason, notify):
    actor, user = _actor(by)
    from_status = order.status
    getattr(order, method)()
    order.save(update_fields=["status", "updated_at"])
    if to_status in (Status.DELIVERED, Status.PICKED_UP):
        feedback.schedule(order)  # "How was your order?" (orders/feedback.py)
    if to_status == Status.CANCELLED:
        order_cancelled.send(sender=Order, order=order)
    event = OrderEvent(
        order=order,
        kind=OrderEvent.Kind.CANCELLED if to_status == Status.CANCELLED else OrderEvent.Kind.STATUS,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        user=user,
        reason=str(reason or "")[:300],
    )
    text = None
    if notify and to_status in settings.ORDER_SMS_STAGES:
        text = notify_customer(order, f"stage_{to_status}", reason=reason)
        event.notified = text.status != Message.Status.FAILED
    event.save()
    return Moved(order, event, text)


def notify_customer(order, template, **context):
    """Text the customer about `order`, on the channel they last wrote on (telephony's
    channel_for: WhatsApp inside its 24-hour session, else SMS), in their language."""
    with translation.override(order.customer.language):
        body = render_sms(
            template, order=order, number=order.number, promised=clock(order.promised_at),
            paid=money(order.paid) if order.paid > order.refunded else "",
            **context, link=order_link(order), pay_link=pay_link(order),
        )  # fmt: skip
    phone = str(order.customer.phone)
    return send_sms(phone, body, about=order, channel=channel_for(phone))


# --- running late --------------------------------------------------------------------------


def delay_order(order, minutes, reason, by=None, now=None):
    """Push the promised time back by `minutes` and text the customer the new time and the
    reason (the customer reads it)."""
    now = now or timezone.now()
    minutes = int(minutes)
    if not 1 <= minutes <= 240:
        raise OrderError("A delay is between 1 and 240 minutes.")
    actor, user = _actor(by)
    with transaction.atomic():
        locked = _lock(order)
        if locked.status in FINISHED:
            raise OrderError(f"Order #{locked.number} is already {locked.get_status_display()}.")
        locked.promised_at = max(locked.promised_at or now, now) + timedelta(minutes=minutes)
        locked.save(update_fields=["promised_at", "updated_at"])
        text = notify_customer(locked, "delayed", reason=(reason or "").strip())
        event = OrderEvent.objects.create(
            order=locked, kind=OrderEvent.Kind.DELAYED, actor=actor, user=user,
            reason=f"+{minutes} min: {reason}"[:300], notified=text.status != Message.Status.FAILED,
        )  # fmt: skip
    return Moved(locked, event, text)


def late_orders(now=None):
    """Orders in progress past their promised time that have not had their late text."""
    now = now or timezone.now()
    return Order.objects.filter(status__in=IN_PROGRESS, promised_at__lt=now, late_notices=0)


def check_late_orders(now=None):
    """Text each order that passed its promised time one new estimate
    (ORDER_LATE_EXTRA_MINUTES later), once per order: when the new estimate passes too, the
    board shows it late (against the first promise) and staff decide. Returns how many were
    texted."""
    now = now or timezone.now()
    count = 0
    for pk in list(late_orders(now).values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            order = _lock(pk)
            if (
                order.status not in IN_PROGRESS
                or not order.promised_at
                or order.promised_at >= now
                or order.late_notices
            ):
                continue  # moved on, or already given a new time, while we looked
            order.promised_at = now + timedelta(minutes=settings.ORDER_LATE_EXTRA_MINUTES)
            order.late_notices += 1
            order.save(update_fields=["promised_at", "late_notices", "updated_at"])
            text = notify_customer(order, "late")
            OrderEvent.objects.create(
                order=order, kind=OrderEvent.Kind.DELAYED, actor=Actor.SYSTEM,
                reason=f"Passed its promised time; new estimate {clock(order.promised_at, now)}",
                notified=text.status != Message.Status.FAILED,
            )  # fmt: skip
            count += 1
    return count
