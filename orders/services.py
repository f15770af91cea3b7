"""Use cases of the orders app: quote, place, move through the stages, cancel, delay, and
answer customers. Every status change goes through `advance_order` / `cancel_order`."""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from telephony.models import Message, about_fields
from telephony.numbers import is_withheld
from telephony.reach import channel_for
from telephony.sms import send_sms

from . import parser, shop
from .hours import clock, local, shop_hours
from .links import order_link
from .menu import current as current_menu
from .menu import line_details, price_line
from .models import (
    CUSTOMER_MAY_CANCEL,
    FINISHED,
    IN_PROGRESS,
    PATHS,
    Actor,
    Customer,
    Fulfilment,
    Inquiry,
    Order,
    OrderEvent,
    OrderItem,
    Quote,
    Status,
)
from .texts import render_sms

logger = logging.getLogger(__name__)


class OrderError(Exception):
    """Something a customer or staff member asked for that cannot be done; the message says
    why, in words fit to show them."""


class InvalidTransition(OrderError):
    """A status change the state machine refuses (or another change got there first)."""


class OutsideDeliveryArea(OrderError):
    """A delivery address without a ZIP code we deliver to (DELIVERY_ZIP_CODES): `zip_code`
    is the one found in it, or "" when it has none."""

    def __init__(self, zip_code):
        super().__init__(f"We do not deliver to {zip_code or 'that address'}.")
        self.zip_code = zip_code


class BelowDeliveryMinimum(OrderError):
    """A delivery with less food (before tax) than DELIVERY_MINIMUM; `subtotal` is what it has."""

    def __init__(self, subtotal):
        super().__init__(f"Delivery needs {shop.delivery_minimum()} of food.")
        self.subtotal = subtotal


CENT = Decimal("0.01")


@dataclass(frozen=True)
class Bill:
    """What an order costs: food (subtotal), sales tax on it, the delivery fee, and the total.
    Tax is SHOP_TAX_RATE of the food, rounded half up to the cent (the fee is not taxed)."""

    subtotal: Decimal
    tax: Decimal
    delivery_fee: Decimal

    @property
    def total(self):
        return self.subtotal + self.tax + self.delivery_fee

    @classmethod
    def for_food(cls, subtotal, delivery):
        subtotal = Decimal(subtotal).quantize(CENT)
        tax = (subtotal * shop.tax_rate()).quantize(CENT, ROUND_HALF_UP)
        fee = shop.delivery_fee().quantize(CENT) if delivery else Decimal("0.00")
        return cls(subtotal, tax, fee)


_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")


def zip_code(address):
    """The ZIP code an address ends with ("12 Main St, 10001" -> "10001"), or "". A leading
    house number of five digits is not taken for one."""
    found = [m for m in _ZIP.finditer(address or "") if m.start() > 0]
    return found[-1].group(1) if found else ""


def check_delivery(address, subtotal):
    """Raise OutsideDeliveryArea or BelowDeliveryMinimum when we cannot deliver this."""
    zips = shop.zip_codes()
    if zips and zip_code(address) not in zips:
        raise OutsideDeliveryArea(zip_code(address))
    if subtotal < shop.delivery_minimum():
        raise BelowDeliveryMinimum(subtotal)


def prep_minutes(fulfilment):
    return (
        settings.ORDER_DELIVERY_MINUTES
        if fulfilment == Fulfilment.DELIVERY
        else settings.ORDER_PICKUP_MINUTES
    )


def schedule(time_of_day, fulfilment, now):
    """When a scheduled order ("for pickup at 7pm", "deliver at 6:30") will be ready (an aware
    datetime in the shop's zone) and whether that is the time asked for.

    The time asked for today, when it is inside opening hours, the kitchen can start it
    inside them too, and there is time to make it; else the next time we can: at once (now +
    the usual minutes) when the time has passed and we are open, or the next opening plus
    the usual minutes."""
    minutes = timedelta(minutes=prep_minutes(fulfilment))
    here, hours = local(now), shop_hours()
    earliest = here + minutes
    wanted = here.replace(hour=time_of_day.hour, minute=time_of_day.minute, second=0, microsecond=0)
    if wanted >= earliest and hours.is_open(wanted) and hours.is_open(wanted - minutes):
        return wanted, True
    if wanted < earliest and hours.is_open(here) and hours.is_open(earliest):
        return earliest, False
    opens = hours.next_opening(max(here, wanted - minutes))
    return ((opens + minutes) if opens else earliest), False


