"""Outbound voice notices: a call that speaks a stored message, such as an order's status."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from orders import lookup
from telephony.models import ProviderRequest, about_fields
from telephony.numbers import mask, to_e164
from telephony.reach import reason_not_to_call

from .calls import recording_url
from .dialing import call_with_notice
from .models import (
    VoiceNotice,
)
from .twiml import order_status_sentence

logger = logging.getLogger(__name__)

NoticeStatus = VoiceNotice.Status


def place_voice_notice(to, message, about=None, record=False):
    """Call `to` and speak `message`. The answer URL carries the notice's id, never the text.

    The row and the queued call are written in the caller's transaction.
    """
    number = to_e164(to)
    refused = reason_not_to_call(number)
    notice = VoiceNotice.objects.create(
        to_number=number or str(to)[:32],
        message=message,
        record=record,
        status=NoticeStatus.FAILED if refused else NoticeStatus.QUEUED,
        error_message=refused or "",
        **about_fields(about),
    )
    if not refused:
        call_with_notice(notice)
    return notice


def notice_dialed(notice, request):
    notice = VoiceNotice.objects.select_for_update().get(pk=notice.pk)
    if request.status == ProviderRequest.Status.FAILED:
        if notice.may_move_to(NoticeStatus.FAILED):
            notice.move(NoticeStatus.FAILED, error_message=request.error_message)
        logger.error(
            "Voice notice %s to %s failed: %s",
            notice.pk, mask(notice.to_number), request.error_message,
        )  # fmt: skip
        return
    notice.sid = request.sid
    notice.save(update_fields=["sid"])
    if notice.may_move_to(request.result_status):
        notice.move(request.result_status)


def record_notice_status(notice_id, call_status):
    """Log a voice notice's progress; an ending is never overwritten by an earlier stage.
    Returns whether the status moved."""
    call_status = (call_status or "").lower()
    with transaction.atomic():
        notice = VoiceNotice.objects.select_for_update().filter(pk=notice_id).first()
        if notice is None or not notice.may_move_to(call_status):
            return False
        notice.move(call_status)
        return True


def save_notice_recording(notice_id, params):
    url = recording_url(params)
    if url and (params.get("RecordingStatus") or "completed") == "completed":
        VoiceNotice.objects.filter(pk=notice_id).update(recording_url=url)


def call_customer_with_order_status(phone, order_number=None, about=None):
    """Place a voice notice telling `phone` the status of their active order(s)."""
    number = to_e164(phone)
    orders = lookup.active_orders_for_number(number) if number else []
    if order_number:
        orders = [o for o in orders if str(o.number) == str(order_number)] or orders
    if not orders:
        return None
    # Worded in the customer's language, and spoken in its voice (views.notice_answer).
    with translation.override(lookup.language_for_number(number)):
        sentences = " ".join(order_status_sentence(o) for o in orders[:3])
        message = gettext("Hello, this is %(shop)s. %(sentences)s Thank you, goodbye.") % {
            "shop": settings.SHOP_NAME,
            "sentences": sentences,
        }
    return place_voice_notice(number, message, about=about)
