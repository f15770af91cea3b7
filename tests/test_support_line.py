"""The support line end to end: signed webhooks in, TwiML and provider requests out."""

import io
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import xmlschema
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from support import agents, board, calls
from support.models import AgentOffer, CallEvent, SupportCall, Voicemail
from tests.conftest import CONTRACTS
from tests.factories import AgentFactory, OrderFactory

XSD = CONTRACTS / "twiml-xsd" / "twiml_v20100401_twilioRealtimeCallSchema.xsd"
CALLER = "+14155550123"
CALLER_SID = "CA" + "c" * 32
Status = SupportCall.Status


@pytest.fixture(scope="session")
def twiml_schema():
    return xmlschema.XMLSchema10(str(XSD))


class Line:
    """Twilio's side of the support line: signed webhooks, after-commit work run at once."""

    def __init__(self, twilio, capture, schema, outbox):
        self.twilio, self.capture, self.schema, self.outbox = twilio, capture, schema, outbox

    def post(self, path, **params):
        if path.startswith(settings.PUBLIC_BASE_URL):
            path = path[len(settings.PUBLIC_BASE_URL) :]
        params.setdefault("AccountSid", settings.TWILIO_ACCOUNT_SID)
        with self.capture(execute=True):
            response = self.twilio.post(path, params)
        assert response.status_code in (200, 204), response.content
        if response.status_code == 200:
            assert response["Content-Type"].startswith("text/xml")
            document = response.content.decode()
            self.schema.validate(document)  # every TwiML document we return is valid
            response.xml = ET.fromstring(document)
        return response

    def call_in(self, sid=CALLER_SID, caller=CALLER):
        return self.post(
            reverse("support:voice"),
            CallSid=sid, From=caller, To=settings.TWILIO_PHONE_NUMBER, CallStatus="ringing",
            Direction="inbound",
        )  # fmt: skip

    def press(self, digits, sid=CALLER_SID):
        params = {"CallSid": sid, "From": CALLER, "CallStatus": "in-progress"}
        if digits is not None:
            params["Digits"] = digits
        return self.post(reverse("support:menu"), **params)

    def ask_for_advisor(self, sid=CALLER_SID):
        self.call_in(sid)
        return self.press("2", sid)

    def agent_picks_up(self, offer):
        """Twilio fetches the offer's URL: who is calling, press 1 to take it."""
        offer.refresh_from_db()
        return self.post(
            reverse("support:agent-answer", args=[offer.pk]),
            CallSid=offer.sid, CallStatus="in-progress", To=offer.agent.phone,
        )  # fmt: skip

    def agent_presses(self, offer, digits):
        offer.refresh_from_db()
        params = {"CallSid": offer.sid, "CallStatus": "in-progress", "To": offer.agent.phone}
        if digits is not None:
            params["Digits"] = digits
        return self.post(reverse("support:agent-accept", args=[offer.pk]), **params)

    def agent_answers(self, offer):
        """The agent picks up and, hearing who it is, presses 1. The response to the key,
        or to the pick-up when that already said no; `.screen` is what they heard first."""
        screen = self.agent_picks_up(offer)
        if screen.xml.find("Gather") is None:
            return screen
        response = self.agent_presses(offer, "1")
        response.screen = screen
        return response

    def agent_leg(self, offer, status):
        offer.refresh_from_db()
        return self.post(
            reverse("support:agent-status", args=[offer.pk]), CallSid=offer.sid, CallStatus=status
        )

    def caller_leg(self, status, sid=CALLER_SID):
        return self.post(reverse("support:call-status"), CallSid=sid, CallStatus=status)

    def calls_placed(self):
        return [r for r in self.outbox if r.kind == "call"]

    def updates(self):
        return [r for r in self.outbox if r.kind == "update_call"]


@pytest.fixture
def line(twilio, django_capture_on_commit_callbacks, twiml_schema, outbox, db):
    return Line(twilio, django_capture_on_commit_callbacks, twiml_schema, outbox)


def verbs(xml):
    return [child.tag for child in xml]


def spoken(xml):
    return " ".join(el.text or "" for el in xml.iter("Say"))


def the_call():
    return SupportCall.objects.get(call_sid=CALLER_SID)


def offers():
    return list(AgentOffer.objects.select_related("agent").order_by("pk"))


def history():
    return list(the_call().events.values_list("kind", flat=True))


# --- greeting and menu ----------------------------------------------------------------


def test_greeting_names_the_shop_and_offers_ordering_status_and_a_person(line):
    response = line.call_in()

    assert f"Thank you for calling {settings.SHOP_NAME}" in spoken(response.xml)
    gather = response.xml.find("Gather")
    assert (gather.get("input"), gather.get("numDigits")) == ("speech dtmf", "1")
    assert (gather.get("speechTimeout"), gather.get("actionOnEmptyResult")) == ("auto", "true")
    assert gather.get("language") == "en-US"
    assert gather.get("action").endswith(reverse("support:menu"))
    heard = spoken(gather)
    assert heard.startswith("Tell me what you'd like, for example two large pepperoni")
    assert "press 1" in heard and "press 0 or say: a person" in heard
    assert "Para español, oprima 9." in heard
    assert verbs(response.xml)[-1] == "Redirect"
    call = the_call()
    assert call.status == Status.IN_MENU
    assert call.caller_number == CALLER
    assert CALLER not in call.conference_name and CALLER_SID in call.conference_name


