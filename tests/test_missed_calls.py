"""Every missed call becomes a text (support/missed.py), through signed webhooks as Twilio
sends them, the worker's minute sweep, and the outbox."""

import io
from datetime import timedelta

import pytest
import xmlschema
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from orders import demo
from orders.models import Customer
from support.missed import text_missed_calls
from support.models import CallEvent, SupportCall
from telephony.models import Message, OptOut
from tests.factories import AgentFactory, OrderFactory

from .test_support_line import CALLER, CALLER_SID, XSD, Line


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema10(str(XSD))


@pytest.fixture
def line(twilio, django_capture_on_commit_callbacks, schema, outbox, db):
    """The support line as Twilio drives it; every TwiML answer is checked against the XSD."""
    return Line(twilio, django_capture_on_commit_callbacks, schema, outbox)


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """The worker's minute sweep at `now` (default: when the text is due), with what it
    queues sent at commit. Returns how many callers it texted."""

    def run(now=None):
        with django_capture_on_commit_callbacks(execute=True):
            return text_missed_calls(now or later())

    return run


@pytest.fixture
def menu(db):
    demo.seed(io.StringIO())


SORRY = "Sorry we missed your call. You can order by text right here, e.g. 2 large pepperoni"


def later(seconds=31):
    return timezone.now() + timedelta(seconds=seconds)


def texts_to(number):
    return list(
        Message.objects.filter(direction="out", to_number=number, sid__isnull=False).values_list(
            "body", flat=True
        )
    )


def call_and_hang_up(line, sid=CALLER_SID, caller=CALLER, press=None):
    line.call_in(sid, caller)
    if press is not None:
        line.press(press, sid)
    line.caller_leg("completed", sid)
    line.caller_leg("completed", sid)  # Twilio may post a final status twice
    return SupportCall.objects.get(call_sid=sid)


def test_a_caller_who_hangs_up_in_the_menu_is_texted_once(line, sweep):
    call_and_hang_up(line)
    assert sweep(timezone.now()) == 0  # not yet: a voicemail may still be posted

    assert sweep() == 1
    assert sweep(later(120)) == 0  # once, however often the sweep runs

    (text,) = texts_to(CALLER)
    assert text.startswith(SORRY) and "reply MENU" in text
    call = SupportCall.objects.get()
    assert list(call.events.filter(kind=CallEvent.Kind.MISSED_TEXTED)) != []


def test_a_caller_who_hangs_up_on_hold_is_texted(line, sweep):
    AgentFactory()
    line.ask_for_advisor()
    line.caller_leg("completed")

    assert sweep() == 1
    assert [t[:25] for t in texts_to(CALLER)] == [SORRY[:25]]


def test_a_caller_offered_voicemail_who_left_none_is_texted(line, sweep):
    AgentFactory(on_shift=False)
    line.ask_for_advisor()
    line.caller_leg("completed")

    assert sweep() == 1


def test_a_voicemail_posted_after_the_hang_up_means_no_text(line, sweep):
    AgentFactory(on_shift=False)
    line.ask_for_advisor()
    call = SupportCall.objects.get()
    line.caller_leg("completed")  # the hang-up's status first...
    line.post(  # ...then the recording (callbacks come in any order)
        reverse("support:voicemail-recording", args=[call.pk]),
        CallSid=CALLER_SID, RecordingSid="RE" + "1" * 32, RecordingStatus="completed",
        RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        RecordingDuration="9",
    )  # fmt: skip

    assert sweep() == 0
    assert texts_to(CALLER) == []
    assert not CallEvent.objects.filter(kind__startswith="missed").exists()  # not missed


def test_a_caller_who_heard_their_orders_status_is_not_texted(line, sweep):
    OrderFactory(customer__phone=CALLER)
    call_and_hang_up(line, press="1")
    assert sweep() == 0
    assert texts_to(CALLER) == []


def test_a_caller_an_agent_answered_is_not_texted(line, sweep):
    agent = AgentFactory()
    line.ask_for_advisor()
    (offer,) = SupportCall.objects.get().offers.all()
    line.agent_answers(offer)
    line.caller_leg("completed")

    assert sweep() == 0
    assert agent and texts_to(CALLER) == []


@pytest.mark.parametrize(
    ("caller", "why"),
    [
        ("anonymous", "withheld"),
        ("+19005550123", "premium"),
        ("+447700900123", "country"),
        (CALLER, "opted out"),
    ],
)
def test_a_number_we_may_not_text_is_never_texted(line, outbox, caller, why, sweep):
    OptOut.objects.create(phone_number=CALLER, keyword="STOP")
    call_and_hang_up(line, caller=caller)

    assert sweep() == 0

    assert [r for r in outbox if r.kind == "sms"] == []
    assert not Message.objects.filter(direction="out").exists()


def test_a_second_missed_call_within_the_hours_gets_no_second_text(line, settings, sweep):
    call_and_hang_up(line, sid="CA" + "1" * 32)
    assert sweep() == 1
    call_and_hang_up(line, sid="CA" + "2" * 32)
    assert sweep() == 0
    event = CallEvent.objects.get(kind=CallEvent.Kind.MISSED_NOT_TEXTED)
    assert f"last {settings.MISSED_CALL_TEXT_HOURS} hours" in event.detail["reason"]


def test_texts_can_be_turned_off(line, settings, sweep):
    settings.MISSED_CALL_TEXT = False
    call_and_hang_up(line)
    assert sweep() == 0
    assert texts_to(CALLER) == []


def test_a_spanish_customer_is_texted_in_spanish(line, sweep):
    Customer.objects.create(phone=CALLER, language="es")
    call_and_hang_up(line)
    sweep()
    (text,) = texts_to(CALLER)
    assert text.startswith("Perdón") or text.startswith("Lo sentimos"), text


def test_the_reply_to_the_text_is_an_ordinary_conversation(line, sms, menu, sweep):
    call_and_hang_up(line)
    sweep()

    reply = sms(CALLER, "2 large pepperoni")

    assert "Reply YES" in " ".join(reply.replies)


def test_the_worker_sends_it_on_its_own(line, settings):
    settings.MISSED_CALL_TEXT_DELAY_SECONDS = 0
    call_and_hang_up(line)

    call_command("telephony_worker", "--once")

    assert len(texts_to(CALLER)) == 1


def test_the_board_and_the_reports_count_missed_calls_and_the_orders_after(
    line, sweep, sms, menu, admin_client
):
    from staff.reports.services import day_report, today

    call_and_hang_up(line, sid="CA" + "1" * 32)  # texted
    sweep()
    OptOut.objects.create(phone_number="+14155550177", keyword="STOP")
    call_and_hang_up(line, sid="CA" + "2" * 32, caller="+14155550177")  # missed, not texted
    sweep()
    sms(CALLER, "2 large pepperoni")
    sms(CALLER, "YES")  # the order that followed the text

    board = admin_client.get(reverse("board:panel", args=["support"])).content.decode()
    assert "Missed calls today: <b>2</b>" in board and "1 texted" in board
    calls = day_report(today()).calls
    assert (calls["missed"], calls["missed_texted"], calls["orders_after_missed"]) == (2, 1, 1)
    page = admin_client.get(reverse("reports:day")).content.decode()
    assert "orders placed after such a text: <strong>1</strong>" in page
