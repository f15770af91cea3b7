"""How the voice requests support queued ended (settings.TELEPHONY_CALL_HANDLERS)."""

import logging

from telephony.models import ProviderRequest

from .callbacks import customer_dialed
from .calls import agent_rung
from .models import (
    AgentOffer,
    SupportCall,
    VoiceNotice,
)
from .notices import notice_dialed

logger = logging.getLogger(__name__)

_PLACED = {AgentOffer: agent_rung, SupportCall: customer_dialed, VoiceNotice: notice_dialed}


def provider_request_finished(request):
    """settings.TELEPHONY_CALL_HANDLERS: a queued voice request of ours is done or failed.

    Runs in the worker, in one transaction with marking the request handled."""
    model = request.content_type.model_class() if request.content_type_id else None
    if model not in _PLACED:
        return
    if request.kind != ProviderRequest.Kind.PLACE_CALL:
        if request.status == ProviderRequest.Status.FAILED:
            # Mostly a cancel or redirect of a leg that had already ended.
            logger.info("Call update %s failed: %s", request.pk, request.error_message)
        return
    about = model.objects.filter(pk=request.object_id).first()
    if about is not None:
        _PLACED[model](about, request)
