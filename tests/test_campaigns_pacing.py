"""Promotions by the clock: quiet hours in the recipient's zone, the sender's rate, order
texts first, a queue overflow pauses the campaign. The clock is passed in (`now=`)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Max, Min
from django.urls import reverse
from django.utils import timezone

from campaigns import quiet
from campaigns import services as campaigns
from campaigns.models import Campaign, CampaignRecipient
from orders.models import Customer
from telephony.models import Message
from telephony.sms import send_sms
from telephony.status import record_status
from tests.factories import ConsentFactory
from tests.fixtures.consumer import worker_pass

pytestmark = pytest.mark.django_db

EASTERN, PACIFIC = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")


def customers(*phones):
    for phone in phones:
        ConsentFactory(customer=Customer.objects.create(phone=phone))


def many(count, area="415"):
    made = Customer.objects.bulk_create(
        Customer(phone=f"+1{area}{2000000 + n:07d}") for n in range(count)
    )
    for customer in Customer.objects.filter(phone__in=[c.phone for c in made]):
        ConsentFactory(customer=customer)


def start(now, **fields):
    camp = Campaign.objects.create(name="T", body="Deal", **fields)
    campaigns.start_campaign(camp, now=now)  # the task is not run: the test turns the loop
    return camp


def texted(camp):
    return set(
        Message.objects.filter(content_type__model="campaign", object_id=str(camp.pk)).values_list(
            "to_number", flat=True
        )
    )


# --- quiet hours ---------------------------------------------------------------------------


def test_at_930_pm_eastern_the_west_coast_gets_it_now_and_the_east_coast_next_morning():
    customers("+12125550100", "+14155550100")  # New York, San Francisco
    now = datetime(2026, 3, 10, 21, 30, tzinfo=EASTERN)  # 6:30 PM in San Francisco
    camp = start(now)

    campaigns.send_campaign(camp.pk, now=now)

    assert texted(camp) == {"+14155550100"}
    [waiting] = campaigns.waiting(camp, now)
    assert (waiting.zones, waiting.count) == ("America/New_York", 1)
    assert waiting.until == datetime(2026, 3, 11, 8, 0, tzinfo=EASTERN)
    later = now + timedelta(seconds=10)
    wait = campaigns.send_due_texts(camp.pk, now=later)
    assert wait == (waiting.until - later).total_seconds()  # the loop sleeps until then
    campaigns.send_due_texts(camp.pk, now=waiting.until - timedelta(seconds=1))
    assert texted(camp) == {"+14155550100"}
    campaigns.send_due_texts(camp.pk, now=waiting.until)
    assert texted(camp) == {"+14155550100", "+12125550100"}
    camp.refresh_from_db()
    assert camp.state == Campaign.State.SENT


def test_started_at_830_pm_what_cannot_leave_by_9_pm_waits_for_the_morning(settings):
    settings.SMS_MPS = 0.1  # 180 texts between 8:30 and 9 PM
    many(200, area="212")
    now = datetime(2026, 3, 10, 20, 30, tzinfo=EASTERN)
    camp = start(now)
    campaigns.plan_campaign(camp.pk)
    finished = run_loop(camp, now)
    times = sorted(CampaignRecipient.objects.values_list("sent_at", flat=True))
    evening = [t for t in times if t.astimezone(EASTERN).day == 10]
    assert 170 <= len(evening) <= 180
    assert max(evening) < datetime(2026, 3, 10, 21, 0, tzinfo=EASTERN)
    assert min(set(times) - set(evening)) == datetime(2026, 3, 11, 8, 0, tzinfo=EASTERN)
    assert finished.astimezone(EASTERN).day == 11


def test_the_page_shows_what_waits_and_until_when(admin_client):
    customers("+12125550100", "+14155550100")
    now = timezone.now()
    camp = start(now)
    CampaignRecipient.objects.create(campaign=camp, customer=Customer.objects.first(),
                                     time_zone="Pacific/Kiritimati")  # fmt: skip
    page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[camp.pk]))
    until = quiet.opens_at("Pacific/Kiritimati", now)
    if until == now:  # daytime on Kiritimati right now: nothing waits
        assert b"campaign-waiting" not in page.content
    else:
        assert "1 in Pacific/Kiritimati until" in page.content.decode()


@pytest.mark.parametrize(
    ("local", "zone", "open_"),
    [
        ((7, 59), EASTERN, False), ((8, 0), EASTERN, True), ((20, 59), EASTERN, True),
        ((21, 0), EASTERN, False), ((23, 30), EASTERN, False), ((3, 0), EASTERN, False),
    ],
)  # fmt: skip
def test_the_window_is_8_am_to_9_pm_in_the_recipients_zone(local, zone, open_):
    moment = datetime(2026, 7, 1, *local, tzinfo=zone)
    assert quiet.is_open(quiet.zones_for("+12125550100"), moment) is open_


def test_the_window_ends_are_settings(settings):
    settings.CAMPAIGN_SEND_FROM, settings.CAMPAIGN_SEND_UNTIL = "10:00", "18:30"
    ny = quiet.zones_for("+12125550100")
    assert not quiet.is_open(ny, datetime(2026, 7, 1, 9, 0, tzinfo=EASTERN))
    assert quiet.is_open(ny, datetime(2026, 7, 1, 18, 29, tzinfo=EASTERN))
    assert not quiet.is_open(ny, datetime(2026, 7, 1, 18, 30, tzinfo=EASTERN))


def test_an_area_code_in_two_zones_gets_the_later_morning_and_the_earlier_evening():
    zones = quiet.zones_for("+17755550100")  # Nevada: Pacific and Mountain time
    assert zones == "America/Boise,America/Los_Angeles"
    assert not quiet.is_open(zones, datetime(2026, 7, 1, 7, 30, tzinfo=PACIFIC))  # 8:30 MT
    assert quiet.is_open(zones, datetime(2026, 7, 1, 8, 0, tzinfo=PACIFIC))
    assert not quiet.is_open(zones, datetime(2026, 7, 1, 20, 30, tzinfo=PACIFIC))  # 9:30 MT


def test_a_number_without_a_known_zone_gets_the_shops(settings):
    settings.SHOP_TIME_ZONE = "America/Chicago"
    assert quiet.zones_for("+80012345678") == "America/Chicago"


# --- pacing --------------------------------------------------------------------------------


def run_loop(camp, now, limit=10_000):
    """Turn the loop as the task would, on a fake clock, until the campaign is done."""
    for _ in range(limit):
        wait = campaigns.send_due_texts(camp.pk, now=now)
        if wait is None:
            return now
        now += timedelta(seconds=wait)
    raise AssertionError("the campaign never finished")


@pytest.mark.parametrize("mps", [1, 4])
def test_pacing_holds_the_configured_rate_within_10_percent(settings, mps):
    settings.SMS_MPS = mps
    settings.CAMPAIGN_SEND_FROM, settings.CAMPAIGN_SEND_UNTIL = "00:00", "24:00"
    many(300)
    now = datetime(2026, 7, 1, 12, 0, tzinfo=PACIFIC)
    camp = start(now)
    campaigns.plan_campaign(camp.pk)
    run_loop(camp, now)

    times = sorted(CampaignRecipient.objects.values_list("sent_at", flat=True))
    assert len(times) == 300 and None not in times
    span = (times[-1] - times[0]).total_seconds()
    assert abs((len(times) - 1) / span - mps) <= 0.1 * mps
    for i, t in enumerate(times):  # no 10-second window holds more than 10% over the rate
        in_window = sum(1 for u in times[i:] if u < t + timedelta(seconds=10))
        assert in_window <= 10 * mps * 1.1
    due = Message.objects.aggregate(first=Min("next_attempt_at"), last=Max("next_attempt_at"))
    assert due["last"] == times[-1]  # each text is held until its time


def test_order_texts_take_their_slots_before_promotions(settings):
    settings.SMS_MPS = 1
    settings.CAMPAIGN_SEND_FROM, settings.CAMPAIGN_SEND_UNTIL = "00:00", "24:00"
    many(30)
    for n in range(4):  # four order replies queued in the last few seconds
        send_sms(f"+1650555{n:04d}", "Your order is ready")
    now = timezone.now()
    camp = start(now)
    campaigns.send_campaign(camp.pk, now=now)
    assert len(texted(camp)) == 10 - 4


def test_two_campaigns_do_not_double_the_rate(settings):
    settings.SMS_MPS = 1
    settings.CAMPAIGN_SEND_FROM, settings.CAMPAIGN_SEND_UNTIL = "00:00", "24:00"
    many(30)
    now = datetime(2026, 7, 1, 12, 0, tzinfo=PACIFIC)
    first, second = start(now), start(now + timedelta(seconds=1))
    campaigns.send_campaign(first.pk, now=now)
    campaigns.send_campaign(second.pk, now=now)
    assert (len(texted(first)), len(texted(second))) == (10, 0)


def test_an_order_confirmation_overtakes_a_running_campaign(settings, outbox):
    """The telephony worker sends the confirmation before every promotion that is due
    (they are held until their time; it is fresh)."""
    settings.TELEPHONY_SEND_AT_COMMIT = False  # the worker sends, as in production
    settings.SMS_MPS = 100
    settings.CAMPAIGN_SEND_FROM, settings.CAMPAIGN_SEND_UNTIL = "00:00", "24:00"
    many(200)
    earlier = timezone.now() - timedelta(minutes=1)  # so every promotion is due now
    camp = start(earlier)
    campaigns.send_campaign(camp.pk, now=earlier)
    send_sms("+16505550100", "Order #12 placed")
    assert Message.objects.filter(status="queued", sid=None).count() == 201

    worker_pass()

    assert len(outbox) == 50  # one turn: 50 texts at most, the confirmation first
    assert outbox[0].body == "Order #12 placed"
    assert all(r.body.startswith(camp.body) for r in outbox[1:])


# --- queue overflow --------------------------------------------------------------------


def test_a_30001_pauses_the_campaign_says_why_and_send_resumes_it(settings, admin_client):
    settings.SMS_MPS = 1
    settings.CAMPAIGN_SEND_FROM, settings.CAMPAIGN_SEND_UNTIL = "00:00", "24:00"
    many(40)
    now = timezone.now()
    camp = start(now)
    campaigns.send_campaign(camp.pk, now=now)
    assert len(texted(camp)) == 10
    message = Message.objects.filter(content_type__model="campaign").first()
    Message.objects.filter(pk=message.pk).update(sid="SM" + "a" * 32)
    record_status("SM" + "a" * 32, "failed", error_code=30001)

    assert campaigns.send_due_texts(camp.pk, now=now + timedelta(seconds=10)) is None
    camp.refresh_from_db()
    assert camp.state == Campaign.State.PAUSED and len(texted(camp)) == 10
    assert "error 30001" in camp.pause_reason and "SMS_MPS" in camp.pause_reason
    page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[camp.pk]))
    assert "Twilio reported error 30001 (queue overflow" in page.content.decode()

    campaigns.start_campaign(camp, now=now + timedelta(minutes=5))  # staff press Send
    campaigns.send_due_texts(camp.pk, now=now + timedelta(minutes=5))
    camp.refresh_from_db()
    assert camp.state == Campaign.State.SENDING and camp.pause_reason == ""
    assert len(texted(camp)) == 20