# --- customers and the menu ----------------------------------------------------------------


def customer_for(phone):
    if is_withheld(phone):
        # Twilio's stand-in for a hidden number (+266696687...) is nobody's: no customer.
        raise ValueError("A withheld caller ID is not a customer's number.")
    # The number as stored, read once per number (libphonenumber is slow), not per text.
    return Customer.objects.get_or_create(phone=_stored_phone(str(phone)))[0]


@lru_cache(maxsize=10_000)
def _stored_phone(phone):
    """`phone` as Customer.phone stores it (what the field makes of it for a query)."""
    return Customer._meta.get_field("phone").get_prep_value(phone)


def ask_question(customer, what, text, now):
    """Remember that we just asked `customer` for `what` ("address") about the order they
    texted as `text`: their next text is read as the answer first (orders.conversation)."""
    customer.asked = {"what": what, "text": text[:2000], "at": now.isoformat()}
    Customer.objects.filter(pk=customer.pk).update(asked=customer.asked)


def question_asked(customer, now):
    """The question we asked `customer` (a dict: what, text, at) if it is still fresh (as
    long as a quote waits: ORDER_QUOTE_MINUTES), else None."""
    asked = customer.asked or {}
    try:
        at = datetime.fromisoformat(asked["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if now - at > timedelta(minutes=settings.ORDER_QUOTE_MINUTES):
        return None
    return asked


def forget_question(customer):
    if customer.asked:
        customer.asked = {}
        Customer.objects.filter(pk=customer.pk).update(asked={})


def remember_language(customer, said):
    """Keep the language a customer's text clearly `said` ("es", "en"; parser's
    `language_said`) as theirs: every text, call prompt and page they get is in it from then on.
    A text that says nothing ("", e.g. "YES", "ok", "2 L PEP") keeps what is remembered, and so
    does a customer staff set by hand until they write clearly in the other language."""
    if said and said != customer.language:
        customer.language = said
        customer.save(update_fields=["language"])


def menu():
    """The menu now (orders.menu.Menu: plain data, kept per process while unchanged)."""
    return current_menu()


# --- quotes and placing ------------------------------------------------------------------


class DealRefused(OrderError):
    """A deal texted with an order that this order cannot have; the quote is made without it
    and the reply says why (`reason`: "dates", "used", "needs")."""

    def __init__(self, deal, reason):
        super().__init__(f"{deal.code}: {reason}")
        self.deal, self.reason = deal, reason


def deal_discount(deal, priced, by_code, customer, now):
    """What `deal` takes off the food of `priced` quote lines: the deal's `quantity` dearest
    units of the matching items cost `price` together. Raises DealRefused."""
    if (deal.starts_at and now < deal.starts_at) or (deal.ends_at and now >= deal.ends_at):
        raise DealRefused(deal, "dates")
    if deal.uses_per_customer:
        used = Order.objects.filter(customer=customer, deal=deal).exclude(status=Status.CANCELLED)
        if used.count() >= deal.uses_per_customer:
            raise DealRefused(deal, "used")
    units = sorted(
        (
            Decimal(line["unit_price"])
            for line in priced
            if (item := by_code.get(line["code"].upper())) and item.category == deal.category
            and (not deal.size or line["size"] == deal.size)
            for _ in range(line["quantity"])
        ),
        reverse=True,
    )  # fmt: skip
    if len(units) < deal.quantity:
        raise DealRefused(deal, "needs")
    return max(sum(units[: deal.quantity], Decimal("0")) - deal.price, Decimal("0"))


def quote_order(customer, lines, menu, address="", now=None, scheduled_for=None, deal=None):
    """Price `lines` (parser.Line) against `menu` (orders.menu.Menu) and keep the result as
    the customer's pending quote, replacing any earlier one. A delivery the shop cannot make
    raises OutsideDeliveryArea or BelowDeliveryMinimum (and the earlier quote stays).
    `scheduled_for`: a time of day asked for (see `schedule`). `deal`: a Deal the customer
    texted; when this order cannot have it, the quote is made without it and carries the
    refusal as `quote.deal_refused` (DealRefused) for the reply."""
    now = now or timezone.now()
    by_code, modifiers = menu.by_code, menu.modifiers
    priced = []
    for line in lines:
        item = by_code.get(line.code)
        size, price = price_line(item, line, by_code, modifiers) if item else (None, None)
        if price is None:
            continue
        priced.append(
            {
                "item_id": item.pk, "code": item.code, "name": item.name, "size": size,
                "quantity": line.quantity, "unit_price": str(price),
                "assumed_size": bool(size) and not line.size,
                **line_details(line, by_code, modifiers, size),
            }
        )  # fmt: skip
    if not priced:
        raise OrderError("Nothing in that order is on the menu right now.")
    food = sum(Decimal(p["unit_price"]) * p["quantity"] for p in priced)
    discount, refused = Decimal("0"), None
    if deal is not None:
        try:
            discount = deal_discount(deal, priced, by_code, customer, now)
        except DealRefused as exc:
            deal, refused = None, exc
    food -= discount
    fulfilment = Fulfilment.DELIVERY if address else Fulfilment.PICKUP
    if address:
        check_delivery(address, food)
    bill = Bill.for_food(food, delivery=bool(address))
    ready = schedule(scheduled_for, fulfilment, now)[0] if scheduled_for else None
    _replace_pending_quotes(customer)
    quote = Quote(
        customer=customer,
        lines=priced,
        subtotal=bill.subtotal,
        tax=bill.tax,
        delivery_fee=bill.delivery_fee,
        total=bill.total,
        fulfilment=fulfilment,
        address=address,
        scheduled_for=ready,
        expires_at=now + timedelta(minutes=settings.ORDER_QUOTE_MINUTES),
        deal=deal,
        discount=discount,
    )
    quote.save()
    quote.deal_refused = refused
    return quote


def _replace_pending_quotes(customer):
    Quote.objects.filter(customer=customer, state=Quote.State.PENDING).update(
        state=Quote.State.REPLACED
    )


def withdraw_quote(quote):
    """A quote the customer could not be shown in full: YES must not place it."""
    Quote.objects.filter(pk=quote.pk, state=Quote.State.PENDING).update(state=Quote.State.DECLINED)


def pending_quote(customer, now=None):
    """The quote a YES would place now, or None."""
    now = now or timezone.now()
    return (
        Quote.objects.filter(customer=customer, state=Quote.State.PENDING, expires_at__gt=now)
        .order_by("-id")
        .first()
    )


def quote_reorder(customer, menu, now=None, scheduled_for=None):
    """A quote repeating the customer's last order at today's prices: (quote or None, names of
    what is no longer on the menu). None, [] when there is no earlier order."""
    last = (
        Order.objects.filter(customer=customer)
        .exclude(status=Status.CANCELLED)
        .prefetch_related("items")
        .first()
    )
    if last is None:
        return None, []
    available = {item.pk: item for item in menu.items}
    lines, missing = [], []
    for old in last.items.all():
        item = available.get(old.menu_item_id)
        if item is None:
            missing.append(old.name)
        else:
            modifiers = old.modifiers or {}
            lines.append(
                parser.Line(
                    item.code.upper(), old.quantity, old.size,
                    tuple(t["code"].upper() for t in modifiers.get("toppings", [])),
                    (modifiers.get("crust") or {}).get("code", "").upper(),
                    (modifiers.get("half") or {}).get("code", "").upper(),
                    old.note,
                    *(tuple(t["code"].upper() for t in modifiers.get(side, []))
                      for side in ("left", "right")),
                )
            )  # fmt: skip
    if not lines:
        return None, missing
    address = last.address if last.fulfilment == Fulfilment.DELIVERY else ""
    quote = quote_order(
        customer, lines, menu, address=address, now=now, scheduled_for=scheduled_for
    )
    return quote, missing


def latest_quote(customer):
    return Quote.objects.filter(customer=customer).select_related("order").order_by("-id").first()


def place_order(quote, now=None):
    """Turn a pending, unexpired quote into an order. Locks the quote, so a double YES
    places one order."""
    now = now or timezone.now()
    with transaction.atomic():
        quote = (
            Quote.objects.select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=quote.pk)
        )
        if quote.state == Quote.State.PLACED and quote.order_id:
            raise OrderError(f"Order #{quote.order.number} is already in.")
        if quote.state != Quote.State.PENDING:
            raise OrderError("That quote was replaced by a newer one.")
        if quote.expires_at <= now:
            raise OrderError("That quote has expired.")
        minutes = timedelta(minutes=prep_minutes(quote.fulfilment))
        scheduled = quote.scheduled_for is not None and quote.scheduled_for > now + minutes
        order = Order.objects.create(
            customer=quote.customer,
            fulfilment=quote.fulfilment,
            address=quote.address,
            subtotal=quote.subtotal,
            tax=quote.tax,
            delivery_fee=quote.delivery_fee,
            total=quote.total,
            deal_id=quote.deal_id,
            discount=quote.discount,
            promised_at=quote.scheduled_for if scheduled else now + minutes,
            first_promised_at=quote.scheduled_for if scheduled else now + minutes,
            start_at=quote.scheduled_for - minutes if scheduled else None,
        )
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order, menu_item_id=line["item_id"], name=line["name"], size=line["size"],
                quantity=line["quantity"], unit_price=Decimal(line["unit_price"]),
                modifiers=line.get("modifiers", {}), note=line.get("note", ""),
            )
            for line in quote.lines
        )  # fmt: skip
        OrderEvent.objects.create(
            order=order, kind=OrderEvent.Kind.PLACED, to_status=order.status, actor=Actor.CUSTOMER
        )
        quote.state, quote.order = Quote.State.PLACED, order
        quote.save(update_fields=["state", "order"])
        if quote.address and quote.customer.address != quote.address:
            Customer.objects.filter(pk=quote.customer_id).update(address=quote.address)
    return order


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


