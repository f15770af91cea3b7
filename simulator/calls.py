"""A simulated caller: posts signed requests to the support line's webhooks as Twilio would,
reads the TwiML we answer with (xml.etree) and follows it: <Say> is what the caller hears,
<Gather> waits for keys, <Redirect> is fetched, <Dial><Conference> puts the caller on hold
while a simulated agent answers or not, <Record> takes a voicemail, <Hangup> ends the call.

The call's state is a plain dict (kept in the session): `log` of what happened, and `waiting`
for what the call waits on now (keys, an agent in the conference, a recording)."""

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from support.models import AgentOffer, SupportCall
from telephony.simulator import new_sid, signed_post

MAX_HOPS = 12  # redirects followed in one go, so a TwiML loop cannot hang the page
RINGING = (AgentOffer.Status.PLACING, AgentOffer.Status.RINGING)


def start(number):
    """Call the shop's number from `number`: the number's voice URL answers."""
    call = {"sid": new_sid("CA"), "number": number, "ended": False, "log": [], "waiting": None}
    _note(call, "you", f"You call {settings.TWILIO_PHONE_NUMBER}.")
    _fetch(call, reverse("support:voice"), CallStatus="ringing")
    return call


def press(call, keys):
    """The caller presses `keys` on the keypad."""
    waiting = call["waiting"] or {}
    _note(call, "you", f"You press {keys}.")
    if waiting.get("type") == "gather":
        call["waiting"] = None
        _fetch(call, waiting["action"], Digits=keys)
    elif waiting.get("type") == "record" and "#" in keys:
        leave_voicemail(call)
    elif waiting.get("type") == "conference" and "*" in keys and waiting.get("on_star"):
        # <Dial hangupOnStar>: star leaves the conference; Twilio asks the Dial's action.
        call["waiting"] = None
        _note(call, "event", "You leave the hold.")
        _fetch(call, waiting["on_star"], DialCallStatus="completed")
    else:
        _note(call, "event", "Nothing happens: the call is not waiting for keys now.")
    return call


def speak(call, words, confidence="0.92"):
    """The caller says `words`: posted as Twilio's recognizer posts them (SpeechResult and
    its Confidence) to a <Gather> that listens for speech."""
    waiting = call["waiting"] or {}
    words = " ".join((words or "").split())[:300]
    if not words:
        return call
    _note(call, "you", f"You say “{words}”.")
    if waiting.get("type") == "gather" and waiting.get("speech"):
        call["waiting"] = None
        _fetch(call, waiting["action"], SpeechResult=words, Confidence=confidence)
    else:
        _note(call, "event", "Nobody is listening for words now.")
    return call


def stay_on_line(call):
    """The caller says and presses nothing: a <Gather> with actionOnEmptyResult posts the
    empty result to its action; any other times out and the TwiML after it runs."""
    waiting = call["waiting"] or {}
    if waiting.get("type") != "gather":
        return call
    call["waiting"] = None
    _note(call, "you", "You stay on the line without a word or a key.")
    if waiting.get("on_empty"):
        _fetch(call, waiting["action"])
    else:
        _walk(call, [ET.fromstring(verb) for verb in waiting["then"]])
    return call


def agent_answers(call):
    """The agent whose phone rings for this call picks up (Twilio fetches the offer's URL)."""
    offer = _ringing_offer(call)
    if offer is None:
        return call
    agent_leg = offer.sid or new_sid("CA")
    response = _post(
        reverse("support:agent-answer", args=[offer.pk]),
        _agent_params(offer, agent_leg, "in-progress"),
    )
    root = _twiml(call, response)
    if root is None:
        return call
    gather = root.find("Gather")  # who is calling: press 1 to take it
    heard = " ".join(_say_texts(gather if gather is not None else root))
    if heard:
        _note(call, "agent", f"{offer.agent} hears: “{heard}”")
    if gather is not None:
        response = _post(
            reverse("support:agent-accept", args=[offer.pk]),
            {**_agent_params(offer, agent_leg, "in-progress"), "Digits": "1"},
        )
        root = _twiml(call, response)
        if root is None:
            return call
        _note(call, "agent", f"{offer.agent} presses 1 and hears: “{' '.join(_say_texts(root))}”")
    if root.find("Dial/Conference") is not None:
        call["waiting"]["agent"] = {"offer": offer.pk, "sid": agent_leg, "name": str(offer.agent)}
        _note(call, "event", f"{offer.agent} joins your call: you are talking to an advisor.")
    else:
        _note(call, "event", f"{offer.agent} was not connected to you.")
    return call


