"""Voice requests out: ring a phone (`queue_call`), redirect or end a call
(`queue_call_update`), point a number's webhooks at us (`queue_number_configuration`). Each
is a ProviderRequest row, and `REQUESTS`, their outbox (telephony/outbox.py), says how one is
made, found again after an unclear attempt, and how its asker is told what became of it
(settings.TELEPHONY_CALL_HANDLERS)."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import handlers, outbox
from .backends import get_backend
from .models import ProviderRequest, about_fields
from .numbers import to_e164
from .reach import reason_not_to_call

logger = logging.getLogger(__name__)

Kind = ProviderRequest.Kind
Status = ProviderRequest.Status


def queue_call(to, url, *, about=None, from_=None, staff=False, **options):
    """Queue a call to `to` answered by the TwiML at `url`. Returns the ProviderRequest.

    Like send_sms: the row is written in the caller's transaction, and the telephony
    worker places the call once it commits. `options` are the backend's place_call
    arguments (status_callback, timeout, record...). What became of it reaches the asker
    through settings.TELEPHONY_CALL_HANDLERS. A number that may not be called
    (reason_not_to_call; `staff=True` for an agent's own phone) gets a `failed` row saying
    why and no provider call; the asker hears of it after commit, as of any failed call.
    """
    params = {"to": to, "from_": from_ or settings.TWILIO_PHONE_NUMBER, "url": url, **options}
    if "status_callback_events" in params:
        params["status_callback_events"] = list(params["status_callback_events"])
    refused = reason_not_to_call(to_e164(to), staff=staff)
    if refused:
        now = timezone.now()
        request = ProviderRequest.objects.create(
            kind=Kind.PLACE_CALL,
            params=params,
            status=Status.FAILED,
            error_message=refused,
            finished_at=now,
            **about_fields(about),
        )
        logger.info("Not calling %s: %s", to, refused)
        transaction.on_commit(lambda: tell_requester(request.pk))
        return request
    return _queue(Kind.PLACE_CALL, params, about)


def queue_call_update(sid, *, url=None, status=None, about=None):
    """Queue redirecting the live call `sid` to `url`, or ending it (`status`)."""
    params = {"sid": sid, "url": url, "status": status}
    return _queue(Kind.UPDATE_CALL, {k: v for k, v in params.items() if v}, about)


def queue_number_configuration(phone_number, **webhooks):
    """Queue pointing `phone_number`'s webhooks (sms_url, voice_url, status_callback) at us."""
    return _queue(Kind.CONFIGURE_NUMBER, {"phone_number": phone_number, **webhooks}, None)


def _queue(kind, params, about):
    return outbox.written(
        ProviderRequest.objects.create(kind=kind, params=params, **about_fields(about))
    )


def withdraw_requests(about):
    """Withdraw the queued requests about `about` no worker has started. Returns how many."""
    return ProviderRequest.objects.filter(
        status=Status.QUEUED, sid="", **about_fields(about)
    ).update(status=Status.WITHDRAWN, updated_at=timezone.now())


class Requests(outbox.Asked):
    """Voice requests. A call whose placing had an unclear outcome is looked up first
    (find_calls) and adopted if it was made; updates and number configuration are
    repeated as they are (a repeated end or configuration changes nothing; a repeated
    redirect restarts the TwiML it points at)."""

    model = ProviderRequest
    what = "voice request"

    def pending(self):
        return ProviderRequest.objects.filter(status__in=[Status.QUEUED, Status.CLAIMED])

    def describe(self, request):
        return f"{request.get_kind_display()} (request {request.pk})"

    def call_provider(self, request):
        backend, params = get_backend(), dict(request.params)
        if request.kind == Kind.PLACE_CALL:
            if "status_callback_events" in params:
                params["status_callback_events"] = tuple(params["status_callback_events"])
            return backend.place_call(**params)
        if request.kind == Kind.UPDATE_CALL:
            return backend.update_call(params.pop("sid"), **params)
        return backend.configure_number(params.pop("phone_number"), **params)

    def find_earlier(self, request):
        if request.kind != Kind.PLACE_CALL:
            return None
        found = get_backend().find_calls(
            to=request.params["to"],
            from_=request.params["from_"],
            started_after=request.unclear_since,
        )
        known = set(
            ProviderRequest.objects.filter(
                kind=Kind.PLACE_CALL, sid__in=[c.sid for c in found]
            ).values_list("sid", flat=True)
        )
        unknown = [c for c in found if c.sid not in known]
        return unknown[-1] if unknown else None

    def done_fields(self, result):
        return {"sid": result.sid or "", "result_status": getattr(result, "status", "")[:20]}

    def finished(self, request):
        handlers.call_finished(request)


REQUESTS = Requests()


def tell_requester(request_id):
    """Run settings.TELEPHONY_CALL_HANDLERS on a finished request, once (Outbox.tell)."""
    return REQUESTS.tell(request_id)


def tell_untold(now=None):
    """A sweep (settings.TELEPHONY_SWEEPS): tell askers what a failed handler left untold."""
    return REQUESTS.tell_untold(now)
