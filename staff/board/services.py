"""What staff do from the board that is not already a use case of orders or support."""

from django.db import transaction

from orders.models import Customer, Inquiry
from orders.services import OrderError, answer_inquiry
from telephony.services import channel_for, reason_not_to_text, send_sms


def text_customer(customer, body, by):
    """Text `customer` from the shop's number (on WhatsApp while their session is open). If
    they have messages waiting for an answer, this is the answer (they are marked answered
    by `by`). Returns the Message."""
    body = (body or "").strip()
    if not body:
        raise OrderError("Write the text first.")
    reason = reason_not_to_text(str(customer.phone))
    if reason:
        raise OrderError(f"{customer.phone} cannot be texted: {reason}.")
    with transaction.atomic():
        latest = (
            Inquiry.objects.filter(customer=customer, answered_at__isnull=True)
            .order_by("-id")
            .first()
        )
        if latest is not None:
            return answer_inquiry(latest, by=by, reply_text=body).reply
        phone = str(customer.phone)
        return send_sms(phone, body, about=customer, channel=channel_for(phone))


def find_customer(query):
    """The customer a staff member means by a phone number or an order number (#1042)."""
    from orders.models import Order
    from telephony.numbers import to_e164

    query = (query or "").strip()
    if not query:
        return None
    if query.startswith("#") or (query.isdigit() and len(query) <= 7):
        order = Order.objects.by_number(query).select_related("customer").first()
        return order.customer if order else None
    number = to_e164(query)
    return Customer.objects.filter(phone=number).first() if number else None
