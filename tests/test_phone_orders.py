"""Ordering by phone: what the caller says goes through the same parser and conversation as a
text, through signed webhooks as Twilio posts them (`SpeechResult`, `Confidence`, `Digits`),
every TwiML answer valid against Twilio's XSD, and no REST call made inside a webhook."""

import io

import pytest
import xmlschema
from django.urls import reverse

from orders import demo
from orders.models import Customer, Order, Quote
from support.models import CallEvent, SupportCall
from telephony.models import Message
from tests.factories import AgentFactory

from .test_missed_calls import later
from .test_support_line import CALLER, CALLER_SID, XSD, Line, spoken, verbs


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema10(str(XSD))


@pytest.fixture
def line(twilio, django_capture_on_commit_callbacks, schema, outbox, db, two_pm):
    demo.seed(io.StringIO())
    return Line(twilio, django_capture_on_commit_callbacks, schema, outbox)


def call():
    return SupportCall.objects.get(call_sid=CALLER_SID)


def say(line, speech, *, first=False, confidence="0.92", caller=CALLER):
    """The caller says `speech`: to the greeting's Gather (first) or to the last prompt."""
    path = reverse("support:menu") if first else reverse("support:order", args=[call().pk])
    return line.post(
        path, CallSid=CALLER_SID, From=caller, SpeechResult=speech, Confidence=confidence
    )


def press(line, digits):
    return line.post(
        reverse("support:order", args=[call().pk]), CallSid=CALLER_SID, From=CALLER, Digits=digits
    )


def sms_to_caller(outbox):
    return [r.body for r in outbox if r.kind == "sms" and r.to == CALLER]


def test_the_greeting_listens_for_speech_with_the_menus_names_as_hints(line):
    gather = line.call_in().xml.find("Gather")
    assert gather.get("input") == "speech dtmf"
    assert "Pepperoni" in gather.get("hints") and "large" in gather.get("hints")


def test_a_pickup_order_by_voice_is_read_back_confirmed_with_1_and_placed(line, outbox):
    line.call_in()

    readback = say(line, "uh can I get two large pepperoni for pickup", first=True)

    heard = spoken(readback.xml)
    assert "You'd like 2 large Pepperoni." in heard
    assert "For pickup." in heard and "The total is 32 dollars." in heard
    gather = readback.xml.find("Gather")
    assert "Say yes or press 1 to place it. Say change or press 2 to start again." in spoken(gather)
    assert gather.get("action").endswith(reverse("support:order", args=[call().pk]))
    assert not Order.objects.exists() and outbox == []  # nothing placed, nothing sent yet

    placed = press(line, "1")

    order = Order.objects.get()
    assert [(i.quantity, i.name, i.size) for i in order.items.all()] == [(2, "Pepperoni", "L")]
    assert f"Your order number is {order.number}." in spoken(placed.xml)
    assert "ready for pickup about" in spoken(placed.xml)
    assert verbs(placed.xml)[-1] == "Hangup"
    (text,) = sms_to_caller(outbox)  # the confirmation, with the order page's link
    assert f"Order #{order.number} is in" in text and "/o/" in text
    assert [r.kind for r in outbox] == ["sms"]  # no call was made from a webhook
    assert call().order == order


def test_saying_yes_places_it_too(line):
    line.call_in()
    say(line, "one large pepperoni", first=True)
    placed = say(line, "yes please")
    assert "Your order number is" in spoken(placed.xml)
    assert Order.objects.count() == 1


def test_saying_change_starts_again_and_only_what_was_read_back_is_placed(line):
    line.call_in()
    say(line, "two large pepperoni", first=True)

    again = say(line, "change")
    assert "OK, let's start again. What would you like?" in spoken(again.xml)
    assert Quote.objects.get().state == Quote.State.DECLINED

    say(line, "one medium margherita")
    press(line, "1")
    order = Order.objects.get()
    assert [(i.name, i.size) for i in order.items.all()] == [("Margherita", "M")]


def test_pressing_2_also_starts_again(line):
    line.call_in()
    say(line, "two large pepperoni", first=True)
    assert "start again" in spoken(press(line, "2").xml)
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("speech", "quantity"),
    [("for large pepperoni", 4), ("too large pepperonis", 2), ("won large pepperoni", 1)],
)
def test_numbers_the_recognizer_writes_as_words_that_sound_like_them(line, speech, quantity):
    line.call_in()
    readback = say(line, speech, first=True)
    assert f"You'd like {quantity} large Pepperoni." in spoken(readback.xml)


