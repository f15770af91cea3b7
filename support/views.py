"""The support line's Twilio webhooks: every one signed, every answer TwiML or 204."""

import logging
from functools import wraps

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext

from orders import hours, lookup, phone
from orders.hours import clock
from orders.payment import take_payment
from telephony.numbers import WITHHELD, caller_id
from telephony.webhooks import VoiceResponse, twilio_webhook, twiml_response

from . import calls, notices, twiml
from .models import CALL_HOLDING, SupportCall, VoiceNotice

logger = logging.getLogger(__name__)


def webhook(view):
    """Signed by Twilio; a database failure answers 503 so Twilio tries again."""

    @twilio_webhook
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DatabaseError as exc:
            logger.error(
                "Database unavailable in %s (%s); asking Twilio to retry", view.__name__, exc
            )
            response = HttpResponse(
                "Temporarily unavailable", status=503, content_type="text/plain"
            )
            response["Retry-After"] = "5"
            return response

    return wrapped


def _from_caller(request, **kwargs):
    return caller_id((request.POST.get("From") or "").strip())


def _call_number(request, call_id, **kwargs):
    return SupportCall.objects.filter(pk=call_id).values_list("caller_number", flat=True).first()


def _notice_number(request, notice_id, **kwargs):
    return VoiceNotice.objects.filter(pk=notice_id).values_list("to_number", flat=True).first()


def in_customers_language(number_of):
    """The view speaks the language of the customer whose number `number_of(request, **kwargs)`
    finds (orders.lookup.language_for_number): gettext and twiml's voice follow it."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            number = number_of(request, **kwargs)
            if number == WITHHELD:
                number = None
            with translation.override(lookup.language_for_number(number)):
                return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _done():
    return HttpResponse(status=204)


def _bad_request(reason):
    return HttpResponse(f"Bad request: {reason}", status=400, content_type="text/plain")


def _hang_up(text):
    return twiml_response(twiml.goodbye(str(text)))


# --- the caller --------------------------------------------------------------------


@webhook
@in_customers_language(_from_caller)
def incoming_call(request):
    try:
        greeting = calls.answer_call(request.POST)
    except ValueError as exc:
        return _bad_request(exc)
    return twiml_response(twiml.greeting(greeting))


@webhook
@in_customers_language(_from_caller)
def menu(request):
    call = calls.call_by_sid(request.POST.get("CallSid"))
    if call is None:
        try:
            call = calls.answer_call(request.POST).call
        except ValueError as exc:
            return _bad_request(exc)
    digits = (request.POST.get("Digits") or "").strip()
    if digits == "1":
        calls.note_menu_choice(call, "order status")
        orders = calls.order_statuses(call)
        return twiml_response(twiml.order_status(orders, hours.opening()))
    if digits == "9":
        calls.note_menu_choice(call, "español")
        lookup.speak_spanish(call.caller_number)
        with translation.override("es"):
            return twiml_response(twiml.greeting(calls.answer_call(request.POST)))
    if digits in ("0", "2"):
        return _to_a_person(call)
    if digits:
        return twiml_response(twiml.not_an_option())
    return _order_turn(request, call, digits)


@webhook
@in_customers_language(_call_number)
def order(request, call_id):
    """A turn of an order by voice after the greeting's: 1 is yes, 2 is change, 0 a person."""
    call = SupportCall.objects.filter(pk=call_id).first()
    if call is None:
        return _hang_up(gettext("Goodbye."))
    digits = (request.POST.get("Digits") or "").strip()
    if digits == "0":
        return _to_a_person(call)
    if digits not in ("", "1", "2"):
        digits = ""  # not an option: heard as nothing, asked again
    return _order_turn(request, call, digits)


@webhook
@in_customers_language(_call_number)
def paid(request, call_id):
    """Twilio's <Pay> ended (support/twiml.py pay_by_phone): `Result` "success" is the order's
    total charged through the shop's connector, `PaymentConfirmationCode` Stripe's id of it."""
    call = SupportCall.objects.select_related("order").filter(pk=call_id).first()
    if call is None or call.order is None:
        return _hang_up(gettext("Goodbye."))
    outcome = "failed"
    if request.POST.get("Result") == "success":
        reference = (request.POST.get("PaymentConfirmationCode") or "")[:100]
        taken = take_payment(
            call.order, call.order.total, settings.SHOP_CURRENCY, by="card", reference=reference
        )
        outcome = "paid" if taken.outcome in ("paid", "already") else taken.outcome
    call.order.refresh_from_db()
    promised = clock(call.order.promised_at)
    return twiml_response(twiml.paid_by_phone(outcome, call.order, promised))


def _order_turn(request, call, digits):
    try:
        confidence = float(request.POST.get("Confidence") or "nan")
    except ValueError:
        confidence = None
    if confidence != confidence:  # not sent (a key pressed), or "nan"
        confidence = None
    turn = calls.hear(call, request.POST.get("SpeechResult"), digits, confidence)
    if turn is None:
        return _to_a_person(call)
    return twiml_response(twiml.spoken_turn(call, turn, phone.hints()))


def _to_a_person(call):
    calls.note_menu_choice(call, "advisor")
    route = calls.request_advisor(call.pk)
    if route.route == "hold":
        return twiml_response(twiml.hold(route.call))
    if route.route == "voicemail":
        return twiml_response(twiml.voicemail(route.call, route.reason))
    return _hang_up(gettext("Thank you for calling. Goodbye."))


@webhook
def call_status(request):
    sid = request.POST.get("CallSid")
    if sid:
        calls.record_caller_status(sid, request.POST.get("CallStatus"))
    return _done()


