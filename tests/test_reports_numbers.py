"""The owner's report, checked against a hand-built Tuesday (shop time, America/New_York)."""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from orders.models import Actor, Fulfilment, Order, OrderEvent, Status
from staff.reports import services
from support.models import CallEvent, SupportCall
from telephony.models import Message
from tests.factories import CustomerFactory, MessageFactory, OrderFactory, SupportCallFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
DAY = date(2026, 3, 10)  # a Tuesday, two days after the clocks went forward


def at(clock, day=DAY):
    hour, minute = map(int, clock.split(":")[:2])
    second = int(clock.split(":")[2]) if clock.count(":") == 2 else 0
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=NY)


def order(placed, fulfilment, total, promised, moves, day=DAY, late_notices=0):
    """An order placed at `placed` whose status changed at each (clock, status) of `moves`."""
    made = OrderFactory(
        customer=CustomerFactory(), fulfilment=fulfilment, total=Decimal(total),
        promised_at=at(promised, day), late_notices=late_notices,
    )  # fmt: skip
    status = Status.RECEIVED
    events = [(placed, OrderEvent.Kind.PLACED, "", Status.RECEIVED)]
    for clock, to_status in moves:
        kind = (
            OrderEvent.Kind.CANCELLED if to_status == Status.CANCELLED else OrderEvent.Kind.STATUS
        )
        events.append((clock, kind, status, to_status))
        status = to_status
    for clock, kind, from_status, to_status in events:
        event = OrderEvent.objects.create(
            order=made, kind=kind, from_status=from_status, to_status=to_status,
            actor=Actor.STAFF,
        )  # fmt: skip
        OrderEvent.objects.filter(pk=event.pk).update(created_at=at(clock, day))
    Order.objects.filter(pk=made.pk).update(status=status, created_at=at(placed, day))
    return made


def message(clock, status, error_code=None, direction=Message.Direction.OUTBOUND, day=DAY):
    made = MessageFactory(status=status, error_code=error_code, direction=direction)
    Message.objects.filter(pk=made.pk).update(created_at=at(clock, day))


def call(clock, status, waiting_since=None, answered_at=None, voicemail=False, **fields):
    made = SupportCallFactory(
        status=status,
        waiting_since=waiting_since and at(waiting_since),
        answered_at=answered_at and at(answered_at),
        **fields,
    )
    SupportCall.objects.filter(pk=made.pk).update(started_at=at(clock))
    if voicemail:
        CallEvent.objects.create(call=made, kind=CallEvent.Kind.VOICEMAIL)


@pytest.fixture
def tuesday(settings):
    settings.SHOP_TIME_ZONE = "America/New_York"
    settings.SHOP_HOURS = "mon-thu 17:00-22:00"
    P, D, S = Fulfilment.PICKUP, Fulfilment.DELIVERY, Status  # noqa: N806
    # A: ready ten minutes after its promised time (late).
    order("18:05", P, "20.00", "18:25", [
        ("18:10", S.PREPARING), ("18:20", S.BAKING), ("18:32", S.QUALITY_CHECK),
        ("18:35", S.READY_FOR_PICKUP), ("18:50", S.PICKED_UP),
    ])  # fmt: skip
    # B: delivered ten minutes late.
    order("18:40", D, "30.00", "19:20", [
        ("18:42", S.PREPARING), ("18:50", S.BAKING), ("19:02", S.QUALITY_CHECK),
        ("19:05", S.OUT_FOR_DELIVERY), ("19:30", S.DELIVERED),
    ])  # fmt: skip
    # C: cancelled while being prepared: no revenue.
    order("19:15", P, "15.00", "19:35", [("19:20", S.PREPARING), ("19:25", S.CANCELLED)])
    # D: on time.
    order("20:00", P, "25.00", "20:30", [
        ("20:04", S.PREPARING), ("20:11", S.BAKING), ("20:22", S.QUALITY_CHECK),
        ("20:24", S.READY_FOR_PICKUP), ("20:40", S.PICKED_UP),
    ])  # fmt: skip
    # The evening before, and the next morning: not in this day's numbers.
    order("23:30", P, "99.00", "23:50", [("23:35", S.PREPARING)], day=DAY - timedelta(days=1))
    order("00:10", P, "99.00", "00:30", [], day=DAY + timedelta(days=1), late_notices=1)

    for clock in ("18:06", "18:21", "18:36", "18:51", "20:25"):
        message(clock, "delivered")
    message("18:43", "undelivered", 30003)
    message("19:03", "undelivered", 30003)
    message("19:16", "failed", 30007)
    message("19:26", "failed")  # refused: opted out
    message("20:41", "sent")  # no delivery report yet
    message("19:00", "received", direction=Message.Direction.INBOUND)
    message("12:00", "failed", 30003, day=DAY - timedelta(days=1))

    call("19:00:00", "completed", waiting_since="19:00:00", answered_at="19:00:40")
    call("19:10:00", "completed", answered_at="19:11:00")  # straight through, no hold
    call("19:20:00", "abandoned", waiting_since="19:20:30")
    call("19:40:00", "completed", waiting_since="19:40:10", voicemail=True)
    call("19:50:00", "completed", answered_at="19:55:00", direction="callback")
    call("20:00:00", "call_back", waiting_since="20:00:10")  # pressed star, then 1, on hold


