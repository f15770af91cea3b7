"""The staff board at /staff/: orders by stage, moves through the one door, the inbox, the
support panel, a customer's thread. Fixed queries however many orders there are."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Fulfilment, Inquiry, Order, OrderEvent
from orders.models import Status as S
from support.models import Agent, SupportCall
from telephony.models import Message, OptOut
from tests.factories import (
    AgentFactory,
    CustomerFactory,
    OrderFactory,
    SupportCallFactory,
    VoicemailFactory,
)

BOARD = "/staff/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def staff(django_user_model):
    """Front desk: may do everything on the board (staff/board/access.py)."""
    from django.contrib.auth.models import Group

    from staff.board.access import ensure_groups

    ensure_groups()
    user = django_user_model.objects.create(username="maria", is_staff=True)
    user.groups.add(Group.objects.get(name="Front desk"))
    return user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def texts_after_commit(django_capture_on_commit_callbacks):
    """Run what a request queued after commit (the texts), as production would."""

    def run(send, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return send(*args, **kwargs)

    return run


def move(client, order, to, **headers):
    return client.post(reverse("board:move", args=[order.pk]), {"to": to}, headers=headers)


def inquiry_from(customer, body):
    message = Message.objects.create(
        direction=Message.Direction.INBOUND, from_number=str(customer.phone),
        to_number="+15005550006", body=body, status=Message.Status.RECEIVED,
    )  # fmt: skip
    return Inquiry.objects.create(message=message, customer=customer)


# --- who may see it ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_board_sends_visitors_to_the_admin_login(client):
    response = client.get(BOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_a_logged_in_user_who_is_not_staff_is_sent_to_the_login_too(client, django_user_model):
    client.force_login(django_user_model.objects.create(username="cook", is_staff=False))
    assert client.get(BOARD).status_code == 302
    order = OrderFactory()
    assert move(client, order, S.PREPARING).status_code == 302
    order.refresh_from_db()
    assert order.status == S.RECEIVED


@pytest.mark.django_db
def test_a_poll_after_the_session_ended_asks_the_page_to_go_to_the_login(client):
    response = client.get(reverse("board:panel", args=["orders"]), headers=HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_moves_without_the_csrf_token_are_refused(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    order = OrderFactory()
    assert move(client, order, S.PREPARING).status_code == 403
    order.refresh_from_db()
    assert order.status == S.RECEIVED


# --- orders ------------------------------------------------------------------------------


def column_of(response, order):
    """The column key whose cards include `order` (read from the rendered page)."""
    html = response.content.decode()
    card = html.index(f'id="order-{order.pk}"')
    return html[:card].rsplit('data-stage="', 1)[1].split('"', 1)[0]


@pytest.mark.django_db
def test_active_orders_are_cards_in_their_stage_columns(staff_client):
    received = OrderFactory()
    baking = OrderFactory(status=S.BAKING)
    out = OrderFactory(
        status=S.OUT_FOR_DELIVERY, fulfilment=Fulfilment.DELIVERY, address="12 Main St"
    )
    done = OrderFactory(status=S.PICKED_UP)
    response = staff_client.get(BOARD)
    assert response.status_code == 200
    assert column_of(response, received) == "received"
    assert column_of(response, baking) == "baking"
    assert column_of(response, out) == "ready_for_pickup"  # the column of the step both share
    html = response.content.decode()
    assert f"#{done.number}" not in html
    assert "1×</b> Pepperoni" in html and "12 Main St" in html and "Delivery" in html


@pytest.mark.django_db
def test_a_card_shows_the_age_of_the_order_and_of_its_stage(staff_client):
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=25))
    OrderEvent.objects.create(order=order, kind="status", from_status="received",
                              to_status="received", actor="staff")  # fmt: skip
    html = staff_client.get(BOARD).content.decode()
    assert "25 min old" in html
    assert "&lt;1 min in stage" in html


@pytest.mark.django_db
def test_an_order_past_its_promised_time_is_marked_late(staff_client):
    late = OrderFactory(promised_at=timezone.now() - timedelta(minutes=3))
    soon = OrderFactory(promised_at=timezone.now() + timedelta(minutes=2))
    on_time = OrderFactory(promised_at=timezone.now() + timedelta(minutes=30))
    html = staff_client.get(BOARD).content.decode()
    assert f'class="card late" id="order-{late.pk}"' in html
    assert f'class="card soon" id="order-{soon.pk}"' in html
    assert f'class="card " id="order-{on_time.pk}"' in html
    assert html.count("LATE") == 1


@pytest.mark.django_db
def test_one_click_moves_a_card_through_the_one_door_and_texts_the_customer(
    staff_client, staff, outbox, texts_after_commit, settings
):
    settings.ORDER_SMS_STAGES = ["baking"]
    order = OrderFactory(status=S.PREPARING)
    response = texts_after_commit(move, staff_client, order, S.BAKING, **HTMX)
    assert response.status_code == 200
    assert column_of(response, order) == "baking"
    assert (
        f"Order #{order.number} is now Baking; the customer was texted."
        in response.content.decode()
    )
    event = order.events.get(to_status=S.BAKING)
    assert (event.user, event.from_status, event.notified) == (staff, S.PREPARING, True)
    assert [(r.to, "in the oven" in r.body) for r in outbox] == [(str(order.customer.phone), True)]


@pytest.mark.django_db
def test_without_javascript_a_move_redirects_back_to_the_board_with_the_notice(staff_client):
    order = OrderFactory()
    response = move(staff_client, order, S.PREPARING)
    assert response.status_code == 302 and response["Location"] == BOARD
    assert f"Order #{order.number} is now Preparing" in staff_client.get(BOARD).content.decode()


@pytest.mark.django_db
def test_a_move_someone_else_already_made_shows_a_clear_message_and_changes_nothing(
    staff_client, outbox, texts_after_commit
):
    order = OrderFactory(status=S.PREPARING)
    texts_after_commit(move, staff_client, order, S.BAKING, **HTMX)
    outbox.clear()
    # A second tablet still showed the card in Preparing and clicks "Into the oven" again.
    response = texts_after_commit(move, staff_client, order, S.BAKING, **HTMX)
    assert response.status_code == 200
    assert f"Order #{order.number} is already Baking." in response.content.decode()
    assert order.events.filter(to_status=S.BAKING).count() == 1
    assert outbox == []


@pytest.mark.django_db
def test_a_move_the_state_machine_refuses_is_explained(staff_client):
    order = OrderFactory(status=S.RECEIVED)
    response = move(staff_client, order, S.PICKED_UP, **HTMX)
    assert response.status_code == 200
    assert "cannot go from Received to Picked up" in response.content.decode()
    order.refresh_from_db()
    assert order.status == S.RECEIVED


@pytest.mark.django_db
def test_moving_an_order_that_is_gone_or_a_made_up_stage_is_a_message_not_an_error(staff_client):
    order = OrderFactory()
    assert (
        "no longer exists"
        in move(staff_client, Order(pk=999999), S.PREPARING, **HTMX).content.decode()
    )
    response = move(staff_client, order, "teleported", **HTMX)
    assert (
        response.status_code == 200
        and "not one of the available choices" in response.content.decode()
    )


@pytest.mark.django_db
def test_cancel_needs_a_reason_and_texts_it_to_the_customer(
    staff_client, outbox, texts_after_commit
):
    order = OrderFactory(status=S.BAKING)
    url = reverse("board:cancel", args=[order.pk])
    response = staff_client.post(url, {"reason": " "}, headers=HTMX)
    assert "Say why the order is cancelled" in response.content.decode()
    order.refresh_from_db()
    assert order.status == S.BAKING
    texts_after_commit(staff_client.post, url, {"reason": "the oven broke"}, headers=HTMX)
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.events.get(to_status=S.CANCELLED).reason == "the oven broke"
    assert "the oven broke" in outbox[-1].body


@pytest.mark.django_db
def test_the_board_and_its_panels_run_the_same_queries_for_3_or_30_orders(
    staff_client, django_assert_max_num_queries
):
    def fill(count):
        for index in range(count):
            customer = CustomerFactory()
            order = OrderFactory(
                customer=customer, status=[S.RECEIVED, S.BAKING, S.QUALITY_CHECK][index % 3]
            )
            OrderEvent.objects.create(
                order=order, kind="placed", to_status=order.status, actor="customer"
            )
            inquiry_from(customer, f"question {index}")
            AgentFactory(on_shift=index % 2 == 0)
            SupportCallFactory(status=SupportCall.Status.WAITING, waiting_since=timezone.now())
            VoicemailFactory()

    def count_queries(url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        return len(queries)

    urls = [BOARD] + [
        reverse("board:panel", args=[name]) for name in ("orders", "inbox", "support", "tonight")
    ]
    fill(3)
    few = [count_queries(url) for url in urls]
    fill(27)
    many = [count_queries(url) for url in urls]
    assert few == many
    # 12, today's missed calls, the drivers on shift, and tonight's panel: what is sold out,
    # the shop's settings (the pace, a pause) and the kitchen's queue
    with django_assert_max_num_queries(17):
        staff_client.get(BOARD)


# --- inbox -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_inbox_lists_waiting_messages_oldest_first_with_the_active_order(staff_client):
    first, second = CustomerFactory(), CustomerFactory()
    order = OrderFactory(customer=second, status=S.BAKING)
    inquiry_from(first, "Do you have gluten free?")
    inquiry_from(second, "Can you add extra cheese?")
    answered = inquiry_from(first, "never mind")
    Inquiry.objects.filter(pk=answered.pk).update(answered_at=timezone.now())
    html = staff_client.get(reverse("board:panel", args=["inbox"])).content.decode()
    assert html.index("gluten free") < html.index("extra cheese")
    assert f"#{order.number} Baking" in html
    assert "never mind" not in html


@pytest.mark.django_db
def test_a_reply_from_the_board_is_texted_and_answers_the_message(
    staff_client, staff, outbox, texts_after_commit
):
    customer = CustomerFactory()
    inquiry = inquiry_from(customer, "Do you have gluten free?")
    response = texts_after_commit(
        staff_client.post, reverse("board:reply", args=[inquiry.pk]),
        {"text": "Yes, a 10 inch gluten free base."}, headers=HTMX,
    )  # fmt: skip
    assert "queued to send" in response.content.decode()
    assert "No message is waiting" in response.content.decode()
    inquiry.refresh_from_db()
    assert inquiry.answered_by == staff and inquiry.reply.body == "Yes, a 10 inch gluten free base."
    assert [(r.to, r.body) for r in outbox] == [
        (str(customer.phone), "Yes, a 10 inch gluten free base.")
    ]


@pytest.mark.django_db
def test_an_empty_reply_sends_nothing_and_mark_done_answers_without_a_text(staff_client, outbox):
    inquiry = inquiry_from(CustomerFactory(), "thanks!")
    response = staff_client.post(
        reverse("board:reply", args=[inquiry.pk]), {"text": ""}, headers=HTMX
    )
    assert "Write a reply first" in response.content.decode()
    staff_client.post(reverse("board:inquiry-done", args=[inquiry.pk]), headers=HTMX)
    inquiry.refresh_from_db()
    assert inquiry.is_answered and inquiry.reply is None
    assert outbox == []


@pytest.mark.django_db
def test_a_reply_answers_the_message_it_sits_on_and_a_later_question_still_waits(
    staff_client, outbox, texts_after_commit
):
    customer = CustomerFactory()
    first = inquiry_from(customer, "Do you deliver to Elm Street?")
    second = inquiry_from(customer, "Also, is the garlic bread vegan?")
    response = texts_after_commit(
        staff_client.post, reverse("board:reply", args=[first.pk]),
        {"text": "Yes, we deliver to Elm Street."}, headers=HTMX,
    )  # fmt: skip
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_answered and first.reply.body == "Yes, we deliver to Elm Street."
    assert not second.is_answered
    assert "is the garlic bread vegan?" in response.content.decode()


@pytest.mark.django_db
def test_mark_done_closes_only_the_message_it_sits_on(staff_client):
    customer = CustomerFactory()
    first = inquiry_from(customer, "thanks!")
    second = inquiry_from(customer, "wait, one more thing")
    staff_client.post(reverse("board:inquiry-done", args=[second.pk]), headers=HTMX)
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_answered and not first.is_answered


# --- a customer's page -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_customer_page_shows_every_text_in_and_out_with_their_orders(staff_client):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer)
    phone = str(customer.phone)
    shop = "+15005550006"
    Message.objects.create(
        direction="in", from_number=phone, to_number=shop, body="ORDER 1 large pepperoni",
        status="received",
    )  # fmt: skip
    Message.objects.create(
        direction="out", from_number=shop, to_number=phone,
        body=f"Order #{order.number} is in the oven!", status="sent",
    )  # fmt: skip
    Message.objects.create(
        direction="out", from_number=shop, to_number="+14155550000", body="someone else's text",
        status="sent",
    )  # fmt: skip
    html = staff_client.get(reverse("board:customer", args=[customer.pk])).content.decode()
    assert html.index("ORDER 1 large pepperoni") < html.index("is in the oven!")
    assert "someone else" not in html
    assert f"#{order.number}</b> Received" in html


@pytest.mark.django_db
def test_staff_start_a_text_to_a_customer_from_their_page(staff_client, outbox, texts_after_commit):
    customer = CustomerFactory()
    response = texts_after_commit(
        staff_client.post,
        reverse("board:text", args=[customer.pk]),
        {"text": "Your usual tonight?"},
    )
    assert response.status_code == 302
    assert [(r.to, r.body) for r in outbox] == [(str(customer.phone), "Your usual tonight?")]
    page = staff_client.get(reverse("board:customer", args=[customer.pk])).content.decode()
    assert "Your usual tonight?" in page and "queued to send" in page


@pytest.mark.django_db
def test_the_customer_page_shows_the_messages_a_text_answers_and_closes_only_those(
    staff_client, outbox, texts_after_commit
):
    customer = CustomerFactory()
    first = inquiry_from(customer, "Do you deliver to Elm Street?")
    second = inquiry_from(customer, "And how late are you open?")
    page = staff_client.get(reverse("board:customer", args=[customer.pk])).content.decode()
    assert "This text answers" in page
    assert f'name="answers" value="{first.pk}" checked' in page
    assert f'name="answers" value="{second.pk}" checked' in page
    # A question that arrives while staff are typing was not on their screen.
    later = inquiry_from(customer, "Actually, can I pay cash?")
    texts_after_commit(
        staff_client.post, reverse("board:text", args=[customer.pk]),
        {"text": "Yes to Elm Street, open till 11.", "answers": [first.pk, second.pk]},
    )  # fmt: skip
    assert Inquiry.objects.filter(answered_at=None).get() == later
    first.refresh_from_db()
    assert first.reply.body == "Yes to Elm Street, open till 11."
    assert [r.body for r in outbox] == ["Yes to Elm Street, open till 11."]


@pytest.mark.django_db
def test_a_customer_who_said_stop_cannot_be_texted_from_the_board(staff_client, outbox):
    customer = CustomerFactory()
    OptOut.objects.create(phone_number=str(customer.phone), keyword="STOP")
    page = staff_client.get(reverse("board:customer", args=[customer.pk])).content.decode()
    assert "cannot be texted: recipient opted out" in page and "Send text" not in page
    staff_client.post(reverse("board:text", args=[customer.pk]), {"text": "hello?"})
    assert outbox == [] and not Message.objects.filter(body="hello?").exists()


@pytest.mark.django_db
def test_staff_find_a_customer_by_order_number_or_phone(staff_client):
    order = OrderFactory()
    page = reverse("board:customer", args=[order.customer_id])
    assert staff_client.get(reverse("board:find"), {"q": f"#{order.number}"})["Location"] == page
    phone = str(order.customer.phone)
    assert staff_client.get(reverse("board:find"), {"q": phone})["Location"] == page
    assert staff_client.get(reverse("board:find"), {"q": "nobody"})["Location"] == BOARD


# --- support line ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_support_panel_shows_agents_callers_waiting_and_voicemails(staff_client):
    AgentFactory(name="Maria")
    AgentFactory(name="Luca", on_shift=False)
    SupportCallFactory(caller_number="+14155550111", status=SupportCall.Status.WAITING,
                       waiting_since=timezone.now() - timedelta(minutes=2))  # fmt: skip
    VoicemailFactory(call__caller_number="+14155550122")
    html = staff_client.get(reverse("board:panel", args=["support"])).content.decode()
    assert "Maria" in html and "End shift" in html
    assert "Luca" in html and "Start shift" in html
    assert "+14155550111" in html and "on hold 2\xa0minutes</span>" in html
    assert "+14155550122" in html


@pytest.mark.django_db
def test_staff_put_an_agent_on_and_off_shift_from_the_board(staff_client):
    agent = AgentFactory(on_shift=False)
    url = reverse("board:shift", args=[agent.pk])
    response = staff_client.post(url, {"on": "1"}, headers=HTMX)
    assert f"{agent.name} is now on shift." in response.content.decode()
    assert Agent.objects.get(pk=agent.pk).on_shift
    staff_client.post(url, {"on": "0"}, headers=HTMX)
    assert not Agent.objects.get(pk=agent.pk).on_shift


@pytest.mark.django_db
def test_a_voicemail_called_back_leaves_the_panel(staff_client, staff):
    voicemail = VoicemailFactory()
    url = reverse("board:voicemail-done", args=[voicemail.pk])
    response = staff_client.post(url, headers=HTMX)
    assert "marked done" in response.content.decode()
    assert "No voicemail waiting" in response.content.decode()
    voicemail.refresh_from_db()
    assert voicemail.done_by == staff
    assert "already done" in staff_client.post(url, headers=HTMX).content.decode()


@pytest.mark.django_db
def test_staff_call_a_voicemail_back_from_the_board_through_their_agent_phone(
    staff_client, staff, texts_after_commit, outbox
):
    agent = AgentFactory(user=staff, phone="+14155550190")
    voicemail = VoicemailFactory(call__caller_number="+14155550122")
    panel = staff_client.get(reverse("board:panel", args=["support"])).content.decode()
    url = reverse("board:voicemail-call-back", args=[voicemail.pk])
    assert url in panel and ">Call back</button>" in panel

    response = texts_after_commit(staff_client.post, url, headers=HTMX)

    assert "Ringing your phone (+14155550190)" in response.content.decode()
    callback = SupportCall.objects.get(direction=SupportCall.Direction.CALLBACK)
    assert (callback.caller_number, callback.callback_for) == ("+14155550122", voicemail)
    assert [r.to for r in outbox if r.kind == "call"] == [agent.phone]
    voicemail.refresh_from_db()
    assert voicemail.done_by is None  # done once they have talked, by the Done button


@pytest.mark.django_db
def test_a_call_back_by_staff_without_an_agent_phone_says_how_to_get_one(staff_client, outbox):
    voicemail = VoicemailFactory(call__caller_number="+14155550122")

    response = staff_client.post(
        reverse("board:voicemail-call-back", args=[voicemail.pk]), headers=HTMX
    )

    html = response.content.decode()
    assert "no active support agent" in html and "Link your login to an agent" in html
    assert not SupportCall.objects.filter(direction=SupportCall.Direction.CALLBACK).exists()
    assert not outbox


@pytest.mark.django_db
def test_the_customer_page_runs_the_same_queries_for_few_or_many_texts_and_orders(staff_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customer = CustomerFactory()
    url = reverse("board:customer", args=[customer.pk])

    def add(count):
        for index in range(count):
            OrderFactory(customer=customer, status=S.PICKED_UP)
            inquiry_from(customer, f"question {index}")

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        return len(queries)

    add(2)
    few = count_queries()
    add(20)
    assert count_queries() == few
