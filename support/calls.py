"""The support line: answering, menu, hold, ringing agents, conference, voicemail, sweeps.

Requests to the provider (ringing a phone, redirecting or ending a call) are queued in
telephony's outbox in the caller's transaction (support/dialing.py); no webhook here
waits for Twilio's REST API. Status changes go through the models' `move()` doors.
"""

import logging
import math
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders import lookup, phone
from orders.hours import Opening
from orders.hours import opening as shop_opening
from telephony.models import ProviderRequest
from telephony.numbers import WITHHELD, caller_id
from telephony.outbox import callback_url
from telephony.reach import reason_not_to_call
from telephony.voice import withdraw_requests
from telephony.webhooks import twilio_media_url

from . import missed
from .agents import TURN, available_agents, on_shift
from .dialing import ENDED, cancel_agent_leg, dial_customer_back, redirect_call, ring_agent
from .models import (
    ACTIVE_OFFER_STATUSES,
    CALL_FINISHED,
    CALL_HOLDING,
    OFFER_RINGING,
    Agent,
    AgentOffer,
    CallEvent,
    SupportCall,
    Voicemail,
)

logger = logging.getLogger(__name__)

Status = SupportCall.Status
Kind = CallEvent.Kind
OfferStatus = AgentOffer.Status

# Twilio's StatusCallbackEvent values for the conference events twiml.py subscribes to.
CONFERENCE_EVENTS = {
    "conference-start": Kind.CONFERENCE_START,
    "conference-end": Kind.CONFERENCE_END,
    "participant-join": Kind.PARTICIPANT_JOIN,
    "participant-leave": Kind.PARTICIPANT_LEAVE,
}

NOT_ANSWERED = {
    "no-answer": OfferStatus.NO_ANSWER,
    "busy": OfferStatus.BUSY,
    "failed": OfferStatus.FAILED,
    "canceled": OfferStatus.CANCELED,
}


def conference_name_for(call_sid):
    """The conference a call is bridged in: from the CallSid, never a number or a name."""
    return f"support-{call_sid}"


def call_for_update(call_id):
    return SupportCall.objects.select_for_update().filter(pk=call_id).first()


def offer_for_update(offer_id):
    """Lock an offer (after its call, when both are locked: calls first, then offers)."""
    return AgentOffer.objects.select_for_update().filter(pk=offer_id).first()


@dataclass(frozen=True)
class Greeting:
    call: SupportCall
    opening: Opening
    orders: list
    hints: str = ""  # what the speech recognizer should expect (orders.phone.hints)
    usual: str = ""  # a returning caller's last order, as said (orders.lookup.usual_words)


def answer_call(params):
    """A call came in: log it (idempotent on CallSid) and find the caller's active orders."""
    call_sid = (params.get("CallSid") or "").strip()[:64]
    if not call_sid:
        raise ValueError("CallSid missing")
    raw_from = (params.get("From") or "").strip()
    number = caller_id(raw_from)  # WITHHELD for a hidden number: no orders, no call-back
    orders = lookup.active_orders_for_number(number) if number not in (None, WITHHELD) else []
    with transaction.atomic():
        call, created = SupportCall.objects.get_or_create(
            call_sid=call_sid,
            defaults={
                "caller_number": (number or raw_from or "anonymous")[:32],
                "conference_name": conference_name_for(call_sid),
                "order_number": orders[0].number[:20] if orders else "",
                "order_id": orders[0].id if orders else None,
                "customer_id": orders[0].customer_id if orders else None,
            },
        )
        if created:
            call.record(Kind.CALLED, order=call.order_number)
    usual = lookup.usual_words(number) if number not in (None, WITHHELD) else ""
    return Greeting(call, shop_opening(), orders, phone.hints(), usual)


def call_by_sid(call_sid):
    return SupportCall.objects.filter(call_sid=(call_sid or "")[:64]).first()


def order_statuses(call):
    """The caller's active orders (by caller ID), newest first."""
    if not call.caller_number.startswith("+"):
        return []
    return lookup.active_orders_for_number(call.caller_number)