def test_orders_revenue_and_late_orders(tuesday):
    report = services.day_report(DAY)
    assert (report.orders, report.cancelled, report.late) == (4, 1, 2)
    assert report.revenue == Decimal("75.00")
    assert report.average_order == Decimal("25.00")


def test_orders_per_hour_cover_the_opening_hours(tuesday):
    hours = services.day_report(DAY).hours
    assert [h.hour for h in hours] == [17, 18, 19, 20, 21]
    assert [(h.orders, h.revenue) for h in hours] == [
        (0, 0), (2, Decimal("50.00")), (1, Decimal("0")), (1, Decimal("25.00")), (0, 0),
    ]  # fmt: skip


def test_average_minutes_in_each_stage_from_the_order_events(tuesday):
    stages = {s.status: (s.average_minutes, s.orders) for s in services.day_report(DAY).stages}
    assert stages == {
        "received": (4.0, 4),  # 5, 2, 5, 4
        "preparing": (7.5, 4),  # 10, 8, 5 (until cancelled), 7
        "baking": (11.7, 3),  # 12, 12, 11
        "quality_check": (2.7, 3),  # 3, 3, 2
        "ready_for_pickup": (15.5, 2),  # 15, 16
        "out_for_delivery": (25.0, 1),
    }
    assert [s.status for s in services.day_report(DAY).stages][:3] == [
        "received", "preparing", "baking",
    ]  # fmt: skip


def test_sms_delivery_rate_and_failures_by_error_code(tuesday):
    report = services.day_report(DAY)
    assert report.sms["total"] == 10
    assert (report.sms["delivered"], report.sms["failed"]) == (5, 4)
    assert report.delivery_rate == 55.6  # 5 of the 9 whose fate is known
    assert report.failures == [
        (30003, "handset unreachable", 2),
        (None, "refused before sending (country, invalid or premium number)", 1),
        (30007, "filtered as spam by the carrier", 1),
    ]


def test_calls_answered_abandoned_voicemail_and_the_average_wait(tuesday):
    report = services.day_report(DAY)
    assert report.calls == {
        "total": 5, "answered": 2, "abandoned": 1, "call_back": 1, "voicemail": 1,
        "missed": 0, "missed_texted": 0, "orders_after_missed": 0,  # tests/test_missed_calls.py
    }  # fmt: skip
    assert report.average_wait_seconds == 50  # 40 s on hold, 60 s ringing


def test_a_quiet_day_has_zeros_not_errors(settings):
    report = services.day_report(date(2026, 1, 5))
    assert (report.orders, report.revenue, report.late, report.average_order) == (0, 0, 0, None)
    assert report.stages == [] and report.failures == []
    assert report.delivery_rate is None and report.average_wait_seconds is None


def test_the_report_runs_eight_queries_whatever_the_data(tuesday, django_assert_num_queries):
    with django_assert_num_queries(12):  # seven, promotions, shop hours, feedback (2), drivers
        services.day_report(DAY)


def test_revenue_is_split_into_food_tax_and_delivery_fees(settings, client, django_user_model):
    made = order("18:05", "delivery", "37.84", "18:45", [])
    Order.objects.filter(pk=made.pk).update(
        subtotal=Decimal("32"), tax=Decimal("2.84"), delivery_fee=Decimal("3")
    )
    cancelled = order("18:10", "pickup", "17.42", "18:30", [("18:12", Status.CANCELLED)])
    Order.objects.filter(pk=cancelled.pk).update(subtotal=Decimal("16"), tax=Decimal("1.42"))
    report = services.day_report(DAY)
    assert (report.subtotal, report.tax, report.delivery_fees, report.revenue) == (
        Decimal("32"), Decimal("2.84"), Decimal("3"), Decimal("37.84"),
    )  # fmt: skip
    client.force_login(django_user_model.objects.create(username="t", is_superuser=True,
                                                        is_staff=True))  # fmt: skip
    response = client.get("/staff/reports/", {"day": DAY.isoformat(), "format": "csv"})
    rows = {tuple(row[:2]): row[2] for row in csv.reader(io.StringIO(response.content.decode()))}
    assert rows[("orders", "food (subtotal)")] == "32.00"
    assert rows[("orders", "sales tax")] == "2.84"
    assert rows[("orders", "delivery fees")] == "3.00"
    page = client.get("/staff/reports/", {"day": DAY.isoformat()}).content.decode()
    assert "food $32.00 · tax $2.84 · delivery $3.00" in page