def advance_order(order, to_status, by=None, reason="", notify=True):
    """Move `order` to `to_status`: the one door for status changes.

    Locks the row, refuses a move the state machine does not allow (InvalidTransition,
    including "already <stage>" when another change got there first), writes an OrderEvent
    and queues the customer's text in the same transaction (sent after commit).
    `by`: a staff user, Actor.CUSTOMER, or None for the system.
    """
    if to_status == Status.CANCELLED:
        return cancel_order(order, by=by, reason=reason, notify=notify)
    with transaction.atomic():
        locked = _lock(order)
        transitions = {t.target: t for t in locked.get_available_status_transitions()}
        chosen = transitions.get(to_status)
        if chosen is None:
            raise _refuse(locked, to_status)
        return _apply(locked, chosen.name, to_status, by, reason, notify)


def cancel_order(order, by=None, reason="", notify=True):
    """Cancel `order`. Customers may cancel while it is received or being prepared; staff
    (and the system) from any unfinished stage, with a reason."""
    actor, _ = _actor(by)
    reason = (reason or "").strip()
    if actor == Actor.STAFF and not reason:
        raise OrderError("Say why the order is cancelled (the reason is kept with the order).")
    with transaction.atomic():
        locked = _lock(order)
        if locked.status in FINISHED:
            raise _refuse(locked, Status.CANCELLED)
        if actor == Actor.CUSTOMER and locked.status not in CUSTOMER_MAY_CANCEL:
            raise InvalidTransition(
                f"Order #{locked.number} is already {locked.stage_words}, so it can no longer "
                "be cancelled by text."
            )
        return _apply(locked, "cancel", Status.CANCELLED, by, reason, notify)


