"""Staff calling customers back from the voicemails left on the support line."""

import logging

from django.db import transaction
from django.utils import timezone

from telephony.models import ProviderRequest
from telephony.reach import reason_not_to_call

from .calls import call_for_update, end_call
from .dialing import ring_agent
from .models import (
    ACTIVE_OFFER_STATUSES,
    AgentOffer,
    CallEvent,
    SupportCall,
    Voicemail,
)

logger = logging.getLogger(__name__)

Status = SupportCall.Status
Kind = CallEvent.Kind


def mark_voicemails_done(voicemails, user):
    """Mark call-back tasks done by `user`. Returns how many were still open."""
    return Voicemail.objects.filter(pk__in=[v.pk for v in voicemails], done_at__isnull=True).update(
        done_at=timezone.now(), done_by=user
    )


class CallbackError(Exception):
    """Why a call-back cannot be started (shown to staff)."""


def start_callback(voicemail, agent):
    """Ring `agent`'s phone; once they answer, the customer is called into their conference."""
    if agent is None or not agent.is_active:
        raise CallbackError("Your login has no active support agent with a phone.")
    customer = voicemail.call.caller_number
    if not customer.startswith("+"):
        raise CallbackError("This caller's number is unknown or withheld.")
    if why := reason_not_to_call(customer):
        raise CallbackError(f"Not calling {customer} back: {why}.")
    if why := reason_not_to_call(agent.phone, staff=True):
        raise CallbackError(f"Not ringing {agent}'s phone {agent.phone}: {why}.")
    with transaction.atomic():
        if AgentOffer.objects.filter(agent=agent, status__in=ACTIVE_OFFER_STATUSES).exists():
            raise CallbackError(f"{agent} is already on a call.")
        call = SupportCall.objects.create(
            direction=SupportCall.Direction.CALLBACK,
            caller_number=customer,
            order_number=voicemail.call.order_number,
            order_id=voicemail.call.order_id,
            customer_id=voicemail.call.customer_id,
            status=Status.RINGING_AGENT,
            waiting_since=timezone.now(),
            callback_for=voicemail,
        )
        offer = AgentOffer.objects.create(call=call, agent=agent)
        call.current_offer = offer
        call.save(update_fields=["current_offer"])
        call.record(Kind.CALLBACK_REQUESTED, agent=agent, voicemail=voicemail.pk)
        ring_agent(offer)
    return call


def customer_dialed(call, request):
    if request.status == ProviderRequest.Status.FAILED:
        logger.error("Could not call customer back for call %s: %s", call.pk, request.error_message)
        locked = call_for_update(call.pk)
        end_call(locked, "failed", error=request.error_message[:200])
        return
    SupportCall.objects.filter(pk=call.pk, call_sid__isnull=True).update(call_sid=request.sid)