def test_a_repeated_incoming_call_webhook_logs_one_call(line):
    line.call_in()
    line.call_in()
    assert SupportCall.objects.count() == 1


def test_caller_with_an_active_order_hears_it_first_and_its_status_on_1(line, settings):
    settings.SHOP_TIME_ZONE = "UTC"
    promised = timezone.now().replace(hour=19, minute=45, second=0, microsecond=0)
    order = OrderFactory(customer__phone=CALLER, status="baking", promised_at=promised)
    OrderFactory(customer__phone="+14155550999")  # someone else's

    greeting = line.call_in()
    status = line.press("1")

    assert f"Calling about order {order.number}?" in spoken(greeting.xml)
    assert f"Order {order.number} is in the oven." in spoken(status.xml)
    assert "7:45 PM" in spoken(status.xml)
    assert "advisor, press 2" in spoken(status.xml.find("Gather"))
    call = the_call()
    assert (call.order, call.customer, call.order_number) == (
        order, order.customer, str(order.number),
    )  # fmt: skip


def test_order_status_for_a_caller_without_orders_says_so(line):
    line.call_in()
    response = line.press("1")
    assert "no order in progress" in spoken(response.xml)


def test_an_unknown_key_repeats_the_menu(line):
    line.call_in()
    response = line.press("7")
    assert "not one of the options" in spoken(response.xml)
    assert response.xml.find("Redirect").text.endswith(reverse("support:voice"))


# --- no agent on shift -------------------------------------------------------------------


def test_with_no_agent_on_shift_the_caller_goes_straight_to_voicemail(line):
    AgentFactory(on_shift=False)

    response = line.ask_for_advisor()

    record = response.xml.find("Record")
    assert record is not None
    assert record.get("maxLength") == str(settings.SUPPORT_VOICEMAIL_MAX_SECONDS)
    assert record.get("playBeep") == "true"
    # The action is not the URL that plays the prompt (Twilio's record loop).
    assert record.get("action").endswith(reverse("support:voicemail-done", args=[the_call().pk]))
    assert record.get("recordingStatusCallback")
    assert the_call().status == Status.VOICEMAIL
    assert line.calls_placed() == []


def test_silence_is_asked_once_more_then_goes_to_a_person(line):
    line.call_in()
    again = line.press(None)
    assert "Sorry, I didn't hear anything" in spoken(again.xml)
    assert (
        again.xml.find("Gather")
        .get("action")
        .endswith(reverse("support:order", args=[the_call().pk]))
    )
    response = line.post(
        reverse("support:order", args=[the_call().pk]), CallSid=CALLER_SID, From=CALLER
    )
    assert response.xml.find("Record") is not None  # nobody on shift: voicemail


def test_a_voicemail_lands_on_the_call_back_list(line):
    line.ask_for_advisor()
    call = the_call()
    recording = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"

    done = line.post(
        reverse("support:voicemail-done", args=[call.pk]),
        CallSid=CALLER_SID, RecordingUrl=recording, RecordingDuration="14", Digits="hangup",
    )  # fmt: skip
    line.post(
        reverse("support:voicemail-recording", args=[call.pk]),
        CallSid=CALLER_SID, RecordingSid="RE" + "1" * 32, RecordingUrl=recording,
        RecordingStatus="completed", RecordingDuration="14",
    )  # fmt: skip
    line.caller_leg("completed")

    assert verbs(done.xml) == ["Say", "Hangup"]
    voicemail = Voicemail.objects.get()
    assert (voicemail.call, voicemail.recording_url, voicemail.duration) == (call, recording, 14)
    assert voicemail.done_at is None
    assert list(board.voicemails_waiting()) == [voicemail]
    assert the_call().status == Status.COMPLETED


# 2**63 once reached SQLite as an integer too big for it: a 500 (found by hypothesis).
@pytest.mark.parametrize("duration", ["-1", "abc", "9223372036854775808", "86401"])
def test_a_voicemail_with_a_nonsense_duration_is_kept_without_one(line, duration):
    line.ask_for_advisor()
    call = the_call()
    recording = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"

    done = line.post(
        reverse("support:voicemail-done", args=[call.pk]),
        CallSid=CALLER_SID, RecordingUrl=recording, RecordingDuration=duration, Digits="hangup",
    )  # fmt: skip

    assert done.status_code == 200
    voicemail = Voicemail.objects.get()
    assert (voicemail.recording_url, voicemail.duration) == (recording, None)


# --- agents on shift ----------------------------------------------------------------------


