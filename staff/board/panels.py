"""What the staff board shows: orders by stage, messages waiting, the support line, what
is sold out tonight.

Each function runs a fixed number of queries, however many orders or messages there are."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders import billing, shop
from orders import services as orders
from orders.hours import clock
from orders.models import (
    FINISHED,
    IN_PROGRESS,
    STEP_LABELS,
    STEPS,
    Crust,
    Customer,
    Inquiry,
    MenuItem,
    Order,
    OrderEvent,
    Status,
    Topping,
)
from support import board
from support.models import Agent
from telephony.models import Message
from telephony.reach import reason_not_to_text


def _heading(step):
    """A column's heading: its stage, or the short words of the stages that share it."""
    if len(step) == 1:
        return Status(step[0]).label
    return " / ".join(str(STEP_LABELS[stage]) for stage in step)


# The board's columns, one per step of the orders' paths that is not finished (the stages
# of pickup and delivery orders at the same step share one): (key, heading, statuses).
COLUMNS = [
    (step[0], _heading(step), list(step)) for step in STEPS if not set(step) <= set(FINISHED)
]
BOARD_LIMIT = 300  # more active orders than this is not an evening a board can show
DUE_SOON = timedelta(minutes=5)
THREAD_LENGTH = 200

# The words on each card's button, from the state machine ("Into the oven", "Picked up"...).
MOVE_LABELS = {
    t.target: t.custom.get("label", t.target)
    for t in Order(fulfilment="pickup").get_all_status_transitions()
}


