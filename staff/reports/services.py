"""The owner's numbers for one day in the shop's time zone, each from one aggregate query."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, ExtractHour
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.results import results as campaign_results
from orders.hours import shop_hours, shop_zone
from orders.models import (
    IN_PROGRESS,
    ORDER_NUMBER_OFFSET,
    PATHS,
    PROMISE_MET,
    Order,
    OrderEvent,
    Status,
)
from support.models import CallEvent, SupportCall
from telephony.models import Message
from telephony.reach import OPTED_OUT_REASON, UNSUBSCRIBED
from telephony.status import ERROR_CODES

STAGE_ORDER = list(dict.fromkeys(PATHS["pickup"][:-1] + PATHS["delivery"][:-1]))
DELIVERED = [Message.Status.DELIVERED, Message.Status.READ]
FAILED = [Message.Status.FAILED, Message.Status.UNDELIVERED, Message.Status.CANCELED]
# Texts that did not go because the customer opted out (STOP, or CANCEL after ordering): the
# customer's choice, not a delivery failure of the shop; counted on their own.
OPTED_OUT = Q(error_code=UNSUBSCRIBED) | Q(error_code__isnull=True, error_message=OPTED_OUT_REASON)


def today():
    return timezone.localtime(timezone.now(), shop_zone()).date()


def day_bounds(day):
    """[start, end) of `day` in the shop's time zone (23 or 25 hours on DST days)."""
    zone = shop_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def minutes(duration):
    return round(duration.total_seconds() / 60, 1) if duration is not None else None


@dataclass
class Hour:
    hour: int
    orders: int = 0
    revenue: Decimal = Decimal("0")

    @property
    def label(self):
        return f"{self.hour:02d}:00"


@dataclass
class Stage:
    status: str
    label: str
    average_minutes: float | None
    orders: int


@dataclass
class DayReport:
    day: date
    orders: int
    cancelled: int
    revenue: Decimal
    late: int
    hours: list[Hour]
    stages: list[Stage]
    sms: dict
    failures: list[tuple]  # (code, meaning, count)
    calls: dict
    average_wait_seconds: float | None
    # Revenue (the orders' totals) is food (subtotal) + sales tax + delivery fees.
    subtotal: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    delivery_fees: Decimal = Decimal("0")
    promotions: list = field(default_factory=list)  # campaigns.results.Results
    feedback: dict = field(default_factory=dict)  # feedback_week(): average, scores, comments
    drivers: list = field(default_factory=list)  # (name, deliveries, average minutes on the road)
    # Payments: taken (by card or at the door), refunded, and what orders not cancelled still
    # owe (paid at the door when they arrive, or not yet).
    paid: Decimal = Decimal("0")
    refunded: Decimal = Decimal("0")
    outstanding: Decimal = Decimal("0")

    @property
    def served(self):
        return self.orders - self.cancelled

    @property
    def average_order(self):
        return (self.revenue / self.served).quantize(Decimal("0.01")) if self.served else None

    @property
    def delivery_rate(self):
        """Delivered, out of the texts whose fate is known (delivered or failed)."""
        known = self.sms["delivered"] + self.sms["failed"]
        return round(100 * self.sms["delivered"] / known, 1) if known else None

    @property
    def busiest_hour(self):
        return max(self.hours, key=lambda h: h.orders, default=None)


def order_numbers(start, end):
    """Late: passed its promised time (so texted a new estimate), was ready or delivered
    after it, or is still in progress past it."""
    finished_late = OrderEvent.objects.filter(
        order=OuterRef("pk"),
        to_status__in=PROMISE_MET,
        created_at__gt=OuterRef("promised_at"),
    )
    late = (
        Q(late_notices__gt=0)
        | Q(finished_late=True)
        | Q(status__in=IN_PROGRESS, promised_at__lt=timezone.now())
    )
    return (
        Order.objects.filter(created_at__gte=start, created_at__lt=end)
        .alias(finished_late=Exists(finished_late))
        .aggregate(
            orders=Count("pk"),
            cancelled=Count("pk", filter=Q(status=Status.CANCELLED)),
            revenue=Sum("total", filter=~Q(status=Status.CANCELLED), default=Decimal("0")),
            subtotal=Sum("subtotal", filter=~Q(status=Status.CANCELLED), default=Decimal("0")),
            tax=Sum("tax", filter=~Q(status=Status.CANCELLED), default=Decimal("0")),
            delivery_fees=Sum(
                "delivery_fee", filter=~Q(status=Status.CANCELLED), default=Decimal("0")
            ),
            late=Count("pk", filter=late & ~Q(status=Status.CANCELLED)),
            # Money taken (by card or at the door), given back, and still to come.
            taken=Sum("paid", default=Decimal("0")),
            given_back=Sum("refunded", default=Decimal("0")),
            outstanding=Sum(
                F("total") - F("paid"),
                filter=~Q(status=Status.CANCELLED) & Q(paid__lt=F("total")),
                default=Decimal("0"),
            ),
        )
    )


