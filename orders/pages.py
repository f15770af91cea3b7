"""The customer's pages: the shop's home page at / and each order's page at /o/<token>/ (a live
tracker, then a receipt), linked from the order texts. No login: the token is the key.

Decisions where the issue is silent:
- An unknown token and one whose order finished more than ORDER_PAGE_DAYS ago are both a
  404; the second says "this order is closed" and shows nothing of the order.
- The delivery address is shortened to its first part ("12 Main St" of "12 Main St, Apt 4,
  Springfield"): enough for the customer to recognise, little for anyone else.
- Cancelling follows the CANCEL ORDER text's rules (services.cancel_order with the customer
  as actor: while received or being prepared), after a confirmation page, and the customer
  gets the same text as after CANCEL ORDER. A second click finds it cancelled: no second text.
- "Order this again" opens the phone's messaging app with ORDER and the order's lines in
  menu codes (what the parser reads back); kitchen notes are left out.
"""

import re
import time
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods

from . import services, texts
from . import shop as owner_settings
from .billing import online as payment_online
from .hours import clock, opening, shop_hours, spoken_hours
from .models import (
    CUSTOMER_MAY_CANCEL,
    FINISHED,
    PATHS,
    STEP_LABELS,
    Actor,
    Fulfilment,
    Order,
    Status,
)

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,43}$")
POLL_SECONDS = 10
NO_INDEX = "noindex, nofollow"


# --- the rate limit ----------------------------------------------------------------------


