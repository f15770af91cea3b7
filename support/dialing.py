"""Every call the support line places or changes, as requests in telephony's outbox."""

from django.conf import settings

from telephony import voice
from telephony.outbox import callback_url

# Twilio's CallStatus values that end a call leg.
ENDED = {"completed", "busy", "failed", "no-answer", "canceled"}
PROGRESS = ("initiated", "ringing", "answered", "completed")


def place_call(to, answer, status, about, **options):
    """Queue a call to `to` (in the caller's transaction): Twilio fetches the TwiML at the
    URL named `answer` when it is picked up and posts each stage of it to `status`; both
    are (url name, *args). `options` are queue_call's (staff, timeout, record...)."""
    return voice.queue_call(
        to,
        callback_url(*answer),
        about=about,
        status_callback=callback_url(*status),
        status_callback_events=PROGRESS,
        **options,
    )


def ring_agent(offer):
    """Ring the agent's phone for `offer`."""
    return place_call(
        offer.agent.phone,
        ("support:agent-answer", offer.pk),
        ("support:agent-status", offer.pk),
        about=offer,
        staff=True,
        timeout=settings.SUPPORT_RING_TIMEOUT,
    )


def dial_customer_back(call):
    """Call the customer's leg of a call-back (after the agent answered)."""
    return place_call(
        call.caller_number,
        ("support:callback-customer", call.pk),
        ("support:call-status",),
        about=call,
        timeout=settings.SUPPORT_RING_TIMEOUT * 2,
    )


def call_with_notice(notice):
    """Call the number of a voice notice, which speaks its message."""
    recording = callback_url("support:notice-recording", notice.pk) if notice.record else None
    return place_call(
        notice.to_number,
        ("support:notice-answer", notice.pk),
        ("support:notice-status", notice.pk),
        about=notice,
        record=notice.record,
        recording_status_callback=recording,
    )


def redirect_call(sid, url, about=None):
    """Queue moving the live call `sid` on to the TwiML at `url`."""
    if sid:
        voice.queue_call_update(sid, url=url, about=about)


def cancel_agent_leg(sid, about=None):
    """Queue ending an agent's ringing leg (failing if it already ended: nothing to cancel)."""
    if sid:
        voice.queue_call_update(sid, status="canceled", about=about)
