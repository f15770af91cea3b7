"""What staff do from the board that is not already a use case of orders or support."""

from django.db import transaction

from orders.models import Customer, Inquiry
from orders.services import OrderError, answer_inquiry
from telephony.reach import channel_for, reason_not_to_text
from telephony.sms import send_sms


def text_customer(customer, body, by, answers=()):
    """Text `customer` from the shop's number (on WhatsApp while their session is open).
    The text answers the customer's waiting messages whose ids are in `answers` (those
    staff saw on the page), and no others: a question that arrived while they typed still
    waits. Returns the Message."""
    body = (body or "").strip()
    if not body:
        raise OrderError("Write the text first.")
    reason = reason_not_to_text(str(customer.phone))
    if reason:
        raise OrderError(f"{customer.phone} cannot be texted: {reason}.")
    with transaction.atomic():
        answered = list(
            Inquiry.objects.filter(
                customer=customer, answered_at__isnull=True, pk__in=answers
            ).order_by("id")
        )
        if not answered:
            phone = str(customer.phone)
            return send_sms(phone, body, about=customer, channel=channel_for(phone))
        first = answer_inquiry(answered[0], by=by, reply_text=body)
        others = [inquiry.pk for inquiry in answered[1:]]
        Inquiry.objects.filter(pk__in=others, answered_at__isnull=True).update(
            answered_at=first.answered_at, answered_by=by, reply=first.reply
        )
        return first.reply


def reply_to_inquiry(inquiry, body, by):
    """Answer one waiting message by text; the customer's other messages wait on."""
    return text_customer(inquiry.customer, body, by, answers=[inquiry.pk])


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