def test_a_delivery_by_voice_asks_for_the_address_and_reads_it_back(line):
    line.call_in()
    asked = say(line, "two large pepperoni delivered", first=True)
    assert "Where should we deliver?" in spoken(asked.xml)

    readback = say(line, "12 Main Street")

    heard = spoken(readback.xml)
    assert "Delivered to 12 Main Street." in heard and "The total is" in heard
    press(line, "1")
    order = Order.objects.get()
    assert (order.fulfilment, order.address) == ("delivery", "12 Main Street")


def test_a_returning_caller_is_offered_their_usual_and_a_yes_quotes_it(line, sms):
    sms(CALLER, "1 large pepperoni with mushrooms")
    sms(CALLER, "YES")

    greeting = line.call_in()

    heard = spoken(greeting.xml.find("Gather"))
    assert heard.startswith(
        "Welcome back. Would you like your usual, 1 large Pepperoni with Mushrooms? Say yes"
    )
    readback = say(line, "yes", first=True)
    assert "Your usual: 1 large Pepperoni with Mushrooms." in spoken(readback.xml)
    assert Order.objects.count() == 1  # a yes quotes it; only the next yes places it
    placed = say(line, "yes")
    assert "Your order number is" in spoken(placed.xml)
    assert Order.objects.count() == 2


def test_a_returning_caller_can_ask_for_the_usual(line, sms):
    sms(CALLER, "1 large pepperoni with mushrooms")
    sms(CALLER, "YES")
    customer = Customer.objects.get(phone=CALLER)
    line.call_in()
    readback = say(line, "the usual", first=True)
    assert "Your usual: 1 large Pepperoni with Mushrooms." in spoken(readback.xml)
    press(line, "1")
    assert Order.objects.filter(customer=customer).count() == 2


def test_asking_for_a_person_goes_to_the_agents_hunt(line):
    AgentFactory()
    line.call_in()
    response = say(line, "can I talk to a person", first=True)
    assert response.xml.find("Dial/Conference") is not None  # on hold, an agent rung
    assert call().status == SupportCall.Status.RINGING_AGENT


def test_pressing_0_goes_to_a_person(line):
    line.call_in()
    response = line.post(reverse("support:menu"), CallSid=CALLER_SID, From=CALLER, Digits="0")
    assert response.xml.find("Record") is not None  # nobody on shift: voicemail


def test_two_misunderstandings_in_a_row_go_to_a_person(line):
    line.call_in()
    first = say(line, "blah blah something", first=True)
    assert "Sorry, I didn't catch that." in spoken(first.xml)
    second = say(line, "mumble mumble")
    assert second.xml.find("Record") is not None
    said = CallEvent.objects.filter(kind=CallEvent.Kind.SAID).order_by("pk")
    assert [e.detail["said"] for e in said] == ["blah blah something", "mumble mumble"]
    assert (
        not Message.objects.filter(direction="in", body__contains="blah")
        .exclude(channel="voice")
        .exists()
    )


def test_a_low_confidence_result_is_asked_again_not_acted_on(line):
    line.call_in()
    response = say(line, "two large pepperoni", first=True, confidence="0.05")
    assert "Sorry, I didn't hear anything" in spoken(response.xml)
    assert not Quote.objects.exists()


def test_what_a_caller_said_is_in_their_message_log(line):
    line.call_in()
    say(line, "one large pepperoni", first=True)
    said = Message.objects.get(direction="in", channel="voice")
    assert (said.from_number, said.body, said.handled_at is not None) == (
        CALLER, "one large pepperoni", True,
    )  # fmt: skip


def test_a_withheld_caller_cannot_order_and_gets_a_person(line):
    line.call_in(caller="anonymous")
    response = say(line, "one large pepperoni", first=True, caller="anonymous")
    assert response.xml.find("Record") is not None
    assert not Quote.objects.exists()


