"""The order conversation by voice: one conversation, two channels.

What a caller says (Twilio's `SpeechResult`) goes through the same parser and the same
`Conversation` as a text (orders/conversation.py): the same quote, the same questions back,
the same rules for hours, sizes, the delivery area, minimums, scheduled times. Only the
words differ: replies come from templates/orders/voice/ (no keywords to text back), and a
quote is read back in words a listener can follow, its total in dollars and cents. What was
said is kept in the message log like a text (channel "voice", answered at once), so staff
see it in the customer's thread; a turn we could not read is not sent to staff's inbox, it
is asked again (the phone line hands the caller to a person after two in a row).

YES places only the quote that was read back, through the same service as a text order
(`Conversation.on_yes`); the caller hears the order number and the time, and gets the
confirmation text with the order page's link when their number may be texted.
"""

import re
from dataclasses import dataclass, replace

from django.conf import settings
from django.utils import timezone, translation

from telephony.models import Message
from telephony.reach import reason_not_to_text
from telephony.sms import send_sms

from . import services, texts
from .conversation import Conversation
from .models import Quote
from .parser import parse

# How Twilio's recognizer writes numbers before a size: "for large" is four large, "too
# large" two, "won large" one ("four large pizzas for pickup" keeps its "for pickup").
SIZES = r"(?:small|medium|large|extra large|personal|grandes?|medianas?|pequeñas?)"
HEARD_AS_NUMBERS = [
    (re.compile(rf"\b(?:for)\s+(?={SIZES}\b)", re.IGNORECASE), "four "),
    (re.compile(rf"\b(?:too|to)\s+(?={SIZES}\b)", re.IGNORECASE), "two "),
    (re.compile(rf"\b(?:won)\s+(?={SIZES}\b)", re.IGNORECASE), "one "),
]

CHANGE_WORDS_FIRST = re.compile(
    r"^(?:and|also|plus|add|y|with|con|sin|no|without|make|change|que sean|mejor|"
    r"remove|switch|actually)\b",
    re.IGNORECASE,
)
HUNDRED = re.compile(r"\b(?:(?:a|one)\s+)?(?:hundred|cien)\b", re.IGNORECASE)

# What a caller says to go back to a fresh order, in either language.
START_AGAIN_WORDS = {"change", "change it", "start again", "start over", "cambiar", "cambio", "no"}


@dataclass(frozen=True)
class Turn:
    say: str  # what the caller hears
    outcome: str  # "quoted", "placed", "asked", "understood" or "not_understood"
    order: object = None  # the order placed, when outcome is "placed"


class VoiceConversation(Conversation):
    channel = "voice"

    def render(self, name, **context):
        if name == "placed":  # "we've texted you a payment link" only to a number we may text
            context["textable"] = not reason_not_to_text(str(self.customer.phone))
        return super().render(name, **context)

    def on_chat(self, command):
        self.outcome = "not_understood"
        return self.render("not_understood")

    on_suggest = on_chat

    def on_yes(self, command):
        """Yes with no quote waiting is yes to the usual the greeting offered a returning
        caller ("Would you like your usual, ...?"): it is quoted and read back."""
        latest = services.latest_quote(self.customer)
        if latest is None or latest.state != Quote.State.PENDING:
            return self.on_reorder(replace(command, kind="reorder", scheduled_for=None))
        return super().on_yes(command)

    def on_no(self, command):
        Quote.objects.filter(customer=self.customer, state=Quote.State.PENDING).update(
            state=Quote.State.DECLINED
        )
        self.outcome = "asked"
        return self.render("declined")


def spoken_turn(number, speech, *, digits=""):
    """Answer what the caller at `number` said (or pressed: 1 is yes, 2 is change, while a
    quote waits). Returns a Turn."""
    said = heard_as(speech, services.menu().index)
    if digits in ("1", "2") and not said:
        said = "yes" if digits == "1" else "no"
    if said.lower().strip(".!? ") in START_AGAIN_WORDS:
        said = "no"
    if not said:
        return Turn("", "not_understood")
    message = Message.objects.create(
        direction=Message.Direction.INBOUND,
        channel=Message.Channel.VOICE,
        from_number=number,
        to_number=settings.TWILIO_PHONE_NUMBER,
        body=said,
        status=Message.Status.RECEIVED,
        handled_at=timezone.now(),
    )
    conversation = VoiceConversation(message)
    reply = conversation.reply()
    outcome = conversation.outcome or "understood"
    if outcome == "placed":
        _text_confirmation(conversation)
    return Turn(reply, outcome, conversation.order)


def heard_as(speech, index=None):
    """What the caller said, as the order parser reads it: one line; numbers that the
    recognizer wrote as words that sound like them, or in words ("one hundred"), put back;
    and, with the menu's `index`, what reads as an order once ORDER is put before it ("chicken
    wings", "100 large pepperoni") read so: everything a caller says is meant as an order,
    where a text of two words is not."""
    said = " ".join((speech or "").split())[:500]
    for pattern, number in HEARD_AS_NUMBERS:
        said = pattern.sub(number, said)
    said = HUNDRED.sub("100", said)
    if CHANGE_WORDS_FIRST.match(said):
        return said  # a change to the quote read back (orders/edits.py), not a new order
    if index is not None and parse(said, index).kind == "chat":
        ordered = f"order {said}"  # what a caller says is an order, as ORDER makes a text one
        command = parse(ordered, index)
        if command.kind == "order" and (command.lines or command.too_many) and not command.unknown:
            return ordered
    return said


def _text_confirmation(conversation):
    """The confirmation text, with the order page's link, to a number we may text."""
    order, customer = conversation.order, conversation.customer
    if reason_not_to_text(str(customer.phone)):
        return
    quote = services.latest_quote(customer)
    with translation.override(customer.language):
        body = texts.render_sms("placed", **texts.placed_context(order, quote, timezone.now()))
    send_sms(str(customer.phone), body, about=order, checked=True)


def sounds_like_an_order(speech):
    """Whether `speech` names something on the menu ("a pizza for someone" is an order, "can
    I talk to someone" is not)."""
    command = parse(speech, services.menu().index)
    return command.kind in ("order", "reorder") and bool(getattr(command, "lines", ()))


def hints(menu=None):
    """Words Twilio's recognizer should expect: the menu's item, topping and crust names and
    the sizes (`<Gather hints>`, at most 500 phrases)."""
    menu = menu or services.menu()
    words = [item.name for item in menu.items]
    words += ["small", "medium", "large", "pickup", "delivery", "thin crust", "a person"]
    return ", ".join(dict.fromkeys(words))[:4000]
