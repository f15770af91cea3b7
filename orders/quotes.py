"""Customers and quotes: who is texting, what we asked them, and the quote a YES places
(`quote_order`, `quote_reorder`, `place_order`)."""

from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from telephony.numbers import is_withheld

from . import parser, soldout
from .billing import Bill, check_delivery, must_pay_first, prep_minutes, schedule
from .errors import OrderError, SoldOut
from .menu import current as current_menu
from .menu import line_details, price_line
from .models import (
    CUSTOMER_MAY_CANCEL,
    Actor,
    Customer,
    Fulfilment,
    Order,
    OrderEvent,
    OrderItem,
    Quote,
    Status,
)
from .signals import order_changed, order_placed

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
    refusal as `quote.deal_refused` (DealRefused) for the reply. What is sold out tonight
    raises SoldOut (orders/soldout.py)."""
    now = now or timezone.now()
    by_code = menu.by_code
    soldout.check(lines, menu, now)
    priced = _priced(lines, menu)
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


def _priced(lines, menu):
    """`lines` (parser.Line) priced against `menu`, as a quote keeps them (dicts); what is not
    on it is left out. OrderError when nothing is."""
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
    return priced


def order_lines(order):
    """An order's items as a quote keeps its lines (dicts; `item_id` None for an item since
    deleted from the menu): "the usual" and a change after YES (orders/edits.py) start
    from them."""
    return [
        {
            "item_id": item.menu_item_id, "code": item.menu_item.code if item.menu_item else "",
            "name": item.name, "size": item.size, "quantity": item.quantity,
            "modifiers": item.modifiers or {}, "note": item.note,
        }
        for item in order.items.select_related("menu_item")
    ]  # fmt: skip


def line_of(kept):
    """A line as a quote or order keeps it (a dict: quote_order, order_lines) as the
    parser's Line, to be priced again."""
    modifiers = kept.get("modifiers") or {}

    def codes(name):
        return tuple(t["code"].upper() for t in modifiers.get(name, []))

    return parser.Line(
        kept["code"].upper(), kept["quantity"], kept.get("size") or "", codes("toppings"),
        (modifiers.get("crust") or {}).get("code", "").upper(),
        (modifiers.get("half") or {}).get("code", "").upper(), kept.get("note", ""),
        codes("left"), codes("right"),
    )  # fmt: skip


def _create_items(order, priced):
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order, menu_item_id=line["item_id"], name=line["name"], size=line["size"],
            quantity=line["quantity"], unit_price=Decimal(line["unit_price"]),
            modifiers=line.get("modifiers", {}), note=line.get("note", ""),
        )
        for line in priced
    )  # fmt: skip


def change_order(order, lines, menu, address, now=None):
    """A customer's change in words to an order still received or being prepared: its items,
    bill and address replaced in one transaction, the order locked; an OrderEvent CHANGED
    says what it was before. OrderError when it has gone further meanwhile, or took a deal
    (a change could undo what the deal asked for: staff change those)."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        if order.status not in CUSTOMER_MAY_CANCEL or order.deal_id or order.paid:
            # (paid: what was paid is the old order's total; staff change and refund those)
            raise OrderError(f"Order #{order.number} can no longer be changed by text.")
        had = {line_of(line) for line in order_lines(order)}  # what the kitchen has already
        soldout.check([line for line in lines if line not in had], menu, now or timezone.now())
        before = "; ".join(f"{i.quantity}x {i.name} {i.size}".strip() for i in order.items.all())
        priced = _priced(lines, menu)
        food = sum(Decimal(p["unit_price"]) * p["quantity"] for p in priced)
        if address:
            check_delivery(address, food)
        bill = Bill.for_food(food, delivery=bool(address))
        order.items.all().delete()
        _create_items(order, priced)
        order.subtotal, order.tax = bill.subtotal, bill.tax
        order.delivery_fee, order.total = bill.delivery_fee, bill.total
        order.address = address
        order.fulfilment = Fulfilment.DELIVERY if address else Fulfilment.PICKUP
        order.save(
            update_fields=["subtotal", "tax", "delivery_fee", "total", "address", "fulfilment"]
        )
        OrderEvent.objects.create(
            order=order, kind=OrderEvent.Kind.CHANGED, actor=Actor.CUSTOMER,
            reason=f"was: {before}"[:300],
        )  # fmt: skip
        order_changed.send(sender=Order, order=order)  # payments/: a page for the new total
    return order


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
    what is no longer on the menu or sold out tonight, left out). None, [] when there is no
    earlier order."""
    last = Order.objects.of(customer).last_kept()
    if last is None:
        return None, []
    now = now or timezone.now()
    available = {item.pk for item in menu.items}
    kept = order_lines(last)
    lines = [line_of(d) for d in kept if d["item_id"] in available]
    missing = [d["name"] for d in kept if d["item_id"] not in available]
    lines, sold_out = soldout.without_sold_out(lines, menu, now)
    missing += sold_out
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
    places one order. A quote asking for what is sold out since is withdrawn (SoldOut)."""
    try:
        return _place(quote, now or timezone.now())
    except SoldOut:
        withdraw_quote(quote)
        raise


def _place(quote, now):
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
        # Sold out since it was quoted: not placed as is (and withdrawn, below).
        soldout.check([line_of(line) for line in quote.lines], current_menu(), now)
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
            **_payment_first(quote.total, now),
        )
        _create_items(order, quote.lines)
        OrderEvent.objects.create(
            order=order, kind=OrderEvent.Kind.PLACED, to_status=order.status, actor=Actor.CUSTOMER
        )
        quote.state, quote.order = Quote.State.PLACED, order
        quote.save(update_fields=["state", "order"])
        if quote.address and quote.customer.address != quote.address:
            Customer.objects.filter(pk=quote.customer_id).update(address=quote.address)
        order_placed.send(sender=Order, order=order)  # payments/: its payment page
    return order


def _payment_first(total, now):
    """An order above PAYMENT_REQUIRED_ABOVE waits for payment (orders/payment.py)."""
    if not must_pay_first(total):
        return {}
    due = now + timedelta(minutes=settings.PAYMENT_WINDOW_MINUTES)
    return {"status": Status.AWAITING_PAYMENT, "payment_due_by": due}