def note_menu_choice(call, choice):
    call.record(Kind.MENU, choice=choice)


# What a caller says to ask for a person rather than order, in either language.
ASKS_FOR_A_PERSON = re.compile(
    r"\b(a )?(person|human|agent|operator|representative|someone|somebody|advisor|"
    r"persona|agente|alguien|operador|asesor)\b",
    re.IGNORECASE,
)


def hear(call, speech, digits="", confidence=None):
    """A spoken turn of the caller's order (orders.phone). Returns the Turn, or None when the
    caller should be handed to a person: they asked for one, or we did not understand them
    (or heard nothing) twice in a row. Each turn is kept in the call's history (`said`)."""
    speech = " ".join((speech or "").split())[:500]
    heard = speech and (confidence is None or confidence >= settings.SUPPORT_SPEECH_MIN_CONFIDENCE)
    if heard and ASKS_FOR_A_PERSON.search(speech) and not phone.sounds_like_an_order(speech):
        call.record(Kind.SAID, said=speech, understood=True, wants="a person")
        return None
    if not call.caller_number.startswith("+"):
        call.record(Kind.SAID, said=speech, understood=False, wants="a number to order with")
        return None  # a withheld number cannot order: orders are kept by the caller's number
    if not heard and not digits:
        turn = phone.Turn("", "not_understood")
    else:
        turn = phone.spoken_turn(call.caller_number, speech if heard else "", digits=digits)
    call.record(Kind.SAID, said=speech, digits=digits, understood=turn.outcome != "not_understood")
    if turn.outcome == "not_understood" and _misunderstood_twice(call):
        return None
    if turn.outcome == "placed":
        call.order, call.order_number = turn.order, str(turn.order.number)
        call.save(update_fields=["order", "order_number"])
        note_menu_choice(call, "ordered by voice")  # not a missed call (support/missed.py)
    return turn


def what_they_said(call, most=2):
    """What the caller said to the ordering line, their last `most` turns, oldest first,
    for the agent who answers (support/twiml.py agent_screen); for a call-back, on the
    call they asked it from."""
    said = CallEvent.objects.filter(call_id=call.callback_of_id or call.pk, kind=Kind.SAID)
    said = said.exclude(detail__said="").order_by("-pk")[:most]
    return [event.detail["said"] for event in reversed(list(said))]


def _misunderstood_twice(call):
    said = call.events.filter(kind=Kind.SAID).order_by("-pk")[:2]
    return [e.detail.get("understood") for e in said] == [False, False]


@dataclass(frozen=True)
class AdvisorRoute:
    """Where a caller asking for an advisor goes: "hold" (conference) or "voicemail"."""

    call: SupportCall
    route: str
    reason: str = ""


def request_advisor(call_id):
    """The caller asked for an advisor: hold and ring agents, or voicemail if there is nobody.

    The caller waits in line while every agent on shift is busy (`hunt`); the first agent
    is rung after commit, so the caller's TwiML is not held up by anything but the
    database (and the ringing itself is a queued request).
    """
    with transaction.atomic():
        call = call_for_update(call_id)
        if call is None:
            raise SupportCall.DoesNotExist(call_id)
        if call.status in CALL_HOLDING:
            return AdvisorRoute(call, "hold")  # a repeated request: still on hold
        if call.status != Status.IN_MENU:
            return AdvisorRoute(call, "voicemail" if call.status == Status.VOICEMAIL else "end")
        if not shop_opening().is_open:
            call.move(Status.VOICEMAIL, Kind.VOICEMAIL, reason="closed")
            return AdvisorRoute(call, "voicemail", "closed")
        if not on_shift().exists():
            call.move(Status.VOICEMAIL, Kind.VOICEMAIL, reason="no agent on shift")
            return AdvisorRoute(call, "voicemail", "no agent")
        call.move(Status.WAITING, Kind.WAITING)
        transaction.on_commit(hunt)
        return AdvisorRoute(call, "hold")


