"""Read-only questions other apps (support) may ask about orders."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from .models import Customer, Order


@dataclass(frozen=True)
class ActiveOrder:
    id: int
    number: str  # the customer-facing number, e.g. "1042"
    stage: str  # in plain words, e.g. "in the oven"
    promised_at: datetime | None
    customer_id: int | None


def active_orders_for_number(phone_e164):
    """The caller's unfinished orders, newest first (one query)."""
    if not phone_e164:
        return []
    orders = Order.objects.active().of(phone_e164).order_by("-id")
    return [
        ActiveOrder(
            id=order.pk,
            number=str(order.number),
            stage=order.stage_words,
            promised_at=order.promised_at,
            customer_id=order.customer_id,
        )
        for order in orders[:10]
    ]


def language_for_number(phone_e164):
    """The language a caller is spoken to in: their customer's (Customer.language), else the
    shop's default (one query, none without a number)."""
    found = Customer.objects.filter(phone=phone_e164).values_list("language", flat=True)
    return (found.first() if phone_e164 else None) or settings.LANGUAGE_CODE


def speak_spanish(phone_e164):
    """A caller pressed 9 for Spanish: their customer (made if new) is spoken to, and
    texted, in Spanish from now on. Nothing for a withheld number."""
    if phone_e164 and phone_e164.startswith("+"):
        Customer.objects.update_or_create(phone=phone_e164, defaults={"language": "es"})


def usual_words(phone_e164):
    """A returning caller's last order as the phone line says it ("1 large Pepperoni with
    Mushrooms"), in the active language, or "" (two queries; none without a number)."""
    from . import texts

    if not phone_e164 or not phone_e164.startswith("+"):
        return ""
    last = Order.objects.of(phone_e164).last_kept()
    if last is None:
        return ""
    return "; ".join(texts.spoken_line(item) for item in last.items.all())
