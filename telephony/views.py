"""Twilio's SMS webhooks: inbound messages and delivery status callbacks."""

import logging

from django.db import DatabaseError
from django.http import HttpResponse

from . import inbound
from .status import record_status
from .webhooks import MessagingResponse, twilio_webhook, twiml_response

logger = logging.getLogger(__name__)
EMPTY = str(MessagingResponse())


def _retry_later(exc):
    # Twilio retries a webhook that did not succeed; saying 200 would lose the message.
    logger.error("Database unavailable during a webhook (%s); asking Twilio to retry", exc)
    response = HttpResponse("Temporarily unavailable", status=503, content_type="text/plain")
    response["Retry-After"] = "5"
    return response


@twilio_webhook
def inbound_sms(request):
    try:
        inbound.receive_sms(request.POST)
    except ValueError as exc:
        return HttpResponse(f"Bad request: {exc}", status=400, content_type="text/plain")
    except DatabaseError as exc:
        return _retry_later(exc)
    # Replies are queued by the worker as outbound messages (see inbound.receive_sms).
    return twiml_response(EMPTY)


@twilio_webhook
def sms_status(request):
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid")
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus")
    try:
        error_code = int(request.POST.get("ErrorCode") or 0)
    except ValueError:
        error_code = 0
    error_code = error_code if 0 < error_code < 100_000 else None  # Twilio's are 5 digits
    if sid:
        try:
            record_status(sid[:64], status, error_code)
        except DatabaseError as exc:
            return _retry_later(exc)
    return HttpResponse(status=204)
