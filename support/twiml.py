"""The TwiML documents of the support line, built with the SDK's VoiceResponse."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext

from orders.hours import when_words
from telephony.outbox import callback_url
from telephony.webhooks import VoiceResponse

CONFERENCE_EVENTS = "start end join leave"


def url(name, *args):
    """Absolute under PUBLIC_BASE_URL when set; else a path Twilio resolves against the request."""
    return callback_url(name, *args) or reverse(name, args=args)


def say(node, text):
    """`node.say(text)` in the active language's voice (settings.SUPPORT_VOICES): what every
    prompt a customer hears goes through."""
    return node.say(str(text), **settings.SUPPORT_VOICES.get(translation.get_language(), {}))


def order_status_sentence(order):
    """What the shop says about one active order (orders.lookup.ActiveOrder)."""
    text = gettext("Order %(number)s is %(stage)s.") % {
        "number": order.number,
        "stage": order.stage,
    }
    if order.promised_at:
        # in the shop's time zone
        text += " " + gettext("We expect it %(when)s.") % {"when": when_words(order.promised_at)}
    return text


def greeting(greeting):
    opening, orders = greeting.opening, greeting.orders
    response = VoiceResponse()
    say(response, gettext("Thank you for calling %(shop)s.") % {"shop": settings.SHOP_NAME})
    if not opening.is_open:
        closed = [gettext("We are closed right now.")]
        if opening.hours:
            closed.append(gettext("Our opening hours are %(hours)s.") % {"hours": opening.hours})
        if opening.next_opening:
            closed.append(gettext("We open again %(when)s.") % {"when": opening.next_opening})
        say(response, " ".join(closed))
    menu = listen(response, "support:menu", greeting.hints)
    if greeting.usual:
        usual = gettext("Welcome back. Would you like your usual, %(usual)s?")
        say(menu, usual % {"usual": greeting.usual})
        say(menu, gettext("Say yes, or tell me what you'd like."))
    else:
        say(menu, gettext("Tell me what you'd like, for example two large pepperoni for pickup."))
    if orders:
        say(
            menu,
            gettext("Calling about order %(number)s? Press 1 to hear its status.")
            % {"number": orders[0].number},
        )
    else:
        say(menu, gettext("For the status of your order, press 1."))
    if opening.is_open:
        say(menu, gettext("To speak to a person, press 0 or say: a person."))
    else:
        say(menu, gettext("To leave us a message, press 0."))
    if translation.get_language() != "es":
        with translation.override("es"):
            say(menu, gettext("Para español, oprima 9."))
    # Nothing said or pressed: Twilio posts the empty result (actionOnEmptyResult); this is
    # only for a Gather that ends another way.
    response.redirect(url("support:menu"), method="POST")
    return response


def listen(response, action, hints="", *args):
    """A `<Gather>` for speech or one key, posting to the URL named `action` even when
    nothing was said (asked once more, then a person: support/views.py), in the active
    language, with the menu's names as hints for the recognizer."""
    options = {"language": settings.SUPPORT_SPEECH_LANGUAGES.get(translation.get_language())}
    if hints:
        options["hints"] = hints
    return response.gather(
        input="speech dtmf",
        action=url(action, *args),
        method="POST",
        num_digits=1,
        timeout=6,
        speech_timeout="auto",
        action_on_empty_result=True,
        **{k: v for k, v in options.items() if v},
    )


def spoken_turn(call, turn, hints=""):
    """What the caller hears after a spoken turn of their order (orders.phone.Turn): the
    read-back and the yes-or-change question, a question back, or the order number and
    goodbye once it is placed."""
    response = VoiceResponse()
    if turn.say:
        say(response, turn.say)
    if turn.outcome == "placed":
        if settings.TWILIO_PAY_CONNECTOR and turn.order.status == "awaiting_payment":
            return pay_by_phone(response, call, turn.order)
        say(
            response,
            gettext("Thank you for calling %(shop)s. Goodbye.") % {"shop": settings.SHOP_NAME},
        )
        response.hangup()
        return response
    gather = listen(response, "support:order", hints, call.pk)
    if turn.outcome == "quoted":
        say(
            gather,
            gettext("Say yes or press 1 to place it. Say change or press 2 to start again."),
        )
    elif not turn.say:
        say(
            gather,
            gettext(
                "Sorry, I didn't hear anything. Tell me what you'd like, or press 0 for a person."
            ),
        )
    response.redirect(url("support:order", call.pk), method="POST")
    return response