def take_voicemail(call_id, reason):
    """The caller reached the voicemail prompt: make sure the call says so. None if unknown."""
    with transaction.atomic():
        call = call_for_update(call_id)
        if call is not None and call.status in (Status.IN_MENU, *CALL_HOLDING):
            call.move(Status.VOICEMAIL, Kind.VOICEMAIL, reason=reason)
            _cancel_ringing_offer(call)
        return call


def waited_too_long(call, now=None):
    """A caller on the line held SUPPORT_MAX_WAIT_SECONDS (a call-back waits for its turn)."""
    if call.direction != SupportCall.Direction.INBOUND:
        return False
    since = call.waiting_since or call.started_at
    limit = timedelta(seconds=settings.SUPPORT_MAX_WAIT_SECONDS)
    return bool(since) and (now or timezone.now()) - since >= limit


def check_hold(call_id):
    """Twilio asks for hold music again: move a caller who waited too long to voicemail."""
    with transaction.atomic():
        call = call_for_update(call_id)
        if call is None:
            return None
        if call.status in CALL_HOLDING and waited_too_long(call):
            _send_to_voicemail(call, "waited too long")
        return call


def call_me_back(call_id):
    """A caller on hold asked to be called back (star, then 1): their call ends as
    `call_back`, and a call-back takes its place in line (waiting since they began to
    hold), offered by `hunt` to the next free agent before anyone who called later. The
    agent who takes it is put in a conference and the customer is rung into it
    (connect_agent). Returns what the caller hears: "called back", "connected" (an
    agent took the call meanwhile), "holding" (a number we cannot call back) or "gone"."""
    with transaction.atomic():
        call = call_for_update(call_id)
        if call is not None and call.status == Status.CONNECTED:
            return "connected"
        if call is None or call.status not in CALL_HOLDING:
            return "gone"
        if not may_call_back(call):
            return "holding"
        back = SupportCall.objects.create(
            direction=SupportCall.Direction.CALLBACK,
            caller_number=call.caller_number,
            order_number=call.order_number,
            order_id=call.order_id,
            customer_id=call.customer_id,
            status=Status.WAITING,
            waiting_since=call.waiting_since or call.started_at,
            callback_of=call,
        )
        back.record(Kind.CALLBACK_FROM_HOLD, held_call=call.pk)
        call.move(Status.CALL_BACK, Kind.CALLBACK_FROM_HOLD, call_back=back.pk)
        _cancel_ringing_offer(call)  # the call-back is offered afresh, in its place
        transaction.on_commit(hunt)
        return "called back"


def may_call_back(call):
    """Whether a caller on hold is offered a call-back: an inbound call from a number we
    may call (telephony.reach's rule: not withheld, premium or abroad)."""
    return (
        call.direction == SupportCall.Direction.INBOUND
        and call.caller_number.startswith("+")
        and not reason_not_to_call(call.caller_number)
    )


@dataclass(frozen=True)
class PlaceInLine:
    place: int  # 1: next to be answered
    minutes: int  # the likely wait, at least 1


def place_in_line(call, now=None):
    """Where a caller on hold is in line, and the likely wait: their place times the average
    length of the last 20 answered calls (SUPPORT_TALK_MINUTES until there are any), shared
    by the agents on shift. An estimate, said as "about"; three queries."""
    since = call.waiting_since or call.started_at or (now or timezone.now())
    ahead = SupportCall.objects.filter(status__in=CALL_HOLDING).filter(
        Q(waiting_since__lt=since) | Q(waiting_since=since, pk__lt=call.pk)
    )
    place = ahead.count() + 1
    talked = [
        (ended - answered).total_seconds()
        for answered, ended in SupportCall.objects.filter(
            answered_at__isnull=False, ended_at__isnull=False
        )
        .order_by("-ended_at")
        .values_list("answered_at", "ended_at")[:20]
    ]
    talk = sum(talked) / len(talked) / 60 if talked else settings.SUPPORT_TALK_MINUTES
    agents = max(1, on_shift().count())
    return PlaceInLine(place, max(1, math.ceil(place * talk / agents)))