def orders_per_hour(day, start, end):
    """Orders and revenue for each hour the shop was open or took an order."""
    rows = (
        Order.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(hour=ExtractHour("created_at", tzinfo=shop_zone()))
        .values("hour")
        .annotate(
            orders=Count("pk"),
            revenue=Sum("total", filter=~Q(status=Status.CANCELLED), default=Decimal("0")),
        )
        .order_by("hour")
    )
    by_hour = {row["hour"]: Hour(row["hour"], row["orders"], row["revenue"]) for row in rows}
    hours = set(by_hour) | _opening_hours(day)
    if not hours:
        return []
    return [by_hour.get(h, Hour(h)) for h in range(min(hours), max(hours) + 1)]


def _opening_hours(day):
    schedule = shop_hours()
    if schedule.always_open:
        return set()
    hours = set()
    for span in schedule.spans:
        if span.weekday == day.weekday():
            first = span.opens.hour
            last = min(23, (span.opens.hour * 60 + span.opens.minute + span.minutes - 1) // 60)
            hours.update(range(first, last + 1))
    return hours


def stage_minutes(start, end):
    """Average minutes orders spent in each stage they entered on the day: from the event
    that moved them in to the next status event of the same order."""
    next_move = OrderEvent.objects.filter(
        order=OuterRef("order"),
        pk__gt=OuterRef("pk"),
        kind__in=[OrderEvent.Kind.STATUS, OrderEvent.Kind.CANCELLED],
    ).order_by("pk")
    rows = (
        OrderEvent.objects.filter(
            created_at__gte=start,
            created_at__lt=end,
            kind__in=[OrderEvent.Kind.PLACED, OrderEvent.Kind.STATUS],
        )
        .annotate(left_at=Subquery(next_move.values("created_at")[:1]))
        .filter(left_at__isnull=False)
        .values("to_status")
        .annotate(
            average=Avg(
                ExpressionWrapper(F("left_at") - F("created_at"), output_field=DurationField())
            ),
            orders=Count("pk"),
        )
    )
    found = {row["to_status"]: row for row in rows}
    return [
        Stage(
            status, Status(status).label, minutes(found[status]["average"]), found[status]["orders"]
        )
        for status in STAGE_ORDER
        if status in found
    ]


def sms_numbers(start, end):
    outbound = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, created_at__gte=start, created_at__lt=end
    )
    return outbound.aggregate(
        total=Count("pk"),
        delivered=Count("pk", filter=Q(status__in=DELIVERED)),
        failed=Count("pk", filter=Q(status__in=FAILED) & ~OPTED_OUT),
        opted_out=Count("pk", filter=Q(status__in=FAILED) & OPTED_OUT),
        segments=Sum("num_segments", default=0),
    )


def sms_failures(start, end):
    rows = (
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND,
            created_at__gte=start,
            created_at__lt=end,
            status__in=FAILED,
        )
        .exclude(OPTED_OUT)
        .values("error_code")
        .annotate(count=Count("pk"))
        .order_by("-count", F("error_code").asc(nulls_first=True))
    )
    return [(r["error_code"], ERROR_CODES.get(r["error_code"], ""), r["count"]) for r in rows]


MISSED = [CallEvent.Kind.MISSED_TEXTED, CallEvent.Kind.MISSED_NOT_TEXTED]


def call_numbers(start, end):
    went_to_voicemail = CallEvent.objects.filter(call=OuterRef("pk"), kind=CallEvent.Kind.VOICEMAIL)
    missed = CallEvent.objects.filter(call=OuterRef("pk"), kind__in=MISSED)
    texted = CallEvent.objects.filter(call=OuterRef("pk"), kind=CallEvent.Kind.MISSED_TEXTED)
    wait = ExpressionWrapper(
        F("answered_at") - Coalesce("waiting_since", "started_at"), output_field=DurationField()
    )
    return (
        SupportCall.objects.filter(
            direction=SupportCall.Direction.INBOUND, started_at__gte=start, started_at__lt=end
        )
        .alias(
            sent_to_voicemail=Exists(went_to_voicemail),
            was_missed=Exists(missed),
            was_texted=Exists(texted),
        )  # fmt: skip
        .aggregate(
            total=Count("pk"),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            abandoned=Count("pk", filter=Q(status=SupportCall.Status.ABANDONED)),
            call_back=Count("pk", filter=Q(status=SupportCall.Status.CALL_BACK)),
            voicemail=Count("pk", filter=Q(sent_to_voicemail=True, answered_at__isnull=True)),
            wait=Avg(wait, filter=Q(answered_at__isnull=False)),
            missed=Count("pk", filter=Q(was_missed=True)),
            missed_texted=Count("pk", filter=Q(was_texted=True)),
        )
    )