def pay_by_phone(response, call, order):
    """Twilio's <Pay>: the card by keypad, charged through the shop's Stripe connector
    (TWILIO_PAY_CONNECTOR) for the order's total; its outcome posts to support:paid."""
    say(
        response,
        gettext(
            "To pay now by card, enter the card number on your keypad, then press pound. "
            "Or hang up and pay with the link we texted you."
        ),
    )
    response.pay(
        input="dtmf",
        payment_connector=settings.TWILIO_PAY_CONNECTOR,
        charge_amount=f"{order.total:.2f}",
        currency=settings.SHOP_CURRENCY,
        description=f"Order #{order.number}",
        action=url("support:paid", call.pk),  # <Pay> always POSTs: it has no `method`
        timeout=10,
        max_attempts=2,
        language={"es": "es-MX"}.get(translation.get_language(), "en-US"),
    )
    return response


def paid_by_phone(outcome, order, promised):
    """What the caller hears after <Pay>: paid (and when it will be ready), or the link."""
    response = VoiceResponse()
    if outcome == "paid":
        if order.fulfilment == "delivery":
            words = gettext("Thank you, you've paid. We'll be at your door about %(time)s.")
        else:
            words = gettext("Thank you, you've paid. It will be ready for pickup about %(time)s.")
        say(response, words % {"time": promised})
    else:
        say(
            response,
            gettext("The payment didn't go through. You can pay with the link we texted you."),
        )
    say(
        response, gettext("Thank you for calling %(shop)s. Goodbye.") % {"shop": settings.SHOP_NAME}
    )
    response.hangup()
    return response


def order_status(orders, opening):
    response = VoiceResponse()
    if orders:
        for order in orders[:3]:
            say(response, order_status_sentence(order))
    else:
        say(response, gettext("We found no order in progress for the number you are calling from."))
    menu = response.gather(action=url("support:menu"), method="POST", num_digits=1, timeout=6)
    if opening.is_open:
        again = gettext(
            "To hear this again, press 1. To speak to an advisor, press 2, or stay on the line."
        )
    else:
        again = gettext(
            "To hear this again, press 1. To leave us a message, press 2, or stay on the line."
        )
    say(menu, again)
    response.redirect(url("support:menu"), method="POST")
    return response


def not_an_option():
    response = VoiceResponse()
    say(response, gettext("Sorry, that is not one of the options."))
    response.redirect(url("support:voice"), method="POST")
    return response


def hold(call, again=False):
    """The caller joins their own conference and waits there until an agent joins.

    Star leaves the hold for its options (`hold_options`: a call-back keeping one's
    place), as an agent's star leaves a conversation: a conference's hold takes no keys,
    but `<Dial hangupOnStar>` ends the Dial on star and Twilio then asks the Dial's
    action, which also runs when the conversation is over (support:hold-left)."""
    response = VoiceResponse()
    if again:
        say(response, gettext("Back to the line. Please hold."))
    else:
        say(response, gettext("Please hold while we connect you to our advisors."))
    response.append(_caller_dial(call))
    return response


def _caller_dial(call):
    recording = {}
    if settings.SUPPORT_RECORD_CALLS:
        recording = {
            "record": "record-from-start",
            "recording_status_callback": url("support:call-recording", call.pk),
            "recording_status_callback_event": "completed",
            "recording_status_callback_method": "POST",
        }
    dial = VoiceResponse().dial(
        hangup_on_star=True, action=url("support:hold-left", call.pk), method="POST"
    )
    dial.conference(
        call.conference_name,
        start_conference_on_enter=False,
        end_conference_on_exit=True,
        beep=False,
        wait_url=url("support:hold", call.pk),
        wait_method="POST",
        status_callback=url("support:conference-status", call.pk),
        status_callback_event=CONFERENCE_EVENTS,
        status_callback_method="POST",
        **recording,
    )
    return dial


def hold_music(line=None, may_call_back=False):
    """What a caller on hold hears, each time Twilio asks again (the conference's waitUrl):
    their place in line and the likely wait (support.calls.place_in_line), how to be
    called back instead when we may call them (support.calls.may_call_back), then the
    hold music once, or 40 s of quiet without it; so about every 45 s with a 40 s track."""
    response = VoiceResponse()
    say(response, gettext("Thank you for holding. An advisor will be with you shortly."))
    if line is not None:
        say(response, place_words(line))
    if may_call_back:
        say(
            response,
            gettext("To be called back instead, without losing your place, press star."),
        )
    if settings.SUPPORT_HOLD_MUSIC_URL:
        response.play(settings.SUPPORT_HOLD_MUSIC_URL)
    else:
        response.pause(length=40)
    return response