def test_asking_for_an_advisor_holds_the_caller_in_their_conference_and_rings_an_agent(line):
    agent = AgentFactory()

    response = line.ask_for_advisor()

    assert "Please hold while we connect you" in spoken(response.xml)
    conference = response.xml.find("Dial/Conference")
    call = the_call()
    assert conference.text == call.conference_name
    assert conference.get("startConferenceOnEnter") == "false"
    assert conference.get("endConferenceOnExit") == "true"
    assert conference.get("waitUrl").endswith(reverse("support:hold", args=[call.pk]))
    assert conference.get("statusCallback").endswith(
        reverse("support:conference-status", args=[call.pk])
    )
    [ring] = line.calls_placed()
    assert ring.to == agent.phone
    assert ring.from_ == settings.TWILIO_PHONE_NUMBER
    assert ring.timeout == settings.SUPPORT_RING_TIMEOUT
    [offer] = offers()
    assert ring.url == settings.PUBLIC_BASE_URL + reverse("support:agent-answer", args=[offer.pk])
    assert ring.status_callback.endswith(reverse("support:agent-status", args=[offer.pk]))
    assert call.status == Status.RINGING_AGENT


def test_the_agent_who_picks_up_hears_who_is_calling_and_is_asked_to_press_1(line):
    order = OrderFactory(customer__phone=CALLER)
    AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()

    screen = line.agent_picks_up(offer)

    gather = screen.xml.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action").endswith(reverse("support:agent-accept", args=[offer.pk]))
    prompt = f"Customer on the line about order {order.number}. Press 1 to take the call."
    assert prompt in spoken(gather)
    assert verbs(screen.xml)[-1] == "Hangup"  # nothing pressed: the leg ends
    assert the_call().status == Status.RINGING_AGENT  # not connected yet


def test_an_agents_voicemail_that_picks_up_is_never_bridged_and_the_next_agent_rings(line):
    first = AgentFactory(priority=1)
    second = AgentFactory(priority=2)
    line.ask_for_advisor()
    [offer] = offers()
    line.agent_picks_up(offer)  # the voicemail greeting plays; no key is pressed

    line.agent_leg(offer, "completed")  # the Gather ran out and the leg hung up

    call = the_call()
    assert call.status == Status.RINGING_AGENT
    assert call.agent is None
    offer.refresh_from_db()
    assert offer.status == AgentOffer.Status.NO_ANSWER
    assert [ring.to for ring in line.calls_placed()] == [first.phone, second.phone]


def test_an_agent_pressing_another_key_is_hung_up_and_the_next_agent_rings(line):
    AgentFactory(priority=1)
    second = AgentFactory(priority=2)
    line.ask_for_advisor()
    [offer] = offers()
    line.agent_picks_up(offer)

    response = line.agent_presses(offer, "9")
    line.agent_leg(offer, "completed")

    assert verbs(response.xml) == ["Say", "Hangup"]
    assert the_call().status == Status.RINGING_AGENT
    assert line.calls_placed()[-1].to == second.phone


def test_with_press_1_switched_off_whoever_picks_up_is_connected(line, settings):
    settings.SUPPORT_AGENT_PRESS_1 = False
    agent = AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()

    response = line.agent_picks_up(offer)

    assert response.xml.find("Dial/Conference") is not None
    assert (the_call().status, the_call().agent) == (Status.CONNECTED, agent)


def test_first_agent_answers_hears_the_whisper_and_joins_the_conference(line):
    order = OrderFactory(customer__phone=CALLER)
    first = AgentFactory(priority=1)
    AgentFactory(priority=2)
    line.ask_for_advisor()
    [offer] = offers()
    assert offer.agent == first

    response = line.agent_answers(offer)

    assert f"about order {order.number}" in spoken(response.screen.xml)
    assert "Connecting you. Press star to leave." in spoken(response.xml)
    dial = response.xml.find("Dial")
    assert dial.get("hangupOnStar") == "true"
    conference = dial.find("Conference")
    assert conference.text == the_call().conference_name
    assert conference.get("startConferenceOnEnter") == "true"
    assert conference.get("endConferenceOnExit") == "true"
    call = the_call()
    assert (call.status, call.agent) == (Status.CONNECTED, first)
    assert call.answered_at is not None
    assert len(line.calls_placed()) == 1  # nobody else rung


def test_the_conversation_ending_completes_the_call_with_wait_and_talk_times(line):
    AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()
    line.agent_answers(offer)

    line.post(
        reverse("support:conference-status", args=[the_call().pk]),
        StatusCallbackEvent="conference-end", ConferenceSid="CF" + "1" * 32,
    )  # fmt: skip
    line.caller_leg("completed")
    line.agent_leg(offer, "completed")

    call = the_call()
    assert call.status == Status.COMPLETED
    assert call.wait_time is not None and call.talk_time is not None
    offer.refresh_from_db()
    assert offer.status == AgentOffer.Status.COMPLETED


