"""Read-only questions other apps (support) may ask about orders."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ActiveOrder:
    id: int
    number: str  # the customer-facing number, e.g. "1042"
    stage: str  # in plain words, e.g. "in the oven"
    promised_at: datetime | None
    customer_id: int | None


def active_orders_for_number(phone_e164):
    """The caller's unfinished orders, newest first (placeholder until orders land)."""
    return []