def orders_after_missed_calls(start, end):
    """Orders placed between `start` and `end` by a caller texted "sorry we missed your call"
    within MISSED_CALL_TEXT_HOURS before (one query)."""
    window = timedelta(hours=settings.MISSED_CALL_TEXT_HOURS)
    texted = CallEvent.objects.filter(
        kind=CallEvent.Kind.MISSED_TEXTED,
        call__caller_number=OuterRef("customer__phone"),
        created_at__lte=OuterRef("created_at"),
        created_at__gte=OuterRef("created_at") - window,
    )
    return (
        Order.objects.filter(created_at__gte=start, created_at__lt=end)
        .filter(Exists(texted))
        .count()
    )


def promotions(start, end):
    """Campaigns that were sending on the day or could still bring orders in on it (within
    CAMPAIGN_ATTRIBUTION_HOURS of finishing), with their whole figures (one query when there
    is none, four otherwise)."""
    window = timedelta(hours=settings.CAMPAIGN_ATTRIBUTION_HOURS)
    campaigns = list(
        Campaign.objects.filter(started_at__lt=end)
        .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=start - window))
        .order_by("started_at")
    )
    return campaign_results(campaigns) if campaigns else []


def feedback_week(start, end, most=10):
    """The customers' scores (orders/feedback.py) for the week ending with the day [start,
    end): {"average", "scores", "low", "comments": the latest `most` with words, as (order
    number, score, words)}. Two queries."""
    week = Order.objects.filter(
        feedback_score__isnull=False, feedback_asked_at__gte=end - timedelta(days=7),
        feedback_asked_at__lt=end,
    )  # fmt: skip
    numbers = week.aggregate(
        average=Avg("feedback_score"),
        scores=Count("pk"),
        low=Count("pk", filter=Q(feedback_score__lte=2)),
    )
    said = week.exclude(feedback_comment="").order_by("-feedback_asked_at")
    comments = [
        (pk + ORDER_NUMBER_OFFSET, score, words)
        for pk, score, words in said.values_list("pk", "feedback_score", "feedback_comment")[:most]
    ]
    average = numbers["average"]
    return {**numbers, "average": round(average, 1) if average is not None else None,
            "comments": comments}  # fmt: skip


def deliveries_per_driver(start, end):
    """Each driver's deliveries delivered in [start, end) and their average minutes on the
    road (out for delivery to delivered, from the orders' events), busiest first. One query."""

    def at(status):
        events = OrderEvent.objects.filter(order=OuterRef("pk"), to_status=status)
        return Subquery(events.order_by("-created_at").values("created_at")[:1])

    road = ExpressionWrapper(F("delivered") - F("left"), output_field=DurationField())
    rows = (
        Order.objects.filter(driver__isnull=False, status=Status.DELIVERED)
        .annotate(left=at(Status.OUT_FOR_DELIVERY), delivered=at(Status.DELIVERED))
        .filter(delivered__gte=start, delivered__lt=end)
        .values("driver__name")
        .annotate(deliveries=Count("pk"), road=Avg(road))
        .order_by("-deliveries", "driver__name")
    )
    return [(row["driver__name"], row["deliveries"], minutes(row["road"])) for row in rows]


def day_report(day):
    """Every number on the reports page for `day` (ten to thirteen queries, whatever the data
    size)."""
    start, end = day_bounds(day)
    orders = order_numbers(start, end)
    calls = call_numbers(start, end)
    calls["orders_after_missed"] = orders_after_missed_calls(start, end)
    wait = calls.pop("wait")
    return DayReport(
        day=day,
        orders=orders["orders"],
        cancelled=orders["cancelled"],
        revenue=orders["revenue"],
        late=orders["late"],
        hours=orders_per_hour(day, start, end),
        stages=stage_minutes(start, end),
        sms=sms_numbers(start, end),
        failures=sms_failures(start, end),
        calls=calls,
        average_wait_seconds=round(wait.total_seconds()) if wait is not None else None,
        subtotal=orders["subtotal"],
        tax=orders["tax"],
        delivery_fees=orders["delivery_fees"],
        promotions=promotions(start, end),
        feedback=feedback_week(start, end),
        drivers=deliveries_per_driver(start, end),
        paid=orders["taken"],
        refunded=orders["given_back"],
        outstanding=orders["outstanding"],
    )
