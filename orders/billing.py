"""What an order costs and when it can be ready: the bill (subtotal, deals, tax, delivery fee),
the delivery area and minimum, and the time a kitchen needs."""

import re
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from . import shop
from .errors import OrderError
from .hours import local, shop_hours
from .models import Fulfilment, MenuItem, OrderItem, Status


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


# --- paying by link (orders/payment.py) ---------------------------------------------------


def online():
    """Whether customers may pay by card through a payment link (Stripe is set up)."""
    return bool(settings.STRIPE_SECRET_KEY)


def required_above():
    """PAYMENT_REQUIRED_ABOVE as an amount, or None (never required)."""
    raw = str(settings.PAYMENT_REQUIRED_ABOVE or "").strip()
    return Decimal(raw) if raw else None


def must_pay_first(total):
    """Whether an order of `total` waits for payment before the kitchen sees it."""
    limit = required_above()
    return online() and limit is not None and Decimal(total) > limit


def to_cents(amount):
    """Decimal dollars to integer cents, exactly (a fraction of a cent is an error)."""
    cents = Decimal(amount) * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(cents)


def from_cents(cents):
    return (Decimal(int(cents)) / 100).quantize(CENT)


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


def prep_minutes(fulfilment, busy=None):
    """Minutes from now to a new order ready (pickup) or at the door (delivery): the usual
    ORDER_PICKUP_MINUTES / ORDER_DELIVERY_MINUTES, plus the kitchen's load (`busy`, else
    read: `busy_minutes`)."""
    usual = (
        settings.ORDER_DELIVERY_MINUTES
        if fulfilment == Fulfilment.DELIVERY
        else settings.ORDER_PICKUP_MINUTES
    )
    return usual + (busy_minutes() if busy is None else busy)


def busy_minutes(now=None):
    """What the kitchen's load adds to a new order's time: 10 minutes for each full batch of
    the kitchen's pace (shop.kitchen_pace, pizzas per 10 minutes) among the pizzas already
    received, preparing or baking, those scheduled to start later left out. Fewer than a
    batch add nothing: the oven has room. At most one query every two seconds."""
    pace = shop.kitchen_pace()
    return busy_for(_recent_queue(now) if pace else 0, pace)


def busy_for(queue, pace):
    """The minutes `queue` pizzas add at `pace` pizzas per 10 minutes (0: no pace set)."""
    return 10 * (queue // pace) if pace else 0


QUEUE_REFRESH_SECONDS = 2.0
_queue_read = (0, None)  # (kitchen_queue(), time.monotonic() of the count)


def _recent_queue(now=None):
    """kitchen_queue(), counted at most every QUEUE_REFRESH_SECONDS per process: a promise
    two seconds behind the kitchen is as true, and every quote no longer pays the count."""
    global _queue_read
    count, at = _queue_read
    if at is not None and time.monotonic() - at < QUEUE_REFRESH_SECONDS:
        return count
    count = kitchen_queue(now)
    _queue_read = (count, time.monotonic())
    return count


def forget_queue():
    """Count the kitchen's queue again at the next promise (tests)."""
    global _queue_read
    _queue_read = (0, None)


def kitchen_queue(now=None):
    """Pizzas (items of the pizza category) in orders received, preparing or baking, not
    scheduled to start later: what the kitchen makes before a new order. One query."""
    now = now or timezone.now()
    waiting = OrderItem.objects.filter(
        order__status__in=[Status.RECEIVED, Status.PREPARING, Status.BAKING],
        menu_item__category=MenuItem.Category.PIZZA,
    ).exclude(order__start_at__gt=now)
    return waiting.aggregate(pizzas=Sum("quantity"))["pizzas"] or 0


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