def test_a_call_leaves_its_history_in_the_typed_kinds_reports_filter_on(line):
    AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()
    line.agent_answers(offer)
    conference = reverse("support:conference-status", args=[the_call().pk])
    for event in ("participant-join", "participant-mute", "conference-end"):
        line.post(conference, StatusCallbackEvent=event, ConferenceSid="CF" + "1" * 32)
    line.caller_leg("completed")
    line.agent_leg(offer, "completed")

    Kind = CallEvent.Kind
    assert history() == [
        Kind.CALLED, Kind.MENU, Kind.WAITING, Kind.OFFERED, Kind.AGENT_RINGING,
        Kind.AGENT_ANSWERED, Kind.CONNECTED, Kind.PARTICIPANT_JOIN, Kind.CONFERENCE_OTHER,
        Kind.CONFERENCE_END, Kind.CONFERENCE_ENDED, Kind.AGENT_HUNG_UP,
    ]  # fmt: skip
    other = the_call().events.get(kind=Kind.CONFERENCE_OTHER)
    assert other.detail["event"] == "participant-mute"


def test_when_the_first_agent_does_not_answer_the_second_is_rung_and_answers(line):
    first = AgentFactory(priority=1)
    second = AgentFactory(priority=2)
    line.ask_for_advisor()
    [offer1] = offers()

    line.agent_leg(offer1, "no-answer")
    _, offer2 = offers()
    response = line.agent_answers(offer2)

    assert [r.to for r in line.calls_placed()] == [first.phone, second.phone]
    assert response.xml.find("Dial/Conference") is not None
    assert the_call().agent == second
    assert the_call().status == Status.CONNECTED
    kinds = history()
    assert kinds.count("offered") == 2 and "agent did not answer" in kinds


def test_when_nobody_answers_the_caller_is_moved_to_voicemail(line):
    AgentFactory(priority=1)
    AgentFactory(priority=2)
    line.ask_for_advisor()
    offer1 = offers()[0]
    line.agent_leg(offer1, "busy")
    offer2 = offers()[1]

    line.agent_leg(offer2, "no-answer")

    call = the_call()
    assert call.status == Status.VOICEMAIL
    [redirect] = line.updates()
    assert redirect.sid == CALLER_SID
    assert redirect.url == settings.PUBLIC_BASE_URL + reverse("support:voicemail", args=[call.pk])
    assert len(line.calls_placed()) == 2
    # Twilio then fetches the voicemail prompt.
    prompt = line.post(redirect.url, CallSid=CALLER_SID)
    assert "none of our advisors can take your call" in spoken(prompt.xml)
    assert prompt.xml.find("Record") is not None


def test_a_caller_who_waited_too_long_goes_to_voicemail_instead_of_the_next_agent(line, settings):
    settings.SUPPORT_MAX_WAIT_SECONDS = 60
    AgentFactory(priority=1)
    AgentFactory(priority=2)
    line.ask_for_advisor()
    SupportCall.objects.filter(pk=the_call().pk).update(
        waiting_since=timezone.now() - timedelta(seconds=61)
    )

    line.agent_leg(offers()[0], "no-answer")

    assert the_call().status == Status.VOICEMAIL
    assert len(line.calls_placed()) == 1
    assert [u.sid for u in line.updates()] == [CALLER_SID]


def test_hold_music_checks_the_wait_and_cancels_the_ringing_agent(line, settings):
    settings.SUPPORT_MAX_WAIT_SECONDS = 60
    AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()
    call = the_call()

    first = line.post(reverse("support:hold", args=[call.pk]), CallSid=CALLER_SID)
    assert call.__class__.objects.get(pk=call.pk).status == Status.RINGING_AGENT
    SupportCall.objects.filter(pk=call.pk).update(
        waiting_since=timezone.now() - timedelta(seconds=61)
    )
    line.post(reverse("support:hold", args=[call.pk]), CallSid=CALLER_SID)

    assert "Thank you for holding" in spoken(first.xml)
    assert first.xml.find("Play").text == settings.SUPPORT_HOLD_MUSIC_URL
    assert the_call().status == Status.VOICEMAIL
    offer.refresh_from_db()
    assert offer.status == AgentOffer.Status.CANCELED
    assert {(u.sid, u.params.get("status")) for u in line.updates()} == {
        (offer.sid, "canceled"),
        (CALLER_SID, None),
    }


def test_caller_hanging_up_while_waiting_is_abandoned_and_the_ringing_agent_is_cancelled(line):
    AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()

    line.caller_leg("completed")

    call = the_call()
    assert call.status == Status.ABANDONED
    assert call.ended_at is not None
    offer.refresh_from_db()
    assert offer.status == AgentOffer.Status.CANCELED
    [cancel] = line.updates()
    assert (cancel.sid, cancel.status) == (offer.sid, "canceled")


def test_an_agent_answering_after_the_caller_left_is_told_and_hung_up(line):
    agent = AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()
    line.caller_leg("completed")

    response = line.agent_answers(offer)

    assert "no longer waiting" in spoken(response.xml)
    assert verbs(response.xml)[-1] == "Hangup"
    assert the_call().status == Status.ABANDONED
    assert agents.available_agents().filter(pk=agent.pk).exists()  # free for the next call


def test_an_agent_on_another_call_is_not_rung(line):
    busy = AgentFactory(priority=1)
    free = AgentFactory(priority=2)
    line.ask_for_advisor(sid="CA" + "1" * 32)

    line.ask_for_advisor()

    assert [r.to for r in line.calls_placed()] == [busy.phone, free.phone]