def agent_does_not_answer(call):
    """The agent's phone rings out: Twilio reports no-answer; the shop rings the next agent
    or moves the caller to voicemail (Twilio then fetches the voicemail URL for the caller)."""
    offer = _ringing_offer(call)
    if offer is None:
        return call
    _post(
        reverse("support:agent-status", args=[offer.pk]),
        _agent_params(offer, offer.sid or new_sid("CA"), "no-answer"),
    )
    _note(call, "event", f"{offer.agent} does not answer.")
    _follow_the_shop(call)
    return call


def leave_voicemail(call, seconds=7):
    waiting = call["waiting"] or {}
    if waiting.get("type") != "record":
        return call
    call["waiting"] = None
    recording = new_sid("RE")
    params = {
        "RecordingSid": recording,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{_account()}/Recordings/{recording}",
        "RecordingStatus": "completed",
        "RecordingDuration": str(seconds),
    }
    _note(call, "you", f"You leave a {seconds}-second message and press #.")
    if waiting.get("recording_callback"):
        _post(waiting["recording_callback"], {**_caller_params(call), **params})
    _fetch(call, waiting["action"], Digits="#", **params)
    return call


def hang_up(call):
    if call["ended"]:
        return call
    _note(call, "you", "You hang up.")
    waiting = call["waiting"] or {}
    if waiting.get("type") == "conference" and waiting.get("status_callback"):
        # endConferenceOnExit: the caller leaving ends the conference for the agent too.
        _post(
            waiting["status_callback"],
            {**_caller_params(call), "StatusCallbackEvent": "conference-end",
             "ConferenceSid": waiting["conference_sid"], "FriendlyName": waiting["name"]},
        )  # fmt: skip
        agent = waiting.get("agent")
        if agent:
            offer = AgentOffer.objects.select_related("agent").get(pk=agent["offer"])
            _post(
                reverse("support:agent-status", args=[offer.pk]),
                _agent_params(offer, agent["sid"], "completed"),
            )
    _end(call)
    return call


# --- following TwiML ----------------------------------------------------------------


def _fetch(call, url, hops=0, **extra):
    """Request `url` for the caller's leg, as Twilio would, and follow what it answers."""
    if hops > MAX_HOPS:
        _note(call, "event", "Too many redirects in a row; the simulator stops here.")
        return _end(call, notify=False)
    response = _post(url, {**_caller_params(call), **extra})
    if response is None:
        _note(call, "event", f"Twilio would fetch {url}, which is not this site.")
        return _end(call)
    root = _twiml(call, response)
    if root is not None:
        _walk(call, list(root), hops)


def _walk(call, verbs, hops=0):
    for index, verb in enumerate(verbs):
        rest = [ET.tostring(v, encoding="unicode") for v in verbs[index + 1 :]]
        tag = verb.tag
        if tag == "Say":
            _note(call, "say", _text(verb))
        elif tag == "Play":
            _note(call, "event", "♪ Music plays.")
        elif tag == "Pause":
            _note(call, "event", f"Silence for {verb.get('length', '1')} s.")
        elif tag == "Gather":
            for said in _say_texts(verb):
                _note(call, "say", said)
            call["waiting"] = {
                "type": "gather",
                "action": verb.get("action") or reverse("support:voice"),
                "num_digits": int(verb.get("numDigits") or 1),
                "speech": "speech" in (verb.get("input") or ""),
                "on_empty": verb.get("actionOnEmptyResult") == "true",
                "then": rest,
            }
            return
        elif tag == "Redirect":
            return _fetch(call, _text(verb), hops + 1)
        elif tag == "Dial":
            return _join_conference(call, verb, rest)
        elif tag == "Record":
            _note(call, "event", "Beep. Recording your message (# to finish).")
            call["waiting"] = {
                "type": "record",
                "action": verb.get("action"),
                "recording_callback": verb.get("recordingStatusCallback"),
                "then": rest,
            }
            return
        elif tag == "Hangup":
            _note(call, "event", "The shop hangs up.")
            return _end(call)
        else:
            _note(call, "event", f"(<{tag}> is not simulated.)")
    _note(call, "event", "Nothing more to say: the call ends.")
    _end(call)