def hunt(limit=100):
    """Offer the calls waiting in line to the agents free to take them: the longest waiting
    first (a call-back keeps the place its caller had on hold), each to the free agent
    first in turn (agents.next_agent_for's order) who has not let it ring already.
    Returns the offers made.

    Run after commit whenever a caller starts waiting, an agent is freed or comes on
    shift, and by the minute sweep. A call every agent on shift has let ring goes to
    voicemail (a call-back: to the call-back list); one whose agents are all busy keeps
    waiting, told its place (place_in_line), up to SUPPORT_MAX_WAIT_SECONDS. Hunts take
    turns: each first locks the agents on shift, so no agent is offered two calls.
    """
    made = []
    with transaction.atomic():
        shift = set(on_shift().select_for_update().order_by("pk").values_list("pk", flat=True))
        waiting = SupportCall.objects.filter(status=Status.WAITING).order_by("waiting_since", "pk")
        waiting = list(waiting.values_list("pk", flat=True)[:limit])
        free = list(available_agents().order_by(*TURN)) if waiting else []
        for call_id in waiting:
            if shift and not free:
                break  # the rest wait their turn (the hold checks their wait)
            call = call_for_update(call_id)
            if call is None or call.status != Status.WAITING:
                continue
            if waited_too_long(call):
                _send_to_voicemail(call, "waited too long")
                continue
            if call.offers.filter(status__in=ACTIVE_OFFER_STATUSES).exists():
                continue  # being rung already (a repeated hunt)
            rang = set(
                call.offers.exclude(status=OfferStatus.CANCELED).values_list("agent", flat=True)
            )
            agent = next((agent for agent in free if agent.pk not in rang), None)
            if agent is None:
                if not shift - rang:  # nobody on shift, or everyone let it ring
                    _nobody_to_answer(call, "no agent answered" if shift else "no agent on shift")
                continue
            free.remove(agent)
            made.append(_offer(call, agent))
    return made


def _offer(call, agent):
    """Ring `agent` for `call` (both locked)."""
    offer = AgentOffer.objects.create(call=call, agent=agent)
    Agent.objects.filter(pk=agent.pk).update(last_offered_at=timezone.now())
    call.current_offer = offer
    call.save(update_fields=["current_offer"])
    call.move(Status.RINGING_AGENT, Kind.OFFERED, agent=agent, offer=offer.pk)
    ring_agent(offer)
    return offer


def _nobody_to_answer(call, reason):
    """A waiting call nobody on shift will take: the caller leaves a voicemail; a call-back
    goes on the call-back list (a Voicemail without a recording) for staff."""
    if call.direction == SupportCall.Direction.INBOUND:
        _send_to_voicemail(call, reason)
        return
    call.move(Status.VOICEMAIL, Kind.VOICEMAIL, reason=reason)
    Voicemail.objects.get_or_create(
        call=call, defaults={"transcript": "Asked to be called back while on hold."}
    )


def agent_rung(offer, request):
    """The outbox placed (or could not place) the call to an agent's phone."""
    if request.status == ProviderRequest.Status.FAILED:
        logger.error(
            "Could not ring agent %s for call %s: %s",
            offer.agent_id, offer.call_id, request.error_message,
        )  # fmt: skip
        record_agent_outcome(offer.pk, "failed", error=request.error_message[:200])
        return
    offer = offer_for_update(offer.pk)  # only the offer changes: its call is not locked
    AgentOffer.objects.filter(pk=offer.pk, sid__isnull=True).update(sid=request.sid)
    if offer.status == OfferStatus.PLACING:
        offer.move(OfferStatus.RINGING, Kind.AGENT_RINGING, sid=request.sid)
    # The caller may have hung up (or the sweep given up) while the request waited.
    if offer.status not in (OfferStatus.RINGING, OfferStatus.ANSWERED):
        cancel_agent_leg(request.sid, about=offer)