def test_agents_of_equal_priority_take_turns(line):
    a = AgentFactory(priority=1, last_offered_at=timezone.now() - timedelta(minutes=5))
    b = AgentFactory(priority=1, last_offered_at=timezone.now() - timedelta(minutes=9))
    line.ask_for_advisor()
    assert offers()[0].agent == b
    assert a.pk != b.pk


# --- callbacks out of order or repeated -------------------------------------------------------


def test_a_repeated_no_answer_callback_rings_the_next_agent_only_once(line):
    AgentFactory(priority=1)
    AgentFactory(priority=2)
    AgentFactory(priority=3)
    line.ask_for_advisor()
    first = offers()[0]

    line.agent_leg(first, "no-answer")
    line.agent_leg(first, "no-answer")

    assert len(line.calls_placed()) == 2
    assert len(offers()) == 2


def test_a_late_no_answer_from_an_earlier_agent_does_not_ring_anyone(line):
    AgentFactory(priority=1)
    AgentFactory(priority=2)
    AgentFactory(priority=3)
    line.ask_for_advisor()
    first = offers()[0]
    line.agent_leg(first, "busy")
    second = offers()[1]

    line.agent_leg(first, "no-answer")  # late, and a different ending

    assert len(line.calls_placed()) == 2
    second.refresh_from_db()
    assert second.status == AgentOffer.Status.RINGING


def test_a_late_ringing_callback_does_not_move_a_connected_call_back(line):
    AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()
    line.agent_answers(offer)

    line.agent_leg(offer, "ringing")
    line.agent_leg(offer, "no-answer")  # out of order: it was answered

    offer.refresh_from_db()
    assert offer.status == AgentOffer.Status.ANSWERED
    assert the_call().status == Status.CONNECTED
    assert len(line.calls_placed()) == 1


def test_a_repeated_answer_webhook_keeps_one_connection(line):
    AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()
    line.agent_answers(offer)

    again = line.agent_answers(offer)

    assert "no longer waiting" in spoken(again.xml)
    assert the_call().status == Status.CONNECTED


def test_a_repeated_advisor_request_does_not_ring_a_second_agent(line):
    AgentFactory(priority=1)
    AgentFactory(priority=2)
    line.ask_for_advisor()

    again = line.press("2")

    assert again.xml.find("Dial/Conference") is not None
    assert len(line.calls_placed()) == 1


def test_a_completed_caller_leg_after_abandonment_changes_nothing(line):
    AgentFactory()
    line.ask_for_advisor()
    line.caller_leg("completed")
    ended = the_call().ended_at

    line.caller_leg("completed")

    assert the_call().status == Status.ABANDONED
    assert the_call().ended_at == ended
    assert len(line.updates()) == 1


def test_a_failed_call_to_an_agent_rings_the_next(line, provider_fails):
    from telephony.backends import PermanentProviderError

    AgentFactory(priority=1)
    second = AgentFactory(priority=2)
    provider_fails.append(PermanentProviderError("Invalid 'To'", code=21211, status=400))

    line.ask_for_advisor()

    assert [r.to for r in line.calls_placed()] == [second.phone]
    assert [o.status for o in offers()] == [AgentOffer.Status.FAILED, AgentOffer.Status.RINGING]


# --- hours, recording, bad input ----------------------------------------------------------


def test_outside_opening_hours_the_caller_hears_the_hours_and_can_leave_a_message(
    line, settings, monkeypatch
):
    AgentFactory()
    settings.SHOP_HOURS, settings.SHOP_TIME_ZONE = "mon-sun 11:00-22:00", "UTC"
    before_opening = timezone.now().replace(hour=9, minute=0)
    monkeypatch.setattr("django.utils.timezone.now", lambda: before_opening)

    greeting = line.call_in()
    choice = line.press("2")

    assert "We are closed right now" in spoken(greeting.xml)
    assert "Our opening hours are Monday to Sunday, 11:00 to 22:00" in spoken(greeting.xml)
    assert "We open again at 11:00 AM" in spoken(greeting.xml)
    assert "press 1" in spoken(greeting.xml.find("Gather"))  # order status still offered
    assert choice.xml.find("Record") is not None
    assert line.calls_placed() == []


def test_shop_opening_follows_the_ordering_hours(settings, db):
    from orders import hours

    settings.SHOP_HOURS = "mon-sun 11:00-22:00"
    settings.SHOP_TIME_ZONE = "UTC"
    assert hours.parse_hours(settings.SHOP_HOURS)
    morning = timezone.now().replace(hour=9, minute=0)
    evening = timezone.now().replace(hour=19, minute=0)

    assert hours.opening(evening).is_open
    closed = hours.opening(morning)
    assert not closed.is_open
    assert closed.hours == "Monday to Sunday, 11:00 to 22:00"
    assert closed.next_opening == "at 11:00 AM"