@webhook
@in_customers_language(_call_number)
def hold(request, call_id):
    call = calls.check_hold(call_id)
    if call is None or call.status not in CALL_HOLDING:
        return twiml_response(twiml.hold_music())
    line = calls.place_in_line(call)
    return twiml_response(twiml.hold_music(line, calls.may_call_back(call)))


@webhook
@in_customers_language(_call_number)
def hold_left(request, call_id):
    """The caller's Dial into their conference ended: they pressed star on hold (its
    options), or the conversation is over (goodbye)."""
    call = SupportCall.objects.filter(pk=call_id).first()
    if call is None:
        return _hang_up(gettext("Goodbye."))
    if call.status in CALL_HOLDING:
        return twiml_response(twiml.hold_options(call, calls.may_call_back(call)))
    if call.status == SupportCall.Status.VOICEMAIL:
        return twiml_response(twiml.voicemail(call))
    return _hang_up(
        gettext("Thank you for calling %(shop)s. Goodbye.") % {"shop": settings.SHOP_NAME}
    )


@webhook
@in_customers_language(_call_number)
def hold_choice(request, call_id):
    """What the caller pressed in the hold's options: 1 is a call-back; else back on hold."""
    if (request.POST.get("Digits") or "").strip() == "1":
        outcome = calls.call_me_back(call_id)
    else:
        outcome = "holding"
    call = SupportCall.objects.filter(pk=call_id).first()
    if call is None or outcome == "gone":
        return _hang_up(gettext("Goodbye."))
    if outcome == "called back":
        return twiml_response(twiml.called_back_later())
    if call.status == SupportCall.Status.CONNECTED:
        return twiml_response(twiml.advisor_ready(call))
    if call.status in CALL_HOLDING:
        return twiml_response(twiml.hold(call, again=True))
    if call.status == SupportCall.Status.VOICEMAIL:
        return twiml_response(twiml.voicemail(call))
    return _hang_up(gettext("Goodbye."))


@webhook
def conference_status(request, call_id):
    calls.record_conference_event(call_id, request.POST)
    return _done()


@webhook
@in_customers_language(_call_number)
def voicemail(request, call_id):
    call = calls.take_voicemail(call_id, reason="redirected")
    if call is None:
        return _hang_up(gettext("Goodbye."))
    return twiml_response(twiml.voicemail(call))


@webhook
@in_customers_language(_call_number)
def voicemail_done(request, call_id):
    calls.save_recording(call_id, request.POST, voicemail=True)
    return _hang_up(gettext("Thank you. We will call you back soon. Goodbye."))


@webhook
def voicemail_recording(request, call_id):
    calls.save_recording(call_id, request.POST, voicemail=True)
    return _done()


@webhook
def voicemail_transcript(request, call_id):
    calls.save_transcript(call_id, request.POST)
    return _done()


@webhook
def call_recording(request, call_id):
    calls.save_recording(call_id, request.POST, voicemail=False)
    return _done()


# --- the agent -----------------------------------------------------------------------


NO_LONGER_WAITING = "Sorry, this caller is no longer waiting. Thank you."


@webhook
def agent_answer(request, offer_id):
    """The agent's phone was picked up: by the agent, or by their voicemail."""
    agent_sid = request.POST.get("CallSid") or ""
    if not settings.SUPPORT_AGENT_PRESS_1:
        return _connect_agent(offer_id, agent_sid, screened=False)
    call = calls.offer_waiting(offer_id, agent_sid)
    if call is None:
        return _hang_up(NO_LONGER_WAITING)
    return twiml_response(twiml.agent_screen(call, offer_id, calls.what_they_said(call)))


@webhook
def agent_accept(request, offer_id):
    """What the agent pressed after hearing who is calling: 1 takes the call."""
    if (request.POST.get("Digits") or "").strip() != "1":
        return _hang_up("Goodbye.")  # the leg ends and the next agent is rung
    return _connect_agent(offer_id, request.POST.get("CallSid") or "", screened=True)


def _connect_agent(offer_id, agent_sid, screened):
    answer = calls.connect_agent(offer_id, agent_sid)
    if not answer.connected:
        return _hang_up(NO_LONGER_WAITING)
    return twiml_response(twiml.agent_whisper(answer.call, screened=screened))


@webhook
def agent_status(request, offer_id):
    calls.record_agent_outcome(offer_id, request.POST.get("CallStatus"))
    return _done()


@webhook
@in_customers_language(_call_number)
def callback_customer(request, call_id):
    call = SupportCall.objects.filter(pk=call_id).first()
    if call is None or call.status != SupportCall.Status.CONNECTED:
        return _hang_up(gettext("Sorry, we missed you. Please call us back. Goodbye."))
    return twiml_response(twiml.customer_called_back(call))


@webhook
def callback_unanswered(request, call_id):
    return _hang_up("The customer did not answer. Goodbye.")


# --- voice notices ------------------------------------------------------------------


@webhook
@in_customers_language(_notice_number)
def notice_answer(request, notice_id):
    notice = VoiceNotice.objects.filter(pk=notice_id).first()
    if notice is None:
        response = VoiceResponse()
        response.hangup()
        return twiml_response(response)
    return twiml_response(twiml.notice(notice.message))


@webhook
def notice_status(request, notice_id):
    notices.record_notice_status(notice_id, request.POST.get("CallStatus"))
    return _done()


@webhook
def notice_recording(request, notice_id):
    notices.save_notice_recording(notice_id, request.POST)
    return _done()
