"""Stripe's rows in the outbox (telephony/outbox.py): made by the telephony worker, retried
on transient errors with the same idempotency key, so an attempt whose answer was lost is
simply repeated (Stripe answers a repeat with what the first made)."""

from django.conf import settings

from telephony import outbox

from . import stripe_api
from .models import StripeRequest

Status = StripeRequest.Status


class StripeRequests(outbox.Asked):
    model = StripeRequest
    what = "Stripe request"

    def pending(self):
        if not settings.STRIPE_SECRET_KEY:  # nothing to make without a key: no query either
            return StripeRequest.objects.none()
        return StripeRequest.objects.filter(status__in=[Status.QUEUED, Status.CLAIMED])

    def describe(self, request):
        return f"{request.get_kind_display()} for order {request.order_id} (Stripe {request.pk})"

    def refusal(self, request):
        from .services import refusal  # the order's state says whether it is still wanted

        return refusal(request)

    def call_provider(self, request):
        return stripe_api.make(request.kind, request.params, request.idempotency_key)

    def find_earlier(self, request):
        return None  # repeating it with its idempotency key returns what an earlier one made

    def done_fields(self, made):
        return {"sid": made.sid[:255], "result": made.data}

    def finished(self, request):
        from .services import request_finished  # the order's side of the outcome

        request_finished(request)


REQUESTS = StripeRequests()


def written(request):
    return outbox.written(request)


def tell_untold(now=None):
    """For the sweep: finished requests whose outcome a failed handler left unhandled."""
    return REQUESTS.tell_untold(now)