def test_calls_are_recorded_when_the_setting_is_on(line, settings):
    settings.SUPPORT_RECORD_CALLS = True
    AgentFactory()
    response = line.ask_for_advisor()
    call = the_call()
    conference = response.xml.find("Dial/Conference")
    assert conference.get("record") == "record-from-start"

    line.post(
        conference.get("recordingStatusCallback"),
        CallSid=CALLER_SID, RecordingSid="RE" + "2" * 32, RecordingStatus="completed",
        RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE2",
    )  # fmt: skip

    assert the_call().recording_url.endswith("/RE2")
    assert call.pk == the_call().pk


def test_unsigned_webhooks_are_refused(twilio, db):
    response = twilio.post(reverse("support:voice"), {"CallSid": CALLER_SID}, signature="bad")
    assert response.status_code == 403
    assert not SupportCall.objects.exists()


def test_a_call_webhook_without_call_sid_is_a_bad_request_not_an_error(twilio, db):
    assert twilio.post(reverse("support:voice"), {"From": CALLER}).status_code == 400


def test_callbacks_about_unknown_calls_are_acknowledged(line):
    line.caller_leg("completed", sid="CA" + "9" * 32)
    line.post(reverse("support:agent-status", args=[999]), CallStatus="no-answer")
    line.post(reverse("support:conference-status", args=[999]), StatusCallbackEvent="start")
    response = line.post(reverse("support:agent-answer", args=[999]), CallSid="CA" + "1" * 32)
    assert verbs(response.xml)[-1] == "Hangup"


# --- a live board's questions -------------------------------------------------------------------


def test_live_board_lists_callers_waiting_and_agents_on_shift(line):
    agent = AgentFactory()
    AgentFactory(on_shift=False)
    line.ask_for_advisor()

    waiting = list(board.callers_waiting())
    on_shift = list(board.agents_on_shift())

    assert waiting == [the_call()]
    assert waiting[0].current_offer.agent == agent
    assert [(a, a.busy) for a in on_shift] == [(agent, True)]


# --- final statuses Twilio never sent ------------------------------------------------------------


def after(seconds):
    return timezone.now() + timedelta(seconds=seconds)


def sweep(line, now):
    with line.capture(execute=True):
        return calls.sweep_stale_calls(now=now)


def test_an_offer_whose_final_status_never_came_frees_the_agent_and_rings_the_next(line):
    first = AgentFactory(priority=1)
    second = AgentFactory(priority=2)
    line.ask_for_advisor()
    [offer] = offers()
    assert not agents.available_agents().filter(pk=first.pk).exists()

    swept = sweep(line, after(settings.SUPPORT_RING_TIMEOUT + 121))

    assert swept == 1
    offer.refresh_from_db()
    assert offer.status == AgentOffer.Status.NO_ANSWER
    assert agents.available_agents().filter(pk=first.pk).exists()
    assert line.calls_placed()[-1].to == second.phone  # the caller still waits: next agent
    assert the_call().status == Status.RINGING_AGENT


def test_an_offer_still_within_its_ring_is_left_alone(line):
    AgentFactory()
    line.ask_for_advisor()
    [before] = offers()

    assert sweep(line, after(settings.SUPPORT_RING_TIMEOUT + 60)) == 0

    [offer] = offers()
    assert offer.status == before.status
    assert the_call().status == Status.RINGING_AGENT


def test_a_call_never_reported_finished_is_completed_after_hours_and_its_agent_freed(line):
    agent = AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()
    line.agent_answers(offer)
    assert the_call().status == Status.CONNECTED
    hours = settings.SUPPORT_STALE_CALL_HOURS * 3600

    assert sweep(line, after(hours - 60)) == 0  # a long call is not cut short
    swept = sweep(line, after(hours + 60))

    assert swept == 2  # the agent's leg and the call
    assert the_call().status == Status.COMPLETED
    assert agents.available_agents().filter(pk=agent.pk).exists()
    assert sweep(line, after(hours + 120)) == 0


def test_the_telephony_worker_runs_the_support_sweep(line):
    agent = AgentFactory()
    line.ask_for_advisor()
    [offer] = offers()
    AgentOffer.objects.filter(pk=offer.pk).update(updated_at=after(-3600))

    call_command("telephony_worker", "--once", stdout=io.StringIO())

    offer.refresh_from_db()
    assert offer.status == AgentOffer.Status.NO_ANSWER
    assert agents.available_agents().filter(pk=agent.pk).exists()


