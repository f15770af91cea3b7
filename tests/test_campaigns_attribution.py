"""What a campaign brought in: orders (and opt-outs) within CAMPAIGN_ATTRIBUTION_HOURS of
a recipient's text count for it, on its page, in /staff/reports/ and in the CSVs."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignRecipient, Consent
from campaigns.results import results
from orders.models import Order, Status
from telephony.models import Message, OptOut
from tests.factories import ConsentFactory, MessageFactory, OrderFactory

pytestmark = pytest.mark.django_db


def texted(camp, customer, at, status=Message.Status.DELIVERED):
    message = MessageFactory(to_number=str(customer.phone), status=status, sid=None)
    Message.objects.filter(pk=message.pk).update(sid=f"SM{message.pk:032d}")
    return CampaignRecipient.objects.create(
        campaign=camp, customer=customer, message=message, sent_at=at
    )


def order(customer, at, total="20.00", status=None):
    made = OrderFactory(customer=customer, total=Decimal(total))
    fields = {"created_at": at}
    if status:
        fields["status"] = status
    Order.objects.filter(pk=made.pk).update(**fields)
    return made


@pytest.fixture
def sent_at():
    return timezone.now() - timedelta(days=5)


@pytest.fixture
def camp(sent_at):
    return Campaign.objects.create(
        name="Tuesday 2x1", body="Deal", state=Campaign.State.SENT, started_at=sent_at
    )


def test_attribution_counts_only_orders_inside_the_window(camp, sent_at, settings):
    settings.CAMPAIGN_ATTRIBUTION_HOURS = 48
    a, b, c = (ConsentFactory().customer for _ in range(3))
    texted(camp, a, sent_at)
    texted(camp, b, sent_at, status=Message.Status.SENT)
    order(a, sent_at + timedelta(hours=1), "20.00")  # counts
    order(a, sent_at + timedelta(hours=47, minutes=59), "15.50")  # counts
    order(a, sent_at + timedelta(hours=48, minutes=1), "99.00")  # too late
    order(b, sent_at - timedelta(minutes=5), "99.00")  # before the text
    order(b, sent_at + timedelta(hours=2), "99.00", status=Status.CANCELLED)  # cancelled
    order(c, sent_at + timedelta(hours=1), "99.00")  # never texted

    [got] = results([camp])

    assert (got.sent, got.delivered, got.orders, got.revenue) == (2, 1, 2, Decimal("35.50"))
    settings.CAMPAIGN_ATTRIBUTION_HOURS = 72
    assert results([camp])[0].orders == 3


def test_an_order_counts_for_the_last_campaign_before_it(camp, sent_at):
    customer = ConsentFactory().customer
    later = Campaign.objects.create(name="Friday", body="Deal", started_at=sent_at)
    texted(camp, customer, sent_at)
    texted(later, customer, sent_at + timedelta(hours=3))
    order(customer, sent_at + timedelta(hours=4))
    assert [r.orders for r in results([camp, later])] == [0, 1]


def test_opt_outs_caused_are_no_deals_or_stop_within_the_window(camp, sent_at):
    quitter, stopper, stayer, late = (ConsentFactory() for _ in range(4))
    for consent in (quitter, stopper, stayer, late):
        texted(camp, consent.customer, sent_at)
    Consent.objects.filter(pk=quitter.pk).update(
        ended_at=sent_at + timedelta(minutes=3), ended_how="NO DEALS"
    )
    OptOut.objects.create(phone_number=str(stopper.customer.phone), keyword="STOP")
    OptOut.objects.filter(phone_number=str(stopper.customer.phone)).update(
        created_at=sent_at + timedelta(hours=1)
    )
    Consent.objects.filter(pk=late.pk).update(
        ended_at=sent_at + timedelta(days=4), ended_how="NO DEALS"
    )
    assert results([camp])[0].opt_outs == 2


def test_the_campaign_page_reports_and_csvs_carry_the_figures(camp, sent_at, admin_client):
    customer = ConsentFactory().customer
    texted(camp, customer, sent_at)
    order(customer, sent_at + timedelta(hours=1), "42.00")

    page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[camp.pk]))
    assert "<dt>Orders</dt><dd>1</dd>" in page.content.decode()
    assert "<dt>Revenue</dt><dd>$42.00</dd>" in page.content.decode()

    response = admin_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "export_results", "_selected_action": [camp.pk]},
    )
    [row] = csv.DictReader(io.StringIO(response.content.decode()))
    assert (row["campaign"], row["texts sent"], row["orders"], row["revenue"]) == (
        "Tuesday 2x1", "1", "1", "42.00",
    )  # fmt: skip

    day = timezone.localtime(sent_at).date().isoformat()
    report = admin_client.get(reverse("reports:day"), {"day": day})
    assert "Tuesday 2x1" in report.content.decode()
    rows = list(csv.reader(io.StringIO(
        admin_client.get(reverse("reports:day"), {"day": day, "format": "csv"}).content.decode()
    )))  # fmt: skip
    assert ["promotion", "Tuesday 2x1: revenue", "42.00"] in rows
    assert ["promotion", "Tuesday 2x1: orders", "1"] in rows