def test_press_9_for_spanish_is_remembered_and_the_order_is_heard_in_spanish(line):
    line.call_in()
    greeting = line.post(reverse("support:menu"), CallSid=CALLER_SID, From=CALLER, Digits="9")
    gather = greeting.xml.find("Gather")
    assert gather.get("language") == "es-US"
    assert Customer.objects.get(phone=CALLER).language == "es"

    readback = say(line, "dos pizzas grandes de pepperoni")

    assert "Pepperoni" in spoken(readback.xml) and "dólares" in spoken(readback.xml)
    press(line, "1")
    assert Order.objects.count() == 1


def test_a_quote_by_voice_is_the_same_quote_as_by_text(line, sms):
    line.call_in()
    say(line, "two large pepperoni", first=True)
    by_voice = Quote.objects.get()
    sms("+14155550177", "two large pepperoni")
    by_text = Quote.objects.exclude(pk=by_voice.pk).get()
    assert (by_voice.lines, by_voice.total) == (by_text.lines, by_text.total)


def test_the_agent_and_the_board_hear_what_the_caller_asked_for(line, admin_client):
    AgentFactory()
    line.call_in()
    say(line, "do you have gluten free crust", first=True)  # not understood: asked again
    say(line, "I want to talk to somebody about my allergy")  # a person
    (offer,) = call().offers.all()

    screen = line.agent_picks_up(offer)

    heard = spoken(screen.xml)
    assert "They said: do you have gluten free crust ... I want to talk to somebody" in heard
    board = admin_client.get(reverse("board:panel", args=["support"])).content.decode()
    assert "I want to talk to somebody about my allergy" in board


def test_a_caller_who_ordered_by_voice_is_not_texted_as_missed(line, outbox):
    from support.missed import text_missed_calls

    line.call_in()
    say(line, "one large pepperoni", first=True)
    press(line, "1")
    line.caller_leg("completed")  # the shop said goodbye and hung up
    with line.capture(execute=True):
        text_missed_calls(later())
    order = Order.objects.get()
    assert [b[: len(f"Thanks! Order #{order.number}")] for b in sms_to_caller(outbox)] == [
        f"Thanks! Order #{order.number}"
    ]  # the confirmation only, no "sorry we missed your call"


def test_hanging_up_mid_order_places_nothing_and_is_texted_as_missed(line, outbox):
    from support.missed import text_missed_calls

    line.call_in()
    say(line, "two large pepperoni", first=True)
    line.caller_leg("completed")
    with line.capture(execute=True):
        text_missed_calls(later())
    assert not Order.objects.exists()
    assert Quote.objects.get().state == Quote.State.PENDING  # a text YES could still place it
    (text,) = sms_to_caller(outbox)
    assert text.startswith("Sorry we missed your call")


def test_an_order_for_later_by_voice(line):
    line.call_in()
    readback = say(line, "a large pepperoni for pickup at 7 pm", first=True)
    assert "For pickup at 7:00 PM." in spoken(readback.xml)
    press(line, "1")
    assert Order.objects.get().is_scheduled


def test_a_delivery_outside_the_area_offers_pickup(line, settings):
    from orders import shop

    settings.DELIVERY_ZIP_CODES = ["94110"]
    shop.forget()
    line.call_in()
    said = say(line, "two large pepperoni delivered to 12 main street 10001", first=True)
    assert "Sorry, we don't deliver to 10001." in spoken(said.xml)
    assert "say the order again for pickup" in spoken(said.xml)
    readback = say(line, "two large pepperoni for pickup")
    assert "For pickup." in spoken(readback.xml)


@pytest.mark.parametrize(
    ("change", "heard"),
    [
        ("make it two", "You'd like 2 medium Pepperoni."),
        ("no large", "You'd like 1 large Pepperoni."),
        ("make it large", "You'd like 1 large Pepperoni."),
        ("and a coke", "You'd like 1 medium Pepperoni; 1 Coke."),
        ("with extra cheese", "You'd like 1 medium Pepperoni with Extra cheese."),
    ],
)
def test_the_read_back_takes_changes_by_voice(line, change, heard):
    line.call_in()
    say(line, "one medium pepperoni", first=True)

    readback = say(line, change)

    assert heard in spoken(readback.xml)
    assert "Say yes or press 1" in spoken(readback.xml)
    press(line, "1")
    assert Order.objects.count() == 1
