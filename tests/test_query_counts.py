"""SQL queries per request, pinned: the same with 3 or 40 of everything, and under a ceiling.

Each webhook step, each keyword the worker handles, each admin list and each staff page is
measured in a small world and again after it grew; a count that grows with the data
(a query per row) fails here before it reaches a Friday night.
"""

import io
from datetime import timedelta
from itertools import cycle

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from orders import billing, demo, questions, shop
from orders.models import Inquiry, Order, OrderEvent, Status
from support.models import AgentOffer, SupportCall, VoiceNotice
from telephony.inbound import answer_pending
from telephony.simulator import new_sid, sms_params
from tests.factories import (
    AgentFactory,
    CustomerFactory,
    MessageFactory,
    OrderFactory,
    SupportCallFactory,
    VoicemailFactory,
)

pytestmark = pytest.mark.django_db
SMALL, LARGE = 3, 40
STAGES = cycle(list(Status))


class World:
    """Rows of every kind the pages list, grown `n` at a time; `phone` has `n` orders too."""

    def __init__(self):
        self.size = 0
        demo.seed(io.StringIO())

    def grow(self, n, phone=None):
        now = timezone.now()
        for i in range(n):
            customer = CustomerFactory()
            order = OrderFactory(customer=customer, status=next(STAGES))
            OrderEvent.objects.create(
                order=order, kind="status", from_status="received", to_status=order.status,
                actor="staff",
            )  # fmt: skip
            if phone:
                OrderFactory(customer=CustomerFactory(phone=phone), status=next(STAGES))
            inbound = MessageFactory(
                direction="in", from_number=str(customer.phone), status="received",
                sid=new_sid("SM"), handled_at=now, body=f"question {i}",
            )  # fmt: skip
            Inquiry.objects.create(message=inbound, customer=customer)
            MessageFactory(
                to_number=str(customer.phone), status="delivered", sid=new_sid("SM"),
                content_type=None, about=order, in_reply_to=inbound,
            )  # fmt: skip
            MessageFactory(to_number=str(customer.phone), status="failed", error_code=30003)
            agent = AgentFactory(on_shift=i % 2 == 0)
            call = SupportCallFactory(status=SupportCall.Status.COMPLETED, agent=agent)
            VoicemailFactory()
            AgentOffer.objects.create(call=call, agent=agent, status="completed")
            SupportCallFactory(
                status=SupportCall.Status.WAITING, waiting_since=now - timedelta(seconds=i)
            )
            VoiceNotice.objects.create(to_number=str(customer.phone), message="Ready", about=order)
            Campaign.objects.create(name=f"Promo {i}", body="2 for 1 tonight")
        self.size += n


def queries(fn):
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def small_and_large(measure, phone_for=None):
    """(queries with SMALL of everything, queries with LARGE); `measure` runs once warm first."""
    world = World()
    world.grow(SMALL, phone=phone_for and phone_for(SMALL))
    measure(0)  # warm caches (content types, the site, sessions) with a customer of its own
    small = measure(SMALL)
    world.grow(LARGE - SMALL, phone=phone_for and phone_for(LARGE))
    return small, measure(LARGE)


def assert_fixed(counts, ceiling):
    small, large = counts
    assert small == large, f"queries grow with the data: {small} with {SMALL}, {large} with {LARGE}"
    assert large <= ceiling, f"{large} queries, ceiling {ceiling}"


# --- admin lists and staff pages ------------------------------------------------------------

PAGES = {
    "/admin/orders/order/": 8,
    "/admin/orders/order/?status__exact=baking": 8,
    "/admin/orders/order/?q=%2B14155550123": 8,
    "/admin/orders/customer/": 7,
    "/admin/telephony/message/": 8,
    "/admin/telephony/message/?status__exact=failed": 8,
    "/admin/orders/inquiry/": 7,
    "/admin/support/agent/": 7,
    "/admin/support/supportcall/": 9,
    "/admin/support/voicemail/": 7,
    "/admin/support/voicenotice/": 8,
    "/admin/campaigns/campaign/": 7,
    "/staff/": 16,
    "/staff/panels/orders/": 6,
    "/staff/panels/inbox/": 6,
    "/staff/panels/support/": 8,
    "/staff/reports/": 13,
}