def test_a_caller_on_hold_hears_their_place_in_line_and_the_likely_wait(line, settings):
    settings.SUPPORT_HOLD_MUSIC_URL = ""
    settings.SUPPORT_TALK_MINUTES = 3
    AgentFactory(), AgentFactory()  # two on shift share the line
    line.ask_for_advisor()
    second_sid = "CA" + "d" * 32
    line.ask_for_advisor(second_sid)
    first, second = SupportCall.objects.order_by("pk")

    heard_first = line.post(reverse("support:hold", args=[first.pk]), CallSid=CALLER_SID)
    heard_second = line.post(reverse("support:hold", args=[second.pk]), CallSid=second_sid)

    assert "You are next in line. The wait is likely about 2 minutes." in spoken(heard_first.xml)
    assert "You are number 2 in line. The wait is likely about 3 minutes." in spoken(
        heard_second.xml
    )
    assert heard_first.xml.find("Pause").get("length") == "40"  # then Twilio asks again

    SupportCall.objects.filter(pk=first.pk).update(  # the first is answered after 1 minute
        status=Status.CONNECTED,
        answered_at=timezone.now() - timedelta(minutes=2),
        ended_at=timezone.now() - timedelta(minutes=1),
    )
    again = line.post(reverse("support:hold", args=[second.pk]), CallSid=second_sid)
    assert "You are next in line. The wait is likely about 1 minute." in spoken(again.xml)


# --- the line: waiting for a busy agent, a call-back keeping one's place ------------------

SECOND_SID = "CA" + "e" * 32
SECOND = "+14155550188"


def call_of(sid):
    return SupportCall.objects.get(call_sid=sid)


def second_caller_asks(line):
    line.post(
        reverse("support:voice"), CallSid=SECOND_SID, From=SECOND, CallStatus="ringing",
        To=settings.TWILIO_PHONE_NUMBER,
    )  # fmt: skip
    line.post(reverse("support:menu"), CallSid=SECOND_SID, From=SECOND, Digits="0")
    return call_of(SECOND_SID)


def test_a_caller_whose_agents_are_all_busy_waits_and_is_offered_the_agent_once_free(line):
    agent = AgentFactory()
    line.ask_for_advisor()
    [first] = offers()
    line.agent_answers(first)

    second_caller_asks(line)  # the one agent is on the first call

    second = call_of(SECOND_SID)
    assert second.status == Status.WAITING
    assert len(line.calls_placed()) == 1  # nobody free to ring yet
    heard = line.post(reverse("support:hold", args=[second.pk]), CallSid=SECOND_SID)
    assert "You are next in line." in spoken(heard.xml)

    line.agent_leg(first, "completed")  # the first conversation ends

    assert [r.to for r in line.calls_placed()] == [agent.phone, agent.phone]
    offer = offers()[-1]
    assert (offer.call, offer.agent) == (second, agent)
    assert call_of(SECOND_SID).status == Status.RINGING_AGENT


def test_an_agent_coming_on_shift_is_offered_the_caller_waiting(line):
    busy = AgentFactory()
    line.ask_for_advisor()
    line.agent_answers(offers()[0])
    second_caller_asks(line)
    late = AgentFactory(on_shift=False)

    with line.capture(execute=True):
        agents.set_on_shift(late, True)

    assert [r.to for r in line.calls_placed()] == [busy.phone, late.phone]
    assert offers()[-1].call == call_of(SECOND_SID)


def test_hold_tells_a_caller_how_to_be_called_back_but_not_a_withheld_one(line, settings):
    AgentFactory()
    line.ask_for_advisor()
    withheld = SupportCall.objects.create(
        caller_number="anonymous", call_sid="CA" + "0" * 32, status=Status.WAITING
    )

    heard = line.post(reverse("support:hold", args=[the_call().pk]), CallSid=CALLER_SID)
    heard_withheld = line.post(
        reverse("support:hold", args=[withheld.pk]), CallSid=withheld.call_sid
    )

    assert "To be called back instead, without losing your place, press star." in spoken(heard.xml)
    assert "called back" not in spoken(heard_withheld.xml)


def test_the_hold_dial_leaves_on_star_for_its_options(line):
    AgentFactory()
    response = line.ask_for_advisor()
    dial = response.xml.find("Dial")
    call = the_call()
    assert dial.get("hangupOnStar") == "true"
    assert dial.get("action").endswith(reverse("support:hold-left", args=[call.pk]))

    options = line.post(dial.get("action"), CallSid=CALLER_SID, DialCallStatus="completed")

    gather = options.xml.find("Gather")
    assert gather.get("action").endswith(reverse("support:hold-choice", args=[call.pk]))
    assert "keeping your place in line, press 1" in spoken(gather)
    assert verbs(options.xml)[-1] == "Redirect"  # nothing pressed: back on hold
    back = line.post(options.xml.find("Redirect").text, CallSid=CALLER_SID)
    assert "Back to the line" in spoken(back.xml)
    assert back.xml.find("Dial/Conference").text == call.conference_name
    assert the_call().status == Status.RINGING_AGENT  # still in line, the agent still rung


def test_pressing_1_on_hold_ends_the_call_and_a_call_back_keeps_its_place(line):
    agent = AgentFactory()
    line.ask_for_advisor()
    [ringing] = offers()
    held = the_call()

    choice = line.post(
        reverse("support:hold-choice", args=[held.pk]), CallSid=CALLER_SID, Digits="1"
    )
    line.caller_leg("completed")  # the caller hangs up after hearing it

    assert "We will call you back at this number" in spoken(choice.xml)
    assert verbs(choice.xml)[-1] == "Hangup"
    held = the_call()
    assert held.status == Status.CALL_BACK
    assert held.missed_text_due_at is None  # not a missed call: they will be called back
    back = SupportCall.objects.get(callback_of=held)
    assert back.direction == SupportCall.Direction.CALLBACK
    assert back.caller_number == CALLER and back.waiting_since == held.waiting_since
    ringing.refresh_from_db()
    assert ringing.status == AgentOffer.Status.CANCELED  # rung afresh for the call-back
    offer = offers()[-1]
    assert (offer.call, offer.agent) == (back, agent)
    assert back.__class__.objects.get(pk=back.pk).status == Status.RINGING_AGENT