def record_agent_outcome(offer_id, call_status, error=""):
    """An agent's leg reported a status. Only the first report of an ending moves anything."""
    call_status = (call_status or "").lower()
    if call_status not in ENDED:
        return "ignored"
    with transaction.atomic():
        call_id = AgentOffer.objects.filter(pk=offer_id).values_list("call_id", flat=True).first()
        if call_id is None:
            return "unknown"
        call = call_for_update(call_id)
        offer = offer_for_update(offer_id)
        if call_status == "completed" and offer.status == OfferStatus.ANSWERED:
            offer.move(OfferStatus.COMPLETED, Kind.AGENT_HUNG_UP)
            transaction.on_commit(hunt)  # free for the next caller in line
            return "updated"
        # "completed" before answering: Twilio gave up before our answer webhook ran.
        outcome = NOT_ANSWERED.get(call_status, OfferStatus.NO_ANSWER)
        if not offer.may_move_to(outcome):
            return "ignored"  # a repeat, or older than what we know
        offer.move(outcome, Kind.AGENT_DID_NOT_ANSWER, outcome=outcome, error=error)
        if call.status in CALL_HOLDING and call.current_offer_id == offer.pk:
            if call.callback_for_id:  # staff's call-back from a voicemail rings only them
                call.move(Status.ABANDONED, Kind.CALLBACK_NOT_ANSWERED, agent=offer.agent)
            elif call.status == Status.RINGING_AGENT:
                call.move(Status.WAITING, Kind.WAITING, after="agent did not answer")
        transaction.on_commit(hunt)  # the call waits again, and the agent may be free
        return "updated"


@dataclass(frozen=True)
class AgentAnswer:
    connected: bool
    call: SupportCall | None = None


def offer_waiting(offer_id, agent_call_sid=""):
    """The call an agent's picked-up phone is about, if its caller still waits for them.

    Nothing changes but the offer learning its leg's SID: the agent takes the call
    by pressing 1 (`connect_agent`)."""
    offer = AgentOffer.objects.select_related("call").filter(pk=offer_id).first()
    if offer is None:
        return None
    if agent_call_sid and not offer.sid:
        AgentOffer.objects.filter(pk=offer.pk, sid__isnull=True).update(sid=agent_call_sid[:64])
    call = offer.call
    if offer.status not in OFFER_RINGING or call.current_offer_id != offer.pk:
        return None
    if call.status not in CALL_HOLDING:
        return None
    return call


def connect_agent(offer_id, agent_call_sid=""):
    """The agent picked up: bridge them, unless the caller is no longer waiting for them."""
    with transaction.atomic():
        call_id = AgentOffer.objects.filter(pk=offer_id).values_list("call_id", flat=True).first()
        if call_id is None:
            return AgentAnswer(False)
        call = call_for_update(call_id)
        offer = AgentOffer.objects.select_for_update().select_related("agent").get(pk=offer_id)
        if agent_call_sid and not offer.sid:
            offer.sid = agent_call_sid[:64]
            offer.save(update_fields=["sid"])
        waiting = call.current_offer_id == offer.pk and call.status in CALL_HOLDING
        if not offer.may_move_to(OfferStatus.ANSWERED):
            call.record(Kind.AGENT_ANSWERED_TOO_LATE, agent=offer.agent, offer=offer.pk)
            return AgentAnswer(False, call)
        if not waiting:  # the caller moved on while this phone rang: free the agent again
            offer.move(OfferStatus.CANCELED, Kind.AGENT_ANSWERED_TOO_LATE)
            transaction.on_commit(hunt)
            return AgentAnswer(False, call)
        offer.move(OfferStatus.ANSWERED, Kind.AGENT_ANSWERED)
        call.agent = offer.agent
        call.save(update_fields=["agent"])
        call.move(Status.CONNECTED, Kind.CONNECTED, agent=offer.agent)
        if call.direction == SupportCall.Direction.CALLBACK:
            if not call.conference_name:
                call.conference_name = conference_name_for(agent_call_sid or offer.sid)
                call.save(update_fields=["conference_name"])
            dial_customer_back(call)
        return AgentAnswer(True, call)