def ago(value, now):
    """A short age for a card read from across the kitchen: "<1 min", "4 min", "1 h 05"."""
    if value is None:
        return ""
    minutes = max(0, int((now - value).total_seconds() // 60))
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


@dataclass
class Card:
    order: Order
    stage_since: object
    next_status: str | None
    now: object

    @property
    def next_label(self):
        return MOVE_LABELS.get(self.next_status, "")

    @property
    def age(self):
        return ago(self.order.created_at, self.now)

    @property
    def stage_age(self):
        return ago(self.stage_since, self.now)

    @property
    def first_promise(self):
        return self.order.first_promised_at or self.order.promised_at

    @property
    def due(self):
        """The time first promised, in the shop's time zone, e.g. "7:45 PM"."""
        return clock(self.first_promise, self.now) if self.first_promise else ""

    @property
    def new_estimate(self):
        """The time the customer was told since (a late text or a delay), or ""."""
        promised = self.order.promised_at
        if not promised or promised == self.first_promise:
            return ""
        return clock(promised, self.now)

    @property
    def items(self):
        return self.order.items.all()

    @property
    def lateness(self):
        """ "late" past the time first promised, "soon" within five minutes of it, else ""."""
        promised = self.first_promise
        if not promised or self.order.status not in IN_PROGRESS:
            return ""
        if promised < self.now:
            return "late"
        return "soon" if promised - self.now <= DUE_SOON else ""


@dataclass
class Column:
    key: str
    heading: str
    cards: list


def _stage_since():
    """When the order entered its current stage: its latest placed/status event."""
    return Subquery(
        OrderEvent.objects.filter(order=OuterRef("pk"))
        .exclude(to_status="")
        .order_by("-id")
        .values("created_at")[:1]
    )


def order_columns(now=None):
    now = now or timezone.now()
    shown = [status for _, _, statuses in COLUMNS for status in statuses]
    found = (
        Order.objects.filter(status__in=shown)
        .select_related("customer", "driver")
        .prefetch_related("items")
        .annotate(
            stage_since=_stage_since(),
            changed=Exists(
                OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEvent.Kind.CHANGED)
            ),
        )
        # Scheduled orders take their place at the time the kitchen should start them.
        .order_by(Coalesce("start_at", "created_at"), "id")[:BOARD_LIMIT]
    )
    columns = [Column(key, heading, []) for key, heading, _ in COLUMNS]
    where = {
        status: columns[i] for i, (_, _, statuses) in enumerate(COLUMNS) for status in statuses
    }
    for order in found:
        card = Card(order, order.stage_since or order.created_at, orders.next_status(order), now)
        where[order.status].cards.append(card)
    return columns


def payments_to_check(limit=20):
    """Orders whose payment needs a look: one not accepted (payment_flag), and those waiting
    to be paid before the kitchen sees them, with their time. One query."""
    return list(
        Order.objects.filter(Q(status=Status.AWAITING_PAYMENT) | ~Q(payment_flag=""))
        .exclude(status=Status.CANCELLED, payment_flag="")
        .select_related("customer")
        .order_by("-id")[:limit]
    )


def _active_orders_prefetch(lookup):
    return Prefetch(
        lookup,
        queryset=Order.objects.active().order_by("-id"),
        to_attr="active_orders",
    )


def inbox(limit=50):
    """Customers' messages waiting for an answer, oldest first, each customer's active
    orders in `inquiry.customer.active_orders`."""
    return list(
        Inquiry.objects.filter(answered_at__isnull=True)
        .select_related("customer", "message")
        .prefetch_related(_active_orders_prefetch("customer__orders"))
        .order_by("created_at", "id")[:limit]
    )


@dataclass
class SupportPanel:
    on_shift: list
    off_shift: list
    callers: list
    voicemails: list
    missed: dict  # today's missed calls: {"missed": n, "texted": n}


def support_panel():
    return SupportPanel(
        on_shift=list(board.agents_on_shift()),
        off_shift=list(Agent.objects.filter(is_active=True, on_shift=False)),
        callers=list(board.callers_waiting()[:50]),
        voicemails=list(board.voicemails_waiting()[:50]),
        missed=board.missed_calls_today(),
    )


@dataclass
class Thread:
    customer: Customer
    orders: list
    messages: list
    waiting: list
    cannot_text: str | None


def customer_thread(customer_id):
    """Everything in and out for a customer's number, oldest first, with their orders."""
    customer = Customer.objects.get(pk=customer_id)
    phone = str(customer.phone)
    recent = (
        Message.objects.with_number(phone)
        .select_related("content_type")
        .order_by("-created_at", "-id")[:THREAD_LENGTH]
    )
    return Thread(
        customer=customer,
        orders=list(customer.orders.prefetch_related("items").order_by("-id")[:20]),
        messages=list(reversed(recent)),
        waiting=list(
            customer.inquiries.filter(answered_at__isnull=True)
            .select_related("message")
            .order_by("id")
        ),
        cannot_text=reason_not_to_text(phone),
    )


@dataclass(frozen=True)
class OnSale:
    """A menu row as the sold-out panel shows it."""

    pk: int
    name: str
    sold_out_until: object
    sold_out: bool


@dataclass
class Tonight:
    """The menu as the kitchen marks it sold out ("86", orders/soldout.py): the items,
    toppings and crusts on sale (OnSale rows), in menu order; and the kitchen's pace
    (pizzas per 10 minutes), the pizzas waiting, what they add to a new order's time, and
    until when new orders are paused (orders.billing, orders.shop)."""

    items: list
    toppings: list
    crusts: list
    pace: int = 0
    queue: int = 0
    busy: int = 0
    paused_until: object = None


def tonight(now=None):
    """Three queries (a UNION of the three menu tables; the shop's settings; the kitchen's
    queue), whatever the menu's size."""
    now = now or timezone.now()
    fields = ("kind", "pk", "name", "sold_out_until", "position")

    def rows(model, kind):
        on_sale = model.objects.filter(available=True).order_by().annotate(kind=Value(kind))
        return on_sale.values_list(*fields)

    found = {"item": [], "topping": [], "crust": []}
    union = rows(MenuItem, "item").union(rows(Topping, "topping"), rows(Crust, "crust"), all=True)
    for kind, pk, name, until, _ in union.order_by("kind", "position", "pk"):
        found[kind].append(OnSale(pk, name, until, until is not None and until > now))
    shop.forget()  # what staff set on another tablet a moment ago, read now: one query
    pace, queue = shop.kitchen_pace(), billing.kitchen_queue(now)
    busy = billing.busy_for(queue, pace)
    return Tonight(
        found["item"], found["topping"], found["crust"],
        pace=pace, queue=queue, busy=busy, paused_until=shop.paused_until(now),
    )  # fmt: skip
