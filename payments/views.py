"""Stripe's webhook (verify, record once, dispatch) and the customer's way to the payment page."""

import json
import logging

from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orders.pages import closed_page, order_context, order_or_404, private_page, rate_limited

from . import services, stripe_api

logger = logging.getLogger(__name__)
MAX_BODY = 512 * 1024  # Stripe's events are a few kilobytes


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's events: the signature checked first (400 and nothing stored when it is not
    Stripe's), each event handled once by its id, in whatever order they come."""
    body = request.body[: MAX_BODY + 1]
    if len(body) > MAX_BODY:
        return HttpResponseBadRequest("too large")
    try:
        stripe_api.construct_event(body, request.headers.get("Stripe-Signature", ""))
        event = json.loads(body)
    except ValueError as exc:
        logger.warning("Refused a Stripe webhook: %s", exc)
        return HttpResponseBadRequest("bad signature")
    if not isinstance(event, dict) or not event.get("id"):
        return HttpResponseBadRequest("not an event")
    outcome, new = services.handle_event(event)
    return JsonResponse({"received": True, "new": new, "outcome": outcome})


@require_GET
@rate_limited
def pay(request, token):
    """To the order's payment page at Stripe (303), or a page that says it is being made and
    looks again in a few seconds; back to the order's page once there is nothing to pay."""
    order, closed = order_or_404(token)
    with translation.override(order.customer.language):
        if closed:
            return closed_page(request)
        url, why = services.page_for(order)
        if url:
            return redirect(url)
        if why in ("paid", "closed"):
            return redirect(reverse("orders:page", args=[order.token]))
        context = order_context(order)
        response = private_page(request, "customer/paying.html", context)
        response["Refresh"] = "3"
        return response
