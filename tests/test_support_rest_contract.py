"""The REST requests the support line queues are accepted by Twilio's OpenAPI description
(the Prism mock): our service code runs, the outbox worker makes each request with the
real SDK backend pointed at Prism, and the request rows say how it went."""

from datetime import timedelta

import pytest
from django.utils import timezone

from support import calls, dialing, notices
from support.models import AgentOffer, SupportCall, VoiceNotice
from telephony.models import ProviderRequest
from tests.factories import AgentFactory, SupportCallFactory

from .fixtures.consumer import perform_request

CALLER_SID = "CA" + "c" * 32


@pytest.fixture
def via_prism(prism, settings):
    """Every provider request the outbox makes goes to Prism through the SDK."""
    settings.TELEPHONY_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = prism
    settings.TWILIO_HTTP_TIMEOUT = 10


def provider_complaints(via_prism=None):
    return list(
        ProviderRequest.objects.exclude(status=ProviderRequest.Status.DONE).values_list(
            "kind", "status", "error_message"
        )
    )


def test_ringing_an_agent_is_a_valid_create_call(via_prism, db, django_capture_on_commit_callbacks):
    AgentFactory()
    SupportCallFactory(call_sid=CALLER_SID, status=SupportCall.Status.WAITING,
                              waiting_since=timezone.now())  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        calls.hunt()

    offer = AgentOffer.objects.get()
    assert offer.status == AgentOffer.Status.RINGING, provider_complaints()
    assert offer.sid and offer.sid.startswith("CA")


def test_moving_a_caller_to_voicemail_is_a_valid_cancel_and_redirect(
    via_prism, db, django_capture_on_commit_callbacks, settings
):
    settings.SUPPORT_MAX_WAIT_SECONDS = 60
    call = SupportCallFactory(
        call_sid=CALLER_SID,
        status=SupportCall.Status.RINGING_AGENT,
        waiting_since=timezone.now() - timedelta(seconds=90),
    )
    offer = AgentOffer.objects.create(
        call=call, agent=AgentFactory(), sid="CA" + "a" * 32, status=AgentOffer.Status.RINGING
    )

    with django_capture_on_commit_callbacks(execute=True):
        calls.check_hold(call.pk)

    updates = ProviderRequest.objects.order_by("pk")
    assert [(u.kind, u.params) for u in updates] == [
        ("update_call", {"sid": offer.sid, "status": "canceled"}),  # the agent's leg
        ("update_call", {"sid": CALLER_SID, "url": f"https://pizza.example.com/twilio/voice/calls/{call.pk}/voicemail/"}),
    ]  # fmt: skip
    assert provider_complaints() == []
    offer.refresh_from_db()
    assert offer.status == AgentOffer.Status.CANCELED


def test_a_call_update_the_mock_refuses_is_reported(
    via_prism, db, django_capture_on_commit_callbacks
):
    # Proves the check above can fail: a SID that is not a CallSid is a 422 from Prism.
    with django_capture_on_commit_callbacks(execute=True):
        dialing.redirect_call("not-a-call-sid", "https://pizza.example.com/twilio/voice/")
    assert provider_complaints() == [("update_call", "failed", provider_complaints()[0][2])]


def test_a_voice_notice_is_a_valid_create_call_with_recording(
    via_prism, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notice = notices.place_voice_notice("+14155550123", "Your order is ready.", record=True)

    notice = VoiceNotice.objects.get(pk=notice.pk)
    assert notice.status != "failed", notice.error_message
    assert notice.sid and notice.sid.startswith("CA")


def test_calling_a_customer_back_is_a_valid_create_call(via_prism, db):
    call = SupportCallFactory(
        call_sid=None, direction=SupportCall.Direction.CALLBACK,
        status=SupportCall.Status.CONNECTED, conference_name="support-CA" + "b" * 32,
    )  # fmt: skip

    sid = perform_request(dialing.dial_customer_back(call).pk)

    assert sid and sid.startswith("CA")
    call.refresh_from_db()
    assert call.status == SupportCall.Status.CONNECTED and call.call_sid == sid
