"""The shop's own settings, which the owner changes in the admin (orders.models.ShopSettings):
opening hours, days closed (holidays), the tax rate, the delivery fee, minimum and ZIP codes,
and the shop's address. The environment's values (SHOP_HOURS, SHOP_TAX_RATE, DELIVERY_FEE,
DELIVERY_MINIMUM, DELIVERY_ZIP_CODES, SHOP_ADDRESS) are the defaults: a field left empty in the
admin uses them.

Every process (web, telephony worker, task worker, sweep) reads the one row at most once a
second (`REFRESH_SECONDS`) and keeps it in between, so a change takes effect at once in the
process that saved it and within a second everywhere else, with no restart; the admin's
history records who changed what (django.contrib.admin's LogEntry)."""

import time
from datetime import date
from decimal import Decimal

from django.conf import settings

REFRESH_SECONDS = 1.0
FIELDS = (
    "hours", "closed_dates", "tax_rate", "delivery_fee", "delivery_minimum",
    "delivery_zip_codes", "address", "kitchen_pizzas_per_10_min", "paused_until",
)  # fmt: skip

_read = (None, 0.0)  # (the row's values or {}, time.monotonic() of the read)


def _values():
    global _read
    values, at = _read
    if values is not None and time.monotonic() - at < REFRESH_SECONDS:
        return values
    from .models import ShopSettings

    values = ShopSettings.objects.filter(pk=1).values(*FIELDS).first() or {}
    _read = (values, time.monotonic())
    return values


def forget(**kwargs):
    """Read the row again at the next question (a post_save receiver; tests)."""
    global _read
    _read = (None, 0.0)


def _text(name, default):
    value = (_values().get(name) or "").strip()
    return value or default


def _amount(name, default):
    value = _values().get(name)
    return Decimal(value) if value is not None else Decimal(str(default).strip() or "0")


def hours_text():
    return _text("hours", settings.SHOP_HOURS)


def closed_dates():
    """The days the owner closed the shop (frozenset of dates)."""
    return parse_dates(_values().get("closed_dates") or "")


def parse_dates(text):
    """ "2026-12-25, 2027-01-01" (commas, spaces or lines) as a frozenset of dates; raises
    ValueError naming a date it cannot read."""
    found = set()
    for word in text.replace(",", " ").split():
        try:
            found.add(date.fromisoformat(word))
        except ValueError:
            raise ValueError(f"{word!r} is not a date like 2026-12-25.") from None
    return frozenset(found)


def tax_rate():
    return _amount("tax_rate", settings.SHOP_TAX_RATE)


def delivery_fee():
    return _amount("delivery_fee", settings.DELIVERY_FEE)


def delivery_minimum():
    return _amount("delivery_minimum", settings.DELIVERY_MINIMUM)


def zip_codes():
    """The ZIP codes delivered to ([]: anywhere)."""
    text = _values().get("delivery_zip_codes") or ""
    codes = text.replace(",", " ").split() if text.strip() else settings.DELIVERY_ZIP_CODES
    return [z.strip() for z in codes if z.strip()]


def address():
    return _text("address", settings.SHOP_ADDRESS)


def kitchen_pace():
    """Pizzas the kitchen makes in 10 minutes (the board's, else KITCHEN_PIZZAS_PER_10_MIN);
    0: the promised time ignores the kitchen's load."""
    value = _values().get("kitchen_pizzas_per_10_min")
    return value if value is not None else settings.KITCHEN_PIZZAS_PER_10_MIN


def paused_until(now):
    """When new orders are taken again, if staff paused them and the pause has not ended."""
    until = _values().get("paused_until")
    return until if until is not None and until > now else None


def save(**fields):
    """Set fields of the owner's row (made when missing), and read it again at once here."""
    from .models import ShopSettings

    ShopSettings.objects.update_or_create(pk=1, defaults=fields)
    forget()
