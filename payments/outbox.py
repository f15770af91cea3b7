"""Stripe's rows in the outbox (telephony/outbox.py): made by the telephony worker, retried
on transient errors with the same idempotency key, so an attempt whose answer was lost is
simply repeated (Stripe answers a repeat with what the first made)."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from telephony import outbox

from . import stripe_api
from .models import StripeRequest

logger = logging.getLogger(__name__)
Status = StripeRequest.Status


class StripeRequests(outbox.Outbox):
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

    def store_done(self, done):
        for request, made in done:
            now = timezone.now()
            StripeRequest.objects.filter(pk=request.pk).update(
                status=Status.DONE, sid=made.sid[:255], result=made.data, error_code=None,
                error_message="", unclear_since=None, claimed_by=None, finished_at=now,
                updated_at=now,
            )  # fmt: skip
            _tell(request.pk)

    def ended(self, now):
        return {"finished_at": now}

    def failed_for_good(self, request):
        _tell(request.pk)


REQUESTS = StripeRequests()


def written(request):
    return outbox.written(request)


def tell_asker(request_id):
    """Run payments.services.request_finished on a finished request, once (handled_at),
    in one transaction with what it changes."""
    from .services import request_finished

    with transaction.atomic():
        claimed = StripeRequest.objects.filter(
            pk=request_id, status__in=[Status.DONE, Status.FAILED], handled_at__isnull=True
        ).update(handled_at=timezone.now())
        if claimed:
            request_finished(StripeRequest.objects.select_related("order").get(pk=request_id))
    return bool(claimed)


def _tell(request_id):
    try:
        tell_asker(request_id)
    except Exception:  # never holds back the worker's texts: the sweep tells it again
        logger.exception("Handling Stripe request %s's outcome failed; the sweep will", request_id)


def tell_untold():
    """For the sweep: finished requests whose outcome was not handled (a failed handler)."""
    told = 0
    untold = StripeRequest.objects.filter(
        status__in=[Status.DONE, Status.FAILED], handled_at__isnull=True
    ).values_list("pk", flat=True)[:500]
    for request_id in list(untold):
        try:
            told += tell_asker(request_id)
        except Exception:
            logger.exception("Handling Stripe request %s's outcome failed; next sweep", request_id)
    return told