def _apply(order, method, to_status, by, reason, notify):
    actor, user = _actor(by)
    from_status = order.status
    getattr(order, method)()
    order.save(update_fields=["status", "updated_at"])
    event = OrderEvent(
        order=order,
        kind=OrderEvent.Kind.CANCELLED if to_status == Status.CANCELLED else OrderEvent.Kind.STATUS,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        user=user,
        reason=(reason or "")[:300],
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
            **context, link=order_link(order),
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


# --- messages for staff ------------------------------------------------------------------


def record_inquiry(message, customer):
    """Keep a free-text message for staff. Returns (inquiry, acknowledge): acknowledge only
    when none of the customer's earlier messages is still waiting for an answer."""
    waiting = Inquiry.objects.filter(customer=customer, answered_at__isnull=True).exists()
    inquiry = Inquiry.objects.create(message=message, customer=customer)
    return inquiry, not waiting


NOT_ANSWERED = "Not answered: "


def keep_unanswered(message, customer, reason):
    """Put a text we may not answer (and so did not act on) in the staff inbox, saying why.

    A flood of them keeps one waiting at a time: the rest are in the customer's thread,
    and the inbox is not buried under one number's texts."""
    waiting = Inquiry.objects.filter(
        customer=customer, answered_at__isnull=True, note__startswith=NOT_ANSWERED
    )
    if waiting.exists():
        return None
    return Inquiry.objects.create(
        message=message, customer=customer, note=f"{NOT_ANSWERED}{reason}"[:200]
    )


def flag_opt_out(message, word):
    """The sender of a lone opt-out word (CANCEL, END, QUIT...) has an order in progress: they
    almost always meant to cancel it, but Twilio has opted them out and blocks our texts, so
    staff are asked to call them. Returns the inquiry, or None with no active order."""
    orders = list(
        Order.objects.active().of(message.from_number).select_related("customer").order_by("-id")
    )
    if not orders:
        return None
    order = orders[0]
    link_message(message, order)
    now = timezone.now()
    # Every order in progress shows it to the kitchen (board card, admin), with a history row.
    Order.objects.filter(pk__in=[o.pk for o in orders], opted_out_at__isnull=True).update(
        opted_out_at=now
    )
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order=o, kind=OrderEvent.Kind.OPTED_OUT, actor=Actor.CUSTOMER,
            reason=f"Texted {word} after ordering: no more texts reach them. Call before making.",
        )
        for o in orders
    )  # fmt: skip
    note = f"texted {word}, now opted out, order #{order.number} active: call them"
    return Inquiry.objects.create(message=message, customer=order.customer, note=note[:200])


