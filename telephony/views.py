"""Twilio's SMS webhooks: inbound messages and delivery status callbacks."""

import logging
import re

from django.db import DatabaseError
from django.http import HttpResponse

from . import inbound, spool
from .status import record_status
from .webhooks import MessagingResponse, twilio_webhook, twiml_response

logger = logging.getLogger(__name__)
EMPTY = str(MessagingResponse())


def _retry_later(exc, what):
    # Twilio retries it only as the URL's connection overrides say (twilio_configure).
    logger.error("Database unavailable for %s (%s); answered 503", what, exc)
    response = HttpResponse("Temporarily unavailable", status=503, content_type="text/plain")
    response["Retry-After"] = "5"
    return response


SID = re.compile(r"[A-Za-z0-9]{1,64}")


@twilio_webhook
def inbound_sms(request):
    """Store the text (the worker answers it) and acknowledge. When the database cannot
    take it, the text goes to the spool on local disk (telephony/spool.py) and is still
    acknowledged; only when the disk fails too does Twilio get a 503."""
    if spool.database_away.skip():
        return _keep(request, "the database was away a moment ago")
    try:
        inbound.receive_sms(request.POST)
    except ValueError as exc:
        return HttpResponse(f"Bad request: {exc}", status=400, content_type="text/plain")
    except DatabaseError as exc:
        spool.database_away.failed()
        return _keep(request, f"database unavailable: {exc}")
    spool.database_away.answered()
    # Replies are queued by the worker as outbound messages (see inbound.receive_sms).
    return twiml_response(EMPTY)


def _keep(request, why):
    """Keep the text in the spool and acknowledge it; a 503 only if the disk fails too."""
    sid = inbound.message_sid(request.POST)
    if not sid:
        return HttpResponse(
            "Bad request: MessageSid missing", status=400, content_type="text/plain"
        )
    about = f"text {sid} from {request.POST.get('From', '?')}"
    if not SID.fullmatch(sid):
        return _retry_later(why, about)
    try:
        spool.keep(request.POST, sid)
    except OSError as disk:
        return _retry_later(f"{why}; spool: {disk}", about)
    logger.warning("%s kept in the spool (%s)", about, why)
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
            return _retry_later(exc, f"the status of {sid[:64]}")
    return HttpResponse(status=204)
