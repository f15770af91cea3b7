"""Texts for staff: questions kept for the front desk (`record_inquiry`, `keep_unanswered`),
an opt-out after ordering flagged on the order, and staff's answers."""

from django.db import transaction
from django.utils import timezone

from telephony.logging import note
from telephony.models import Message, about_fields
from telephony.reach import channel_for
from telephony.sms import send_sms

from .models import (
    Actor,
    Inquiry,
    Order,
    OrderEvent,
)

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
    note(order=getattr(obj, "number", None))  # on the log lines of this text's handling


def latest_active_orders(customer, count):
    """The customer's `count` newest active orders, newest first (STATUS, texts kept for staff)."""
    return list(Order.objects.active().of(customer).order_by("-id")[:count])
