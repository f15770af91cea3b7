"""Feedback: one text after an order is delivered or picked up, "How was your order #1042?
Reply 1-5", and what the customer answers.

Moving an order to delivered or picked up (the one door, orders/moves.py) makes the text
due FEEDBACK_DELAY_MINUTES later (`schedule`); the telephony worker's minute sweep
(`ask_due`, settings.TELEPHONY_SWEEPS) sends it through the outbox, in the customer's
language, unless: FEEDBACK_TEXT=false, the number may not be texted (telephony.reach's one
rule: opted out, withheld, premium, abroad), the customer opted out during the order, or
they were asked about another order in the last FEEDBACK_EVERY_DAYS (one a week). A reply
that starts with a score, "4", "5 great crust!", "2/5 cold", within FEEDBACK_REPLY_HOURS
of the question, is kept on the order with its words (`take_score`); a 1 or a 2 puts the
order in the staff inbox for a call back. The reports show the week's average and the
comments (staff/reports).
"""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from telephony.numbers import mask
from telephony.reach import reason_not_to_text
from telephony.sms import send_sms

from .models import Inquiry, Order

logger = logging.getLogger(__name__)

SCORE = re.compile(
    r"^\s*([1-5])\s*(?:/\s*5|stars?|estrellas?|out of 5|de 5)?(?![\w/])[\s.!,:;-]*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
LOW = 2  # a score at most this puts the order in the inbox for a call back


def schedule(order, now=None):
    """`order` was just delivered or picked up (in the transaction that moved it)."""
    if not settings.FEEDBACK_TEXT or order.feedback_asked_at or order.feedback_due_at:
        return
    delay = timedelta(minutes=settings.FEEDBACK_DELAY_MINUTES)
    order.feedback_due_at = (now or timezone.now()) + delay
    order.save(update_fields=["feedback_due_at"])


def ask_due(now=None, limit=200):
    """A sweep: ask for the feedback that is due. Returns how many were asked."""
    from .texts import render_sms

    now = now or timezone.now()
    due = Order.objects.filter(feedback_due_at__lte=now).order_by("feedback_due_at")
    asked = 0
    for order_id in list(due.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(of=("self",))
                .select_related("customer")
                .filter(pk=order_id, feedback_due_at__isnull=False)
                .first()
            )
            if order is None:
                continue
            order.feedback_due_at = None
            order.save(update_fields=["feedback_due_at"])
            if reason := _reason_not_to_ask(order, now):
                logger.info("Feedback for order %s not asked: %s", order.pk, reason)
                continue
            phone = str(order.customer.phone)
            with translation.override(order.customer.language):
                body = render_sms("feedback_ask", order=order)
            send_sms(phone, body, about=order, checked=True)
            order.feedback_asked_at = now
            order.save(update_fields=["feedback_asked_at"])
            logger.info("Asked %s for feedback on order %s", mask(phone), order.pk)
            asked += 1
    return asked


def _reason_not_to_ask(order, now):
    if not settings.FEEDBACK_TEXT:
        return "feedback texts are off (FEEDBACK_TEXT)"
    if order.opted_out_at:
        return "the customer opted out during the order"
    if refused := reason_not_to_text(str(order.customer.phone)):
        return refused
    since = now - timedelta(days=settings.FEEDBACK_EVERY_DAYS)
    others = Order.objects.filter(customer_id=order.customer_id, feedback_asked_at__gte=since)
    if others.exclude(pk=order.pk).exists():
        return f"asked about another order in the last {settings.FEEDBACK_EVERY_DAYS} days"
    return None


def read_score(text):
    """(score, words) when `text` starts with a score of 1 to 5, else None."""
    found = SCORE.match(text or "")
    if not found:
        return None
    return int(found.group(1)), " ".join(found.group(2).split())[:500]


def awaiting(customer, now):
    """The order `customer` was asked about and has not scored yet, if asked within
    FEEDBACK_REPLY_HOURS. One query."""
    since = now - timedelta(hours=settings.FEEDBACK_REPLY_HOURS)
    return (
        Order.objects.filter(
            customer=customer, feedback_asked_at__gte=since, feedback_score__isnull=True
        )
        .order_by("-feedback_asked_at")
        .first()
    )


def take_score(order, score, words, message):
    """Keep the customer's score and words on `order`; a low score goes to staff's inbox
    (its note says why) for a call back."""
    with transaction.atomic():
        order.feedback_score, order.feedback_comment = score, words
        order.save(update_fields=["feedback_score", "feedback_comment"])
        if score <= LOW:
            Inquiry.objects.create(
                message=message,
                customer=order.customer,
                note=f"Feedback {score}/5 on #{order.number}: call them back"[:200],
            )
    return order
