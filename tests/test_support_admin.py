"""Staff screens: agents, calls, the call-back list; "call back" and voice notices."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from support import board, callbacks, notices
from support.models import AgentOffer, SupportCall, Voicemail, VoiceNotice
from tests.factories import AgentFactory, OrderFactory, SupportCallFactory, VoicemailFactory
from tests.test_support_line import Line, spoken, twiml_schema  # noqa: F401

CUSTOMER = "+14155550177"


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def line(twilio, django_capture_on_commit_callbacks, twiml_schema, outbox, db):  # noqa: F811
    return Line(twilio, django_capture_on_commit_callbacks, twiml_schema, outbox)


def _rows(n):
    agents = AgentFactory.create_batch(2)
    for i in range(n):
        call = SupportCallFactory(
            agent=agents[i % 2], status=SupportCall.Status.COMPLETED,
            answered_at=timezone.now(), ended_at=timezone.now(),
        )  # fmt: skip
        VoicemailFactory(call=SupportCallFactory(status=SupportCall.Status.COMPLETED))
        AgentOffer.objects.create(call=call, agent=agents[i % 2], status="completed")


@pytest.mark.parametrize("model", ["agent", "supportcall", "voicemail", "voicenotice"])
def test_list_pages_run_a_fixed_number_of_queries(
    admin_client, model, django_assert_max_num_queries
):
    url = reverse(f"admin:support_{model}_changelist")
    _rows(2)
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(url).status_code == 200
    _rows(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(url).status_code == 200


def test_agent_list_counts_calls_answered_today(admin_client):
    agent = AgentFactory(name="Maria")
    SupportCallFactory.create_batch(3, agent=agent, answered_at=timezone.now())

    page = admin_client.get(reverse("admin:support_agent_changelist")).content.decode()

    assert "Maria" in page
    assert '<td class="field-answered_today">3</td>' in page


def test_call_page_shows_wait_talk_and_history(admin_client, line):
    AgentFactory()
    line.ask_for_advisor()
    call = SupportCall.objects.get()

    page = admin_client.get(reverse("admin:support_supportcall_change", args=[call.pk]))

    assert page.status_code == 200
    assert b"offered" in page.content


def test_marking_a_voicemail_done_records_who_handled_it(admin_client, staff):
    voicemail = VoicemailFactory()

    admin_client.post(
        reverse("admin:support_voicemail_changelist"),
        {"action": "mark_done", "_selected_action": [voicemail.pk]},
    )

    voicemail.refresh_from_db()
    assert voicemail.done_by == staff and voicemail.done_at is not None
    assert list(board.voicemails_waiting()) == []


def test_call_back_rings_the_staff_members_phone_then_bridges_the_customer(
    admin_client, staff, line, outbox, django_capture_on_commit_callbacks
):
    agent = AgentFactory(user=staff, on_shift=False)
    voicemail = VoicemailFactory(call__caller_number=CUSTOMER, call__order_number="1042")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:support_voicemail_changelist"),
            {"action": "call_back", "_selected_action": [voicemail.pk]},
        )
    [ring] = [r for r in outbox if r.kind == "call"]
    assert ring.to == agent.phone
    offer = AgentOffer.objects.get(agent=agent)

    whisper = line.agent_answers(offer)
    customer_leg = [r for r in outbox if r.kind == "call"][-1]
    answer = line.post(customer_leg.url, CallSid=customer_leg.sid, To=CUSTOMER)

    call = SupportCall.objects.get(direction=SupportCall.Direction.CALLBACK)
    assert "Calling the customer back about order 1042" in spoken(whisper.xml)
    assert customer_leg.to == CUSTOMER
    assert whisper.xml.find("Dial/Conference").text == call.conference_name
    assert answer.xml.find("Dial/Conference").text == call.conference_name
    assert "returning your call" in spoken(answer.xml)
    assert CUSTOMER not in call.conference_name
    assert (call.status, call.agent, call.call_sid) == (
        SupportCall.Status.CONNECTED, agent, customer_leg.sid,
    )  # fmt: skip


def test_a_call_back_the_customer_does_not_answer_tells_the_agent(
    admin_client, staff, line, outbox, django_capture_on_commit_callbacks
):
    agent = AgentFactory(user=staff)
    voicemail = VoicemailFactory(call__caller_number=CUSTOMER)
    with django_capture_on_commit_callbacks(execute=True):
        callbacks.start_callback(voicemail, agent)
    offer = AgentOffer.objects.get(agent=agent)
    line.agent_answers(offer)
    customer_leg = [r for r in outbox if r.kind == "call"][-1]

    line.caller_leg("no-answer", sid=customer_leg.sid)

    [redirect] = [r for r in outbox if r.kind == "update_call"]
    offer.refresh_from_db()
    assert redirect.sid == offer.sid
    told = line.post(redirect.url, CallSid=offer.sid)
    assert "did not answer" in spoken(told.xml)


def test_call_back_without_an_agent_phone_says_so(admin_client, outbox):
    voicemail = VoicemailFactory()
    response = admin_client.post(
        reverse("admin:support_voicemail_changelist"),
        {"action": "call_back", "_selected_action": [voicemail.pk]},
        follow=True,
    )
    assert b"no active support agent" in response.content
    assert outbox == []


# --- voice notices ---------------------------------------------------------------------


def test_a_voice_notice_speaks_the_stored_message_by_id(line, outbox):
    with line.capture(execute=True):
        notice = notices.place_voice_notice("(415) 555-0177", "Your pizza is at the door.")

    [placed] = [r for r in outbox if r.kind == "call"]
    assert placed.to == CUSTOMER
    assert placed.url == "https://pizza.example.com" + reverse(
        "support:notice-answer", args=[notice.pk]
    )
    answer = line.post(placed.url, CallSid=placed.sid)
    assert "Your pizza is at the door." in spoken(answer.xml)

    line.post(placed.status_callback, CallSid=placed.sid, CallStatus="completed")
    line.post(placed.status_callback, CallSid=placed.sid, CallStatus="ringing")  # late
    assert VoiceNotice.objects.get().status == "completed"


def test_a_voice_notice_to_no_number_fails_without_a_call(db, outbox):
    notice = notices.place_voice_notice("not a number", "Hello")
    assert notice.status == "failed"
    assert outbox == []


def test_a_voice_notice_can_be_recorded(line, outbox):
    with line.capture(execute=True):
        notice = notices.place_voice_notice(CUSTOMER, "Hello", record=True)
    [placed] = [r for r in outbox if r.kind == "call"]
    assert placed.record is True

    line.post(
        placed.recording_status_callback, CallSid=placed.sid, RecordingStatus="completed",
        RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE3",
    )  # fmt: skip

    notice.refresh_from_db()
    assert notice.recording_url.endswith("/RE3")


def test_voicemail_waiting_list_is_oldest_first(db):
    first = VoicemailFactory()
    second = VoicemailFactory()
    assert list(Voicemail.objects.filter(done_at__isnull=True)) == [first, second]
    assert list(board.voicemails_waiting()) == [first, second]


def test_order_admin_can_call_the_customer_with_the_orders_status(
    admin_client, outbox, django_capture_on_commit_callbacks
):
    order = OrderFactory(customer__phone=CUSTOMER, status="baking")
    finished = OrderFactory(status="picked_up")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:orders_order_changelist"),
            {
                "action": "call_customer_with_order_status",
                "_selected_action": [order.pk, finished.pk],
            },
            follow=True,
        )

    assert b"Calling 1 customer(s)" in response.content
    [placed] = [r for r in outbox if r.kind == "call"]
    notice = VoiceNotice.objects.get()
    assert (placed.to, notice.about) == (CUSTOMER, order)
    assert f"Order {order.number} is in the oven." in notice.message


def test_the_voice_notice_task_places_the_call(db, outbox, django_capture_on_commit_callbacks):
    from support.tasks import place_voice_notice

    with django_capture_on_commit_callbacks(execute=True):
        place_voice_notice.enqueue(CUSTOMER, "Your order is ready.")

    notice = VoiceNotice.objects.get()
    assert (notice.to_number, notice.message) == (CUSTOMER, "Your order is ready.")
    assert [r.to for r in outbox if r.kind == "call"] == [CUSTOMER]