def _send_to_voicemail(call, reason):
    """Move a caller on hold to voicemail: cancel the agent still ringing, redirect the call."""
    call.move(Status.VOICEMAIL, Kind.VOICEMAIL, reason=reason)
    _cancel_ringing_offer(call)
    redirect_call(call.call_sid, callback_url("support:voicemail", call.pk), about=call)


def _cancel_ringing_offer(call):
    ringing = AgentOffer.objects.select_for_update().filter(call=call, status__in=OFFER_RINGING)
    for offer in ringing:
        offer.move(OfferStatus.CANCELED, Kind.AGENT_CALL_CANCELED)
        withdraw_requests(offer)  # not rung yet: never will be
        cancel_agent_leg(offer.sid, about=offer)
        transaction.on_commit(hunt)  # the agent is free for the next caller


def record_caller_status(call_sid, call_status):
    """The caller's leg reported a status: hung up while waiting is `abandoned`."""
    call_status = (call_status or "").lower()
    if call_status not in ENDED:
        return "ignored"
    with transaction.atomic():
        call = SupportCall.objects.select_for_update().filter(call_sid=call_sid[:64]).first()
        if call is None:
            logger.info("Status callback for unknown call %s acknowledged", call_sid)
            return "unknown"
        return end_call(call, call_status)