def hold_options(call, may_call_back):
    """The caller pressed star on hold: 1 to be called back keeping their place, anything
    else (or nothing) back on hold."""
    response = VoiceResponse()
    if may_call_back:
        gather = response.gather(
            num_digits=1, timeout=6, action=url("support:hold-choice", call.pk), method="POST"
        )
        say(
            gather,
            gettext(
                "To be called back at this number when an advisor is free, keeping your "
                "place in line, press 1. To keep holding, press 2."
            ),
        )
    response.redirect(url("support:hold-choice", call.pk), method="POST")
    return response


def called_back_later():
    return goodbye(
        gettext(
            "Thank you. We will call you back at this number as soon as an advisor is free. "
            "You keep your place in line. Goodbye."
        )
    )


def advisor_ready(call):
    """A caller who left the hold while an agent took their call: into the conversation."""
    response = VoiceResponse()
    say(response, gettext("An advisor is ready for you now."))
    response.append(_caller_dial(call))
    return response


def place_words(line):
    if line.place == 1:
        place = gettext("You are next in line.")
    else:
        place = gettext("You are number %(place)s in line.") % {"place": line.place}
    wait = ngettext(
        "The wait is likely about %(minutes)s minute.",
        "The wait is likely about %(minutes)s minutes.",
        line.minutes,
    ) % {"minutes": line.minutes}
    return f"{place} {wait}"


def voicemail(call, reason=""):
    response = VoiceResponse()
    if reason == "closed":
        say(response, gettext("Please leave a message after the beep, and we will call you back."))
    else:
        say(
            response,
            gettext(
                "Sorry, none of our advisors can take your call right now. "
                "Please leave a message after the beep, and we will call you back."
            ),
        )
    transcription = {}
    if settings.SUPPORT_TRANSCRIBE_VOICEMAIL:
        transcription = {
            "transcribe": True,
            "transcribe_callback": url("support:voicemail-transcript", call.pk),
        }
    response.record(
        max_length=settings.SUPPORT_VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        timeout=5,
        finish_on_key="#",
        # Not this URL: Twilio would play the prompt and record again, forever.
        action=url("support:voicemail-done", call.pk),
        method="POST",
        recording_status_callback=url("support:voicemail-recording", call.pk),
        recording_status_callback_event="completed",
        recording_status_callback_method="POST",
        **transcription,
    )
    say(response, gettext("We did not get a message. Goodbye."))
    response.hangup()
    return response


def goodbye(text):
    response = VoiceResponse()
    say(response, text)
    response.hangup()
    return response


def _about(call):
    return f" about order {call.order_number}" if call.order_number else ""


def agent_screen(call, offer_id, said=()):
    """What an agent hears on picking up: who it is, what they said to the ordering line
    (`said`: support.calls.what_they_said), and press 1 to take it.

    A voicemail that answered the ring presses nothing: the Gather runs out, the
    leg hangs up, and the next agent is rung (calls.record_agent_outcome)."""
    response = VoiceResponse()
    heard = f" They said: {' ... '.join(said)}." if said else ""
    if call.callback_of_id:
        prompt = (
            f"Call-back to a customer who asked for one on hold{_about(call)}.{heard} "
            "Press 1 to call them now."
        )
    elif call.direction == call.Direction.CALLBACK:
        prompt = f"Call-back to a customer{_about(call)}. Press 1 to call them now."
    else:
        prompt = f"Customer on the line{_about(call)}.{heard} Press 1 to take the call."
    gather = response.gather(
        num_digits=1, timeout=6, action=url("support:agent-accept", offer_id), method="POST"
    )
    gather.say(prompt)
    response.say("No key pressed. Goodbye.")
    response.hangup()
    return response


def agent_whisper(call, screened=False):
    """What the agent hears on taking the call, then the caller's conference."""
    response = VoiceResponse()
    if call.direction == call.Direction.CALLBACK:
        response.say(f"Calling the customer back{_about(call)}. Please hold. Press star to leave.")
    elif screened:
        response.say("Connecting you. Press star to leave.")
    else:
        response.say(f"Customer on the line{_about(call)}, press star to leave.")
    return _join_conference(response, call, hangup_on_star=True)


def customer_called_back(call):
    """The customer's leg of a call-back: straight into the agent's conference."""
    response = VoiceResponse()
    say(
        response,
        gettext("Hello, this is %(shop)s returning your call.") % {"shop": settings.SHOP_NAME},
    )
    return _join_conference(response, call)


def _join_conference(response, call, **dial_options):
    """Into the call's conference, starting it, and ending it on leaving."""
    response.dial(**dial_options).conference(
        call.conference_name,
        start_conference_on_enter=True,
        end_conference_on_exit=True,
        beep=False,
    )
    return response


def notice(message):
    response = VoiceResponse()
    response.pause(length=1)
    say(response, message)
    response.pause(length=1)
    say(response, message)
    response.hangup()
    return response