@pytest.mark.parametrize("url", PAGES)
def test_a_staff_page_runs_the_same_few_queries_whatever_the_data(admin_client, url):
    def measure(size):
        def get():
            response = admin_client.get(url)
            assert response.status_code == 200, url

        return queries(get)

    assert_fixed(small_and_large(measure), PAGES[url])


def test_a_customer_thread_on_the_board_runs_fixed_queries(admin_client):
    def measure(size):
        customer = CustomerFactory(phone=f"+1415666{size:04d}")
        return queries(lambda: admin_client.get(reverse("board:customer", args=[customer.pk])))

    assert_fixed(small_and_large(measure, phone_for=lambda size: f"+1415666{size:04d}"), 12)


# --- the SMS webhook and the worker's conversation -------------------------------------------

CONVERSATION = {
    # The menu is one query (its version) while unchanged: orders.menu.current.
    "MENU": 21,
    "ORDER 1 large pepperoni": 21,
    "YES": 34,  # + the one-time offer of promotions (a text of its own), and a look for one
    # just asked: a yes right after it answers it (campaigns.consent)
    "STATUS": 21,
    "CANCEL ORDER": 28,
    "HELP": 20,
    "pizza?": 22,
    # Issue 13: plain words, modifiers, questions back, intents in words, times.
    "ORDER 1 large pepperoni with extra cheese and mushrooms, thin crust": 21,
    "I want a pizza": 20,
    "ORDER 3 xl pepperoni": 20,
    "where is my pizza??": 19,
    "the usual": 21,
    "order 1 large pepperoni for pickup at 7pm": 21,
    "do you have napkins?": 22,
}


def customer_number(size):
    return f"+1415777{size:04d}"


def test_the_inbound_sms_webhook_is_one_insert_whatever_the_data(twilio):
    def measure(size):
        params = sms_params(customer_number(size), "MENU")
        return queries(lambda: twilio.post("/twilio/sms/", params))

    # In production: BEGIN, INSERT ... ON CONFLICT DO NOTHING, COMMIT (here savepoints).
    assert_fixed(small_and_large(measure, phone_for=customer_number), 3)


def test_each_keyword_is_handled_by_the_worker_in_fixed_queries(
    twilio, django_capture_on_commit_callbacks
):
    def measure(size):
        counts = {}
        for body in CONVERSATION:
            twilio.post("/twilio/sms/", sms_params(customer_number(size), body))

            def handle():
                # What a process keeps for a second or two (the shop's settings, staff's
                # answers, the kitchen's queue) is read afresh, so each count is the worst.
                shop.forget(), questions.forget(), billing.forget_queue()
                with django_capture_on_commit_callbacks(execute=True):
                    assert answer_pending() == 1

            counts[body] = queries(handle)
        Order.objects.filter(customer__phone=customer_number(size), status="received").delete()
        return counts

    small, large = small_and_large(measure, phone_for=customer_number)
    for body, ceiling in CONVERSATION.items():
        assert_fixed((small[body], large[body]), ceiling)


def test_an_sms_status_callback_is_one_update(twilio):
    def measure(size):
        sid = MessageFactory(sid=new_sid("SM"), status="sent").sid
        params = {"MessageSid": sid, "MessageStatus": "delivered"}
        return queries(lambda: twilio.post("/twilio/sms/status/", params))

    assert_fixed(small_and_large(measure), 1)  # one conditional UPDATE


# --- the support line's voice webhooks --------------------------------------------------------