def sweep_stale_calls(now=None):
    """End calls and agent offers whose final status callback never came. Returns how many.

    Twilio does not retry a status callback that failed (our server was down, a
    network blip), and an offer left ringing or answered keeps its agent "busy"
    for ever: never rung again. Run by `manage.py telephony_worker` every minute
    (settings.TELEPHONY_SWEEPS). Time limits, generous so no live call is touched:
    an agent's ring (and the press-1 prompt) is over SUPPORT_RING_TIMEOUT + 2 minutes
    after it began, a caller on hold is sent to voicemail after
    SUPPORT_MAX_WAIT_SECONDS (so one still holding 10 minutes later is gone), and no
    call to a pizzeria lasts SUPPORT_STALE_CALL_HOURS. Each is ended through the same
    code a late callback would take, so a ringing offer's caller moves on to the
    next agent or voicemail. Call-backs asked for from the hold wait for their turn
    (`hunt`), however long.
    """
    now = now or timezone.now()
    longest = now - timedelta(hours=settings.SUPPORT_STALE_CALL_HOURS)
    ringing = AgentOffer.objects.filter(
        status__in=OFFER_RINGING,
        updated_at__lt=now - timedelta(seconds=settings.SUPPORT_RING_TIMEOUT + 120),
    )
    talking = AgentOffer.objects.filter(status=OfferStatus.ANSWERED, updated_at__lt=longest)
    swept = 0
    for offer_id in list(ringing.values_list("pk", flat=True)[:500]):
        swept += record_agent_outcome(offer_id, "no-answer", error="no final status") == "updated"
    for offer_id in list(talking.values_list("pk", flat=True)[:500]):
        swept += record_agent_outcome(offer_id, "completed") == "updated"
    gone_from_hold = now - timedelta(seconds=settings.SUPPORT_MAX_WAIT_SECONDS + 600)
    calls = SupportCall.objects.filter(
        Q(
            status__in=CALL_HOLDING,
            waiting_since__lt=gone_from_hold,
            direction=SupportCall.Direction.INBOUND,
        )
        | Q(status__in=[Status.IN_MENU, Status.VOICEMAIL], started_at__lt=longest)
        | Q(status=Status.CONNECTED, answered_at__lt=longest)
    )
    for call_id in list(calls.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            call = call_for_update(call_id)
            if call is not None:
                swept += end_call(call, "completed", why="no final status") == "updated"
    if swept:
        logger.warning("Ended %s call(s) or agent offer(s) Twilio never reported finished", swept)
    hunt()  # in case a hunt after commit was lost (a process killed between the two)
    return swept


def end_call(call, call_status, **detail):
    if call.status in CALL_FINISHED:
        return "ignored"
    if call.status in (Status.IN_MENU, *CALL_HOLDING):
        call.move(Status.ABANDONED, Kind.ABANDONED, twilio_status=call_status, **detail)
        _cancel_ringing_offer(call)
        missed.mark_if_missed(call)
        return "updated"
    callback = call.direction == SupportCall.Direction.CALLBACK
    if callback and call.status == Status.CONNECTED and call_status != "completed":
        # The customer did not pick up our call-back: tell the agent waiting in the conference.
        call.move(Status.COMPLETED, Kind.CUSTOMER_DID_NOT_ANSWER, twilio_status=call_status)
        offer = call.current_offer
        if offer and offer.sid:
            redirect_call(offer.sid, callback_url("support:callback-unanswered", call.pk), offer)
        return "updated"
    if call.status in (Status.CONNECTED, Status.VOICEMAIL):
        call.move(Status.COMPLETED, Kind.HUNG_UP, twilio_status=call_status, **detail)
        missed.mark_if_missed(call)
        return "updated"
    return "ignored"


def record_conference_event(call_id, params):
    """Conference status callback: keep the history, and notice a caller leaving the hold."""
    event = (params.get("StatusCallbackEvent") or "")[:40]
    with transaction.atomic():
        call = call_for_update(call_id)
        if call is None:
            return "unknown"
        conference_sid = (params.get("ConferenceSid") or "")[:64]
        if conference_sid and not call.conference_sid:
            call.conference_sid = conference_sid
            call.save(update_fields=["conference_sid"])
        leg = (params.get("CallSid") or "")[:64]
        call.record(CONFERENCE_EVENTS.get(event, Kind.CONFERENCE_OTHER), leg=leg, event=event)
        if event == "conference-end" and call.status == Status.CONNECTED:
            call.move(Status.COMPLETED, Kind.CONFERENCE_ENDED)
        return "updated"


def recording_url(params):
    """RecordingUrl when it is on Twilio's hosts (telephony.webhooks.twilio_media_url)."""
    url = twilio_media_url(params.get("RecordingUrl"))
    if params.get("RecordingUrl") and not url:
        logger.warning("Ignored a RecordingUrl not on Twilio's hosts for %s", params.get("CallSid"))
    return url


def save_recording(call_id, params, voicemail):
    """A recording is ready: the voicemail (on the call-back list) or the conversation."""
    status = (params.get("RecordingStatus") or "completed").lower()
    url = recording_url(params)
    if status != "completed" or not url:
        return None
    try:
        duration = int(params.get("RecordingDuration") or 0)
    except ValueError:
        duration = 0
    # Twilio records at most a few hours; anything else is not a duration (and a huge
    # number would not fit the column): unknown.
    duration = duration if 0 < duration <= 86_400 else None
    with transaction.atomic():
        call = call_for_update(call_id)
        if call is None:
            return None
        if not voicemail:
            call.recording_url = url
            call.save(update_fields=["recording_url"])
            call.record(Kind.RECORDED, url=url)
            return call
        item, created = Voicemail.objects.get_or_create(call=call)
        item.recording_sid = (params.get("RecordingSid") or "")[:64]
        item.recording_url = url
        item.duration = duration
        item.save(update_fields=["recording_sid", "recording_url", "duration"])
        if created:
            call.record(Kind.VOICEMAIL_LEFT, url=url, duration=duration)
        return item


def save_transcript(call_id, params):
    text = (params.get("TranscriptionText") or "")[:5000]
    if (params.get("TranscriptionStatus") or "completed") != "completed" or not text:
        return None
    with transaction.atomic():
        call = call_for_update(call_id)
        if call is None:
            return None
        item, _ = Voicemail.objects.get_or_create(call=call)
        item.transcript = text
        item.save(update_fields=["transcript"])
        return item