def client_ip(request):
    """REMOTE_ADDR, or the last address in ORDER_PAGE_IP_HEADER (the one our proxy added)."""
    if settings.ORDER_PAGE_IP_HEADER:
        forwarded = request.META.get(settings.ORDER_PAGE_IP_HEADER, "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def over_limit(request, now=None):
    """Count this request against its address's minute (a fixed window in Django's cache);
    True when the address is past ORDER_PAGE_REQUESTS_PER_MINUTE. With the default
    per-process cache each web process counts alone; a shared cache makes it exact."""
    window = int((now or time.time()) // 60)
    key = f"order-page:{client_ip(request)}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count > settings.ORDER_PAGE_REQUESTS_PER_MINUTE


def rate_limited(view):
    def wrapped(request, *args, **kwargs):
        if over_limit(request):
            response = HttpResponse(
                "Too many requests; try again in a minute.", status=429, content_type="text/plain"
            )
            response["Retry-After"] = "60"
            return response
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# --- what the pages show -----------------------------------------------------------------


def _shop():
    return {
        "name": settings.SHOP_NAME,
        "address": owner_settings.address(),
        "phone": texts.shop_phone(),
        "tel": settings.SHOP_PHONE,
        "sms_number": settings.TWILIO_PHONE_NUMBER,
        "sms_display": _national(settings.TWILIO_PHONE_NUMBER),
    }


def _national(number):
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, settings.SHOP_COUNTRY)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def sms_href(number, body):
    """An sms: link with `body` prefilled (`?&body=` is read by both iOS and Android)."""
    return f"sms:{number}?&body={quote(body)}"


def short_address(address):
    first = (address or "").split(",")[0].strip()
    return first if len(first) <= 40 else first[:39] + "…"


def reorder_text(items):
    """ORDER and the lines in menu codes, e.g. 'ORDER 1 L PEP with MUSH on THIN crust, 2 COKE'."""
    parts = []
    for item in items:
        code = item.menu_item.code if item.menu_item else item.name
        mods = item.modifiers or {}
        words = [str(item.quantity)] + ([item.size] if item.size else [])
        if half := mods.get("half"):
            words += ["half", code, "half", half.get("code") or half.get("name", "")]
        else:
            words.append(code)
            for side in ("left", "right"):
                if mods.get(side):
                    words += ["half", " ".join(t.get("code") or t.get("name") for t in mods[side])]
        if toppings := mods.get("toppings"):
            words += ["with", " and ".join(t.get("code") or t.get("name") for t in toppings)]
        if crust := mods.get("crust"):
            words += ["on", crust.get("code") or crust.get("name"), "crust"]
        parts.append(" ".join(words))
    return "ORDER " + ", ".join(parts)


def _lines(items):
    for item in items:
        yield {
            "item": item,
            "label": texts.line_label(item),
            "details": texts.line_extras(item),
            "amount": texts.money(item.unit_price * item.quantity),
        }


def _steps(order):
    path = PATHS[order.fulfilment]
    here = path.index(order.status) if order.status in path else -1
    return [
        {
            "label": STEP_LABELS.get(stage, stage),
            "state": "done" if i < here else "current" if i == here else "todo",
        }
        for i, stage in enumerate(path)
    ]


def _money_field(order, name):
    value = getattr(order, name, None)
    return texts.money(value) if value else ""


def _payment(order, now):
    """What the page says of paying: "due" (a Pay now button: payment by link is on), "paid",
    or None (nothing to say: paid at the door is not shown unless it was)."""
    refund = texts.money(order.refunded) if order.refunded else ""
    if order.paid:
        amount = texts.money(order.paid)
        return {"state": "paid", "amount": amount, "by": order.paid_by, "refund": refund}
    if order.status == Status.CANCELLED or not payment_online():
        return None
    return {"state": "due", "due": clock(order.payment_due_by, now)}


def order_context(order, now=None):
    now = now or timezone.now()
    items = list(order.items.select_related("menu_item"))
    shop = _shop()
    finished = order.status in FINISHED
    return {
        "order": order,
        "shop": shop,
        "lines": list(_lines(items)),
        "steps": _steps(order),
        "stage": order.stage_words,
        "status_label": STEP_LABELS.get(order.status, order.get_status_display()),
        "cancelled": order.status == Status.CANCELLED,
        "finished": finished,
        "receipt": finished and order.status != Status.CANCELLED,
        "delivery": order.fulfilment == Fulfilment.DELIVERY,
        "address": short_address(order.address),
        "promised": clock(order.promised_at, now),
        "placed": clock(order.created_at, now),
        # A finished order's last change is its last stage (status saves touch updated_at).
        "finished_at": clock(order.updated_at, now) if finished else "",
        "may_cancel": order.status in CUSTOMER_MAY_CANCEL,
        # The money fields another change adds to Order (shown when there).
        "subtotal": _money_field(order, "subtotal"),
        "tax": _money_field(order, "tax"),
        "delivery_fee": _money_field(order, "delivery_fee"),
        "total": texts.money(order.total),
        "awaiting": order.status == Status.AWAITING_PAYMENT,
        "pay": _payment(order, now),
        "status_href": sms_href(shop["sms_number"], "STATUS"),
        "reorder_href": sms_href(shop["sms_number"], reorder_text(items)),
        "poll_seconds": POLL_SECONDS,
    }


def order_or_404(token, now=None):
    """(order, closed): the order behind `token` (one query), closed when it finished more
    than ORDER_PAGE_DAYS ago. Http404 for a token that is malformed or nobody's."""
    if not TOKEN.match(token or ""):
        raise Http404("No such order.")
    order = Order.objects.select_related("customer", "driver").filter(token=token).first()
    if order is None:
        raise Http404("No such order.")
    now = now or timezone.now()
    age = now - order.updated_at
    closed = order.status in FINISHED and age.days >= settings.ORDER_PAGE_DAYS
    return order, closed


def private_page(request, template, context, status=200):
    """An order's page: kept out of search engines, caches and other sites' logs (its
    address is the customer's secret). The payment pages use it too (payments/views.py)."""
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = NO_INDEX
    response["Referrer-Policy"] = "same-origin"  # the token stays out of other sites' logs
    response["Cache-Control"] = "no-store"
    return response


def closed_page(request):
    """What an order's address shows once its page is closed (ORDER_PAGE_DAYS)."""
    return private_page(request, "customer/closed.html", {"shop": _shop()}, status=404)


# --- views ---------------------------------------------------------------------------------


@require_GET
def home(request):
    """The shop's home page: name, open now or not, hours, the number to text and call."""
    shop = _shop()
    return private_page(
        request,
        "customer/home.html",
        {
            "shop": shop,
            "opening": opening(),
            "hours": spoken_hours(owner_settings.hours_text()),
            "always_open": shop_hours().always_open,
            "order_href": sms_href(shop["sms_number"], "MENU"),
        },
    )


@require_GET
@rate_limited
def order_page(request, token):
    order, closed = order_or_404(token)
    with translation.override(order.customer.language):
        if closed:
            return closed_page(request)
        context = order_context(order)
        if request.GET.get("paid") == "1" and context["pay"] and context["pay"]["state"] == "due":
            context["pay"] = {"state": "confirming"}  # back from Stripe before its event
        return private_page(request, "customer/order.html", context)


@require_GET
@rate_limited
def order_live(request, token):
    """The part of the order page that htmx polls: stage, time, what the customer may do."""
    order, closed = order_or_404(token)
    with translation.override(order.customer.language):
        if closed:
            return closed_page(request)
        return private_page(request, "customer/_order.html", order_context(order))


@require_http_methods(["GET", "POST"])
@rate_limited
def cancel(request, token):
    """GET: are you sure? POST: cancel through the CANCEL ORDER door, then back to the page."""
    order, closed = order_or_404(token)
    with translation.override(order.customer.language):
        return _cancel(request, order, closed)


def _cancel(request, order, closed):
    if closed:
        return closed_page(request)
    context = order_context(order)
    if request.method == "GET":
        return private_page(request, "customer/cancel.html", context)
    try:
        with transaction.atomic():
            moved = services.cancel_order(order, by=Actor.CUSTOMER, notify=False)
            services.notify_customer(moved.order, "cancelled")
    except services.OrderError:
        order.refresh_from_db()
        context = order_context(order)
        context["refused"] = True
        return private_page(request, "customer/cancel.html", context, status=409)
    return redirect(reverse("orders:page", args=[order.token]) + "?cancelled=1")