def test_a_call_back_is_offered_before_callers_who_came_later_and_rings_the_customer(line):
    agent = AgentFactory()
    line.call_in()
    line.post(
        reverse("support:order", args=[the_call().pk]), CallSid=CALLER_SID, From=CALLER,
        SpeechResult="can i change my delivery address", Confidence="0.9",
    )  # fmt: skip
    first_sid = "CA" + "f" * 32
    line.ask_for_advisor(first_sid)  # someone is already talking to the one agent
    line.agent_answers(offers()[0])
    line.press("0")  # our caller is now in line behind them
    held = the_call()
    second_caller_asks(line)  # another caller, after ours
    line.post(reverse("support:hold-choice", args=[held.pk]), CallSid=CALLER_SID, Digits="1")
    back = SupportCall.objects.get(callback_of=held)
    heard = line.post(reverse("support:hold", args=[call_of(SECOND_SID).pk]), CallSid=SECOND_SID)
    assert "You are number 2 in line." in spoken(heard.xml)  # the call-back kept its place

    line.agent_leg(offers()[0], "completed")  # the agent is free: the call-back comes first

    offer = offers()[-1]
    assert (offer.call, offer.agent) == (back, agent)
    whisper = line.agent_answers(offer)
    assert "asked for one on hold" in spoken(whisper.screen.xml)
    assert "can i change my delivery address" in spoken(whisper.screen.xml)
    customer_leg = line.calls_placed()[-1]
    assert customer_leg.to == CALLER
    answer = line.post(customer_leg.url, CallSid=customer_leg.sid)
    assert "returning your call" in spoken(answer.xml)
    back.refresh_from_db()
    assert answer.xml.find("Dial/Conference").text == back.conference_name
    assert whisper.xml.find("Dial/Conference").text == back.conference_name
    assert (back.status, back.agent, back.call_sid) == (Status.CONNECTED, agent, customer_leg.sid)
    assert call_of(SECOND_SID).status == Status.WAITING  # still next


def test_a_call_back_nobody_takes_goes_on_the_call_back_list(line):
    agent = AgentFactory()
    line.ask_for_advisor()
    line.post(reverse("support:hold-choice", args=[the_call().pk]), CallSid=CALLER_SID, Digits="1")
    back = SupportCall.objects.get(callback_of=the_call())

    line.agent_leg(offers()[-1], "no-answer")

    back.refresh_from_db()
    assert back.status == Status.VOICEMAIL
    assert back.voicemail.transcript == "Asked to be called back while on hold."
    assert list(board.voicemails_waiting()) == [back.voicemail]
    assert line.updates() == [u for u in line.updates() if u.status == "canceled"]  # no redirect
    assert agents.available_agents().filter(pk=agent.pk).exists()


def test_an_agent_taking_the_call_while_the_caller_chose_is_joined_at_once(line):
    AgentFactory()
    line.ask_for_advisor()
    line.agent_answers(offers()[0])  # the caller had just pressed star

    choice = line.post(
        reverse("support:hold-choice", args=[the_call().pk]), CallSid=CALLER_SID, Digits="1"
    )

    assert "An advisor is ready for you now." in spoken(choice.xml)
    assert choice.xml.find("Dial/Conference").text == the_call().conference_name
    assert not SupportCall.objects.filter(callback_of=the_call()).exists()


def test_after_the_conversation_the_dial_action_says_goodbye(line):
    AgentFactory()
    line.ask_for_advisor()
    line.agent_answers(offers()[0])
    line.post(
        reverse("support:conference-status", args=[the_call().pk]),
        StatusCallbackEvent="conference-end", ConferenceSid="CF" + "1" * 32,
    )  # fmt: skip

    left = line.post(reverse("support:hold-left", args=[the_call().pk]), CallSid=CALLER_SID)

    assert f"Thank you for calling {settings.SHOP_NAME}" in spoken(left.xml)
    assert verbs(left.xml)[-1] == "Hangup"


def test_the_board_shows_a_call_back_in_line(line, admin_client):
    AgentFactory()
    line.ask_for_advisor()
    line.agent_answers(offers()[0])
    second_caller_asks(line)
    line.post(
        reverse("support:hold-choice", args=[call_of(SECOND_SID).pk]),
        CallSid=SECOND_SID,
        Digits="1",
    )

    [waiting] = board.callers_waiting()
    panel = admin_client.get(reverse("board:panel", args=["support"])).content.decode()

    assert waiting.callback_of == call_of(SECOND_SID)
    assert SECOND in panel and "call back</span> in line" in panel