def answer_inquiry(inquiry, by, reply_text=None):
    """Mark `inquiry`, and only it, answered by staff user `by`, texting `reply_text` to the
    customer when given: the customer's other waiting messages wait on. Returns the inquiry."""
    now = timezone.now()
    with transaction.atomic():
        inquiry = (
            Inquiry.objects.select_for_update(of=("self",))
            .select_related("customer", "message")
            .get(pk=inquiry.pk)
        )
        reply = None
        if reply_text and reply_text.strip():
            phone = str(inquiry.customer.phone)
            reply = send_sms(phone, reply_text.strip(), about=inquiry, channel=channel_for(phone))
        Inquiry.objects.filter(pk=inquiry.pk, answered_at__isnull=True).update(
            answered_at=now, answered_by=by
        )
        if reply is not None:
            Inquiry.objects.filter(pk=inquiry.pk).update(reply=reply)
        inquiry.refresh_from_db()
    return inquiry


def link_message(message, obj):
    """Mark an inbound message (and so its replies) as being about `obj`."""
    for name, value in about_fields(obj).items():
        setattr(message, name, value)
    Message.objects.filter(pk=message.pk).update(**about_fields(obj))


def latest_active_orders(customer, count):
    """The customer's `count` newest active orders, newest first (STATUS, texts kept for staff)."""
    return list(Order.objects.active().of(customer).order_by("-id")[:count])