def _join_conference(call, dial, rest):
    conference = dial.find("Conference")
    if conference is None:
        _note(call, "event", f"The shop dials {_text(dial)} (not simulated).")
        return _walk(call, [ET.fromstring(verb) for verb in rest])
    call["waiting"] = {
        "type": "conference",
        "name": _text(conference),
        "conference_sid": new_sid("CF"),
        "status_callback": conference.get("statusCallback"),
        "on_star": dial.get("action") if dial.get("hangupOnStar") == "true" else None,
        "then": rest,
    }
    _note(call, "event", "You are on hold in the conference (music until an advisor joins).")
    wait_url = conference.get("waitUrl")
    if wait_url:
        response = _post(wait_url, _caller_params(call))
        root = _twiml(call, response) if response is not None else None
        for verb in root if root is not None else []:
            if verb.tag == "Say":
                _note(call, "say", _text(verb))
            elif verb.tag == "Play":
                _note(call, "event", "♪ Hold music plays.")
    _follow_the_shop(call)


def _follow_the_shop(call):
    """After the shop acted on its own (rang an agent, gave up): say what the caller notices."""
    found = (
        SupportCall.objects.select_related("current_offer__agent")
        .filter(call_sid=call["sid"])
        .first()
    )
    if found is None:
        return
    if (
        found.status == SupportCall.Status.VOICEMAIL
        and (call["waiting"] or {}).get("type") != "record"
    ):
        # The shop redirected the live call (Calls API); Twilio fetches the new URL.
        _note(call, "event", "Nobody can take the call: the shop moves you to voicemail.")
        call["waiting"] = None
        _fetch(call, reverse("support:voicemail", args=[found.pk]))
    elif found.current_offer and found.current_offer.status in RINGING:
        _note(call, "event", f"The shop rings {found.current_offer.agent} (a simulated agent).")


def _ringing_offer(call):
    found = (
        SupportCall.objects.select_related("current_offer__agent")
        .filter(call_sid=call["sid"])
        .first()
    )
    offer = found.current_offer if found else None
    if offer is None or offer.status not in RINGING:
        _note(call, "event", "No agent's phone is ringing for this call now.")
        return None
    return offer


# --- requests and TwiML -------------------------------------------------------------


def _local_path(url):
    """The path of one of our own URLs (absolute under PUBLIC_BASE_URL, or a path), else None."""
    if url.startswith("/"):
        return url
    base = settings.PUBLIC_BASE_URL
    if base and url.startswith(base + "/"):
        return url[len(base) :]
    parts = urlsplit(url)
    if parts.hostname in {h.lstrip(".") for h in settings.ALLOWED_HOSTS} | {"localhost"}:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return None


def _post(url, params):
    path = _local_path(url or "")
    if path is None:
        return None
    return signed_post(path, params)


def _twiml(call, response):
    if response.status_code == 204:
        return None
    if response.status_code != 200:
        _note(call, "event", f"The shop's server answered {response.status_code}.")
        _end(call, notify=False)
        return None
    try:
        return ET.fromstring(response.content)
    except ET.ParseError:
        _note(call, "event", "The shop answered something that is not TwiML.")
        _end(call, notify=False)
        return None


def _text(element):
    return " ".join((element.text or "").split())


def _say_texts(element):
    return [_text(say) for say in element.iter("Say") if _text(say)]


def _account():
    return settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32


def _caller_params(call):
    return {
        "CallSid": call["sid"], "AccountSid": _account(), "From": call["number"],
        "Caller": call["number"], "To": settings.TWILIO_PHONE_NUMBER,
        "Called": settings.TWILIO_PHONE_NUMBER, "CallStatus": "in-progress",
        "Direction": "inbound", "ApiVersion": "2010-04-01",
    }  # fmt: skip


def _agent_params(offer, sid, status):
    return {
        "CallSid": sid, "AccountSid": _account(), "From": settings.TWILIO_PHONE_NUMBER,
        "To": offer.agent.phone, "CallStatus": status, "Direction": "outbound-api",
        "ApiVersion": "2010-04-01",
    }  # fmt: skip


def _note(call, kind, text):
    call["log"].append({"kind": kind, "text": text})


def _end(call, notify=True):
    """The caller's leg is over: Twilio posts the number's status callback."""
    if call["ended"]:
        return
    call["ended"], call["waiting"] = True, None
    if notify:
        _post(reverse("support:call-status"), {**_caller_params(call), "CallStatus": "completed"})
    _note(call, "event", "Call ended.")
