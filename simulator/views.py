"""The phone simulator at /dev/phone/: text and call the shop from a browser, through the real
webhooks with signed requests. Only with DEBUG (never with the twilio backend) or
PHONE_SIMULATOR_ENABLED; otherwise every page here is a 404.

Who may use it: with DEBUG on (a developer's own machine) anyone who reaches it. Outside DEBUG
(PHONE_SIMULATOR_ENABLED on a staging or demo server) only staff with its own permission
(`telephony.use_phone_simulator`): visitors are sent to the admin login (their POSTs get a
403), other staff get a 403.

As whom: only numbers of its own, the range North American numbering keeps for fiction and
tests, +1 NPA 555-0100 to 555-0199 (`is_test_number`). It texts and calls the shop as that
number and shows that number's texts, so it can never order, cancel, consent or read as a
real customer, nor make the shop text a stranger."""

import re
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from orders.hours import shop_zone
from telephony.backends import SHORT_NAMES, backend_path
from telephony.inbound import answer_pending
from telephony.models import Message
from telephony.numbers import to_e164
from telephony.simulator import signed_post, sms_params

from . import calls
from .keywords import twilio_replies

DEFAULT_NUMBER = "+14155550123"
CHAT_LENGTH = 80
KEYS = "123456789*0#"
QUICK_TEXTS = ["MENU", "ORDER 1 large pepperoni", "YES", "STATUS", "HELP"]
PERMISSION = "telephony.use_phone_simulator"  # outside DEBUG
TEST_NUMBER = re.compile(r"\+1[2-9]\d{2}55501\d{2}")  # 555-0100..0199: fiction's numbers


def is_test_number(number):
    return bool(number) and TEST_NUMBER.fullmatch(number) is not None


def simulator_enabled():
    if settings.PHONE_SIMULATOR_ENABLED:
        return True
    return settings.DEBUG and backend_path() != SHORT_NAMES["twilio"]


def simulator_only(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not simulator_enabled():
            raise Http404("The phone simulator is off (DEBUG or PHONE_SIMULATOR_ENABLED).")
        refused = _refused(request)
        if refused is not None:
            return refused
        with timezone.override(shop_zone()):  # the customer's phone shows local time
            return view(request, *args, **kwargs)

    return wrapped


def _refused(request):
    """None when `request` may use the simulator; otherwise the answer to give instead."""
    if settings.DEBUG:
        return None  # a developer's own machine
    user = request.user
    if user.is_active and user.is_staff:
        if user.has_perm(PERMISSION):
            return None
        raise PermissionDenied("The phone simulator needs its own permission.")
    if request.method != "GET":
        return HttpResponseForbidden("Log in as staff to use the phone simulator.")
    login = reverse("admin:login")
    if request.headers.get("HX-Request"):
        go = f"{login}?next={reverse('phone:phone')}"
        return HttpResponse(status=204, headers={"HX-Redirect": go})
    return redirect_to_login(request.get_full_path(), login)


def _number(request):
    number = request.session.get("phone_number")
    return number if is_test_number(number) else DEFAULT_NUMBER


def _chat(number):
    """The texts with `number`, oldest first, each with `.twilio_reply`: Twilio's own automatic
    answer to it (to STOP, START, HELP...), shown on the phone but never in our message log."""
    chat = list(
        reversed(
            Message.objects.with_number(number)
            # As the phone sees them: a text held back (send_after, a retry) when it leaves.
            .alias(shown_at=Coalesce("sent_at", "next_attempt_at", "created_at"))
            .order_by("-shown_at", "-id")[:CHAT_LENGTH]
        )
    )
    automatic = twilio_replies(chat, number)
    for message in chat:
        message.twilio_reply = automatic.get(message.pk, "")
    return chat


def _context(request, **extra):
    number = _number(request)
    return {
        "number": number,
        "shop_number": settings.TWILIO_PHONE_NUMBER,
        "chat": _chat(number),
        "call": request.session.get("phone_call"),
        "keys": KEYS,
        "quick_texts": QUICK_TEXTS,
        **extra,
    }


def _answer(request, template, tab="messages", **extra):
    """The refreshed part of the phone (htmx), or the whole page without JavaScript."""
    if request.headers.get("HX-Request"):
        return render(request, template, _context(request, partial=True, **extra))
    return redirect(reverse("phone:phone") + f"?tab={tab}")


@require_GET
@simulator_only
def phone(request):
    return render(request, "phone/phone.html", _context(request))


@require_POST
@simulator_only
def choose_number(request):
    number = to_e164(request.POST.get("number", ""))
    if number is None or not is_test_number(number):
        error = (
            "That is not a phone number this shop can read."
            if number is None
            else "The simulator texts as test numbers only: +1 (any area code) 555-0100 "
            "to 555-0199, never as a real customer."
        )
        return render(
            request, "phone/phone.html", _context(request, number_error=error), status=400
        )
    if number != _number(request):
        request.session["phone_number"] = number
        request.session.pop("phone_call", None)
    return redirect("phone:phone")


@require_GET
@simulator_only
def chat(request):
    return render(request, "phone/_chat.html", _context(request))


@require_POST
@simulator_only
def send_text(request):
    body = request.POST.get("body", "").strip()[:1600]
    error = ""
    if body:
        response = signed_post(reverse("telephony:sms"), sms_params(_number(request), body))
        if response.status_code != 200:
            error = f"The shop's SMS webhook answered {response.status_code}."
        # Do the worker's part now, so the reply shows without waiting for its next poll.
        answer_pending()
    return _answer(request, "phone/_chat.html", chat_error=error)


@require_POST
@simulator_only
def call(request):
    action = request.POST.get("action") or ("key" if "key" in request.POST else "")
    state = request.session.get("phone_call")
    if action == "start":
        state = calls.start(_number(request))
    elif state is None:
        return _answer(request, "phone/_call.html", tab="call")
    elif action == "key":
        keys = "".join(k for k in request.POST.get("key", "") if k in KEYS)[:10]
        if keys:
            calls.press(state, keys)
    elif action == "say":
        calls.speak(state, request.POST.get("words", ""))
    elif action == "wait":
        calls.stay_on_line(state)
    elif action == "answer":
        calls.agent_answers(state)
    elif action == "decline":
        calls.agent_does_not_answer(state)
    elif action == "voicemail":
        calls.leave_voicemail(state)
    elif action == "hangup":
        calls.hang_up(state)
    elif action == "clear":
        request.session.pop("phone_call", None)
        return _answer(request, "phone/_call.html", tab="call")
    request.session["phone_call"] = state
    return _answer(request, "phone/_call.html", tab="call")