VOICE_STEPS = {
    "incoming call": 12,  # 10, and a returning caller's last order and its items (their usual)
    "menu 1 (order status)": 5,
    # With the outbox's consumer, which tests run at commit (what is due in each outbox,
    # claim, record, tell support); the webhook itself only writes the request row. The
    # telling locks the offer it rang and records "agent ringing" in the call's history.
    # One is the caller's language.
    "menu 2 (advisor)": 40,
    "hold music": 8,  # 5, and the place in line: callers ahead, recent calls, agents on shift
    "agent picks up": 3,
    "agent presses 1": 10,
    "caller hangs up": 7,
}


def test_each_voice_webhook_step_runs_fixed_queries(
    twilio, django_capture_on_commit_callbacks, settings
):
    def post(path, **params):
        with django_capture_on_commit_callbacks(execute=True):
            response = twilio.post(path, params)
        assert response.status_code in (200, 204), response.content

    def measure(size):
        sid, caller = new_sid("CA"), customer_number(size)
        SupportCall.objects.filter(status__in=["waiting", "ringing_agent"]).update(
            status="abandoned"
        )
        counts = {}
        counts["incoming call"] = queries(
            lambda: post("/twilio/voice/", CallSid=sid, From=caller, CallStatus="ringing")
        )
        counts["menu 1 (order status)"] = queries(
            lambda: post("/twilio/voice/menu/", CallSid=sid, From=caller, Digits="1")
        )
        counts["menu 2 (advisor)"] = queries(
            lambda: post("/twilio/voice/menu/", CallSid=sid, From=caller, Digits="2")
        )
        call = SupportCall.objects.get(call_sid=sid)
        counts["hold music"] = queries(
            lambda: post(reverse("support:hold", args=[call.pk]), CallSid=sid)
        )
        offer = AgentOffer.objects.filter(call=call).latest("pk")
        agent_sid = offer.sid or new_sid("CA")
        counts["agent picks up"] = queries(
            lambda: post(
                reverse("support:agent-answer", args=[offer.pk]),
                CallSid=agent_sid,
                CallStatus="in-progress",
            )  # fmt: skip
        )
        counts["agent presses 1"] = queries(
            lambda: post(
                reverse("support:agent-accept", args=[offer.pk]),
                CallSid=agent_sid,
                CallStatus="in-progress",
                Digits="1",
            )  # fmt: skip
        )
        counts["caller hangs up"] = queries(
            lambda: post("/twilio/voice/status/", CallSid=sid, CallStatus="completed")
        )
        return counts

    small, large = small_and_large(measure, phone_for=customer_number)
    for step, ceiling in VOICE_STEPS.items():
        assert_fixed((small[step], large[step]), ceiling)


@pytest.mark.parametrize("url", ["/admin/orders/order/", "/admin/telephony/message/"])
def test_the_lists_of_the_biggest_tables_never_scan_them_whole(admin_client, url):
    """No date hierarchy (SELECT DISTINCT year over every row: 3 s at a million messages,
    bench/README.md) and no COUNT(*) of more than 10,000 rows (CappedCountPaginator)."""
    World().grow(SMALL)
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(url).status_code == 200
    sqls = [q["sql"] for q in captured.captured_queries]
    assert not [sql for sql in sqls if "DISTINCT" in sql]
    assert not [sql for sql in sqls if "COUNT(*)" in sql and "LIMIT 10000" not in sql]


def test_the_customer_list_shows_and_sorts_by_each_customers_order_count(admin_client):
    busy, quiet = CustomerFactory(phone="+14155550111"), CustomerFactory(phone="+14155550222")
    OrderFactory.create_batch(3, customer=busy)
    OrderFactory(customer=quiet)
    CustomerFactory(phone="+14155550333")

    page = admin_client.get("/admin/orders/customer/", {"o": "-4"})  # orders, most first
    rows = [c for c in page.context["cl"].result_list]

    assert [(str(c.phone), c.order_count) for c in rows] == [
        ("+14155550111", 3), ("+14155550222", 1), ("+14155550333", 0),
    ]  # fmt: skip
