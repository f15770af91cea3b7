"""Every voice request to the provider goes through the outbox: webhooks never wait for
Twilio's REST API, the telephony worker makes the request, retries it, and looks it up
after an unclear outcome; what failed is in the admin."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from support import calls
from support.models import AgentOffer, SupportCall
from telephony.backends import TransientProviderError, UnclearProviderError
from telephony.backends.locmem import answer_lost_with
from telephony.models import ProviderRequest
from tests.factories import AgentFactory, SupportCallFactory, VoicemailFactory
from tests.fixtures.consumer import perform_request, worker_pass

CALLER = "+14155550123"
CALLER_SID = "CA" + "c" * 32
Status = ProviderRequest.Status


def press_2(twilio):
    """The caller rings the support line and asks for an advisor; the second response."""
    common = {"AccountSid": settings.TWILIO_ACCOUNT_SID, "CallSid": CALLER_SID, "From": CALLER}
    answer = {"To": settings.TWILIO_PHONE_NUMBER, "CallStatus": "ringing", "Direction": "inbound"}
    twilio.post(reverse("support:voice"), {**common, **answer})
    started = time.monotonic()
    response = twilio.post(
        reverse("support:menu"), {**common, "CallStatus": "in-progress", "Digits": "2"}
    )
    response.took = time.monotonic() - started
    return response


@pytest.mark.django_db(transaction=True)
def test_pressing_2_answers_at_once_and_the_worker_rings_the_agent_later(
    twilio, fake_twilio, settings
):
    # Committed for real, and sent by the worker as in production: no test transaction
    # hides an on_commit callback that would run inside the request.
    settings.TELEPHONY_SEND_AT_COMMIT = False
    settings.TWILIO_HTTP_TIMEOUT = 5
    agent = AgentFactory()
    fake_twilio.stall_next(1, seconds=2)  # Twilio's REST API answers in 2 s

    response = press_2(twilio)

    assert response.status_code == 200 and b"<Conference" in response.content
    assert response.took < 1.5
    assert fake_twilio.requests == []  # the webhook did not call Twilio at all
    (ring,) = ProviderRequest.objects.all()
    assert (ring.kind, ring.status, ring.params["to"]) == ("place_call", Status.QUEUED, agent.phone)

    call_command("telephony_worker", "--once")

    (request,) = fake_twilio.of_kind("call")
    assert request.To == agent.phone
    offer = AgentOffer.objects.get()
    assert offer.status == AgentOffer.Status.RINGING and offer.sid == request.resource["sid"]


def ringing_call():
    return SupportCallFactory(
        call_sid=CALLER_SID, status=SupportCall.Status.WAITING, waiting_since=timezone.now()
    )


def later(request):
    """As if the retry's backoff, or the sweep's patience, had passed."""
    past = timezone.now() - timedelta(seconds=settings.SMS_STUCK_AFTER_SECONDS + 1)
    ProviderRequest.objects.filter(pk=request.pk).update(next_attempt_at=past, updated_at=past)


@pytest.mark.django_db
def test_a_ring_whose_answer_was_lost_is_found_at_the_provider_and_not_placed_twice(
    outbox, django_capture_on_commit_callbacks
):
    agent = AgentFactory()
    ringing_call()
    answer_lost_with.append(UnclearProviderError("read timeout"))

    with django_capture_on_commit_callbacks(execute=True):
        calls.hunt()

    ring = ProviderRequest.objects.get()
    assert (ring.status, ring.unclear_since is not None) == (Status.QUEUED, True)
    assert AgentOffer.objects.get().status == AgentOffer.Status.PLACING
    later(ring)
    with django_capture_on_commit_callbacks(execute=True):
        assert worker_pass() == 1

    (placed,) = [r for r in outbox if r.kind == "call"]  # rung once
    assert placed.to == agent.phone
    ring.refresh_from_db()
    assert (ring.status, ring.sid, ring.unclear_since) == (Status.DONE, placed.sid, None)
    offer = AgentOffer.objects.get()
    assert (offer.status, offer.sid) == (AgentOffer.Status.RINGING, placed.sid)


@pytest.mark.django_db
def test_a_ring_a_killed_worker_left_claimed_is_looked_up_before_ringing_again(
    outbox, django_capture_on_commit_callbacks, provider_fails
):
    AgentFactory()
    ringing_call()
    with django_capture_on_commit_callbacks(execute=False):  # not sent yet
        calls.hunt()
    ring = ProviderRequest.objects.get()
    ProviderRequest.objects.filter(pk=ring.pk).update(status=Status.CLAIMED, attempts=1)
    later(ring)

    with django_capture_on_commit_callbacks(execute=True):
        assert worker_pass() == 1

    # Twilio never got it (nothing found): the agent is rung now, once.
    assert len([r for r in outbox if r.kind == "call"]) == 1
    ring.refresh_from_db()
    assert (ring.status, ring.attempts) == (Status.DONE, 2)
    assert AgentOffer.objects.get().status == AgentOffer.Status.RINGING


@pytest.mark.django_db
def test_a_ring_that_keeps_failing_is_retried_then_failed_visibly_and_the_caller_moves_on(
    outbox, provider_fails, django_capture_on_commit_callbacks, admin_client, settings
):
    settings.SMS_MAX_ATTEMPTS = 2
    first, second = AgentFactory(priority=1), AgentFactory(priority=2)
    ringing_call()
    provider_fails.extend([TransientProviderError("503", code=20503, status=503)] * 2)

    with django_capture_on_commit_callbacks(execute=True):
        calls.hunt()
    ring = ProviderRequest.objects.get()
    assert (ring.status, ring.attempts) == (Status.QUEUED, 1)  # waiting to retry
    later(ring)
    with django_capture_on_commit_callbacks(execute=True):
        worker_pass()

    ring.refresh_from_db()
    assert (ring.status, ring.error_code, ring.attempts) == (Status.FAILED, 20503, 2)
    assert [r.to for r in outbox if r.kind == "call"] == [second.phone]
    assert [o.agent for o in AgentOffer.objects.order_by("pk")] == [first, second]
    page = admin_client.get(
        reverse("admin:telephony_providerrequest_changelist"), {"status__exact": "failed"}
    )
    html = page.content.decode()
    assert page.status_code == 200 and first.phone in html and "20503" in html
    assert second.phone not in html


@pytest.mark.django_db
def test_a_caller_who_hangs_up_before_the_ring_is_made_withdraws_it(
    outbox, django_capture_on_commit_callbacks
):
    AgentFactory()
    ringing_call()
    with django_capture_on_commit_callbacks(execute=False):
        calls.hunt()
        calls.record_caller_status(CALLER_SID, "completed")
    ring = ProviderRequest.objects.get()

    assert perform_request(ring.pk) is None

    ring.refresh_from_db()
    assert ring.status == Status.WITHDRAWN
    assert outbox == []


@pytest.mark.django_db
def test_a_staff_call_back_answered_with_an_unreadable_2xx_is_never_a_500(
    admin_client, fake_twilio, django_capture_on_commit_callbacks, admin_user
):
    agent = AgentFactory(user=admin_user)
    voicemail = VoicemailFactory(call__caller_number=CALLER)
    fake_twilio.garble_next(1)  # Twilio accepts the call and answers 201 "<html>..."

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:support_voicemail_changelist"),
            {"action": "call_back", "_selected_action": [voicemail.pk]},
        )
    assert response.status_code == 302
    ring = ProviderRequest.objects.get()
    assert ring.status == Status.QUEUED and ring.unclear_since  # the answer was unreadable
    later(ring)
    with django_capture_on_commit_callbacks(execute=True):
        worker_pass()

    (placed,) = fake_twilio.of_kind("call")  # found at Twilio: the agent's phone rang once
    assert placed.To == agent.phone
    assert [r.kind for r in fake_twilio.requests] == ["call", "list_call"]
    offer = AgentOffer.objects.get()
    assert (offer.status, offer.sid) == (AgentOffer.Status.RINGING, placed.resource["sid"])


@pytest.mark.django_db
def test_a_failing_asker_is_told_again_later_and_never_stops_the_sending(
    outbox, django_capture_on_commit_callbacks, monkeypatch, settings
):
    from telephony import handlers

    AgentFactory()
    ringing_call()
    told = []

    def broken(request):
        told.append(request.pk)
        raise RuntimeError("a bug in the asker")

    monkeypatch.setattr(handlers, "call_finished", broken)
    with django_capture_on_commit_callbacks(execute=True):
        calls.hunt()  # placed: the asker's handler fails

    ring = ProviderRequest.objects.get()
    assert ring.status == Status.DONE and ring.handled_at is None  # made, not yet told
    monkeypatch.undo()
    from telephony.voice import tell_untold

    past = timezone.now() - timedelta(seconds=settings.SMS_STUCK_AFTER_SECONDS + 1)
    ProviderRequest.objects.filter(pk=ring.pk).update(finished_at=past)
    assert tell_untold() == 1 and told == [ring.pk]  # told by the sweep, once it works
    assert AgentOffer.objects.get().status == AgentOffer.Status.RINGING
