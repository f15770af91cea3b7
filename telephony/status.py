"""Delivery status callbacks: how a text's status moves as Twilio reports it (record_status)."""

import logging

from django.utils import timezone

from .models import Message
from .reach import UNSUBSCRIBED, opt_out

logger = logging.getLogger(__name__)

Status = Message.Status

# What Twilio's delivery error codes mean, for the ones a shop meets (the reports, the
# board's banner, the owner's alert).
ERROR_CODES = {
    None: "refused before sending (country, invalid or premium number)",
    21211: "invalid 'To' number",
    21408: "region not enabled",
    21610: "recipient had replied STOP",
    21614: "not a mobile number",
    30001: "Twilio's queue for the number is full (sending too fast)",
    30002: "the Twilio account is suspended",
    30003: "handset unreachable",
    30004: "message blocked",
    30005: "unknown or inactive number",
    30006: "landline or unreachable carrier",
    30007: "filtered as spam by the carrier",
    30008: "unknown error",
    30032: "toll-free number not verified",
    30034: "the sending number is not registered for A2P 10DLC (US carriers refuse it)",
}


# Which statuses a callback may move a message out of, for each status it reports.
# Callbacks arrive out of order; a later stage is never overwritten by an earlier one.
_EARLY = {Status.QUEUED, Status.SENDING, Status.ACCEPTED, Status.SCHEDULED}
MAY_COME_FROM = {
    Status.ACCEPTED: {Status.QUEUED, Status.SENDING},
    Status.SCHEDULED: {Status.QUEUED, Status.SENDING, Status.ACCEPTED},
    Status.QUEUED: {Status.SENDING, Status.ACCEPTED, Status.SCHEDULED},
    Status.SENDING: {Status.QUEUED, Status.ACCEPTED, Status.SCHEDULED},
    Status.SENT: _EARLY,
    Status.DELIVERED: _EARLY | {Status.SENT},
    Status.UNDELIVERED: _EARLY | {Status.SENT},
    Status.FAILED: _EARLY | {Status.SENT},
    Status.READ: _EARLY | {Status.SENT, Status.DELIVERED},
    Status.CANCELED: _EARLY,
}


def record_status(sid, status, error_code=None):
    """Apply a delivery status callback. Returns "updated", "ignored" or "unknown"."""
    status = (status or "").lower()
    if status not in MAY_COME_FROM:
        logger.info("Status callback for %s with unknown status %r ignored", sid, status)
        return "ignored"
    fields = {"status": status, "updated_at": timezone.now()}
    if error_code:
        fields["error_code"] = error_code
    updated = Message.objects.filter(sid=sid, status__in=MAY_COME_FROM[status]).update(**fields)
    if updated:
        if error_code == UNSUBSCRIBED:
            number = Message.objects.filter(sid=sid).values_list("to_number", flat=True).first()
            if number:
                opt_out(number, keyword="21610")
        return "updated"
    if Message.objects.filter(sid=sid).exists():
        return "ignored"  # a repeat, or older than what we know
    logger.warning("Status callback for unknown message SID %s (%s) acknowledged", sid, status)
    return "unknown"
