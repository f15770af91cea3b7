"""How a promotion went: where its texts are (`progress`), and what it brought in
(`results`: orders a recipient placed within CAMPAIGN_ATTRIBUTION_HOURS of its text, last
touch)."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum

from orders.models import Order, Status
from telephony.models import Message, OptOut, about_fields

from .models import Campaign, CampaignRecipient, Consent

# --- progress --------------------------------------------------------------------------

PENDING = [Message.Status.QUEUED, Message.Status.CLAIMED, Message.Status.SENDING,
           Message.Status.ACCEPTED, Message.Status.SCHEDULED]  # fmt: skip
DELIVERED = [Message.Status.DELIVERED, Message.Status.READ]
FAILED = [Message.Status.FAILED, Message.Status.UNDELIVERED, Message.Status.CANCELED]


@dataclass(frozen=True)
class Progress:
    total: int
    queued: int
    sent: int
    delivered: int
    failed: int
    segments: int

    @property
    def finished(self):
        return self.total - self.queued

    def percent(self, part):
        return round(100 * part / self.total) if self.total else 0


def progress(campaign):
    """Where the campaign's texts are, from their delivery status callbacks (one query)."""
    counts = Message.objects.filter(**about_fields(campaign)).aggregate(
        total=Count("pk"),
        queued=Count("pk", filter=Q(status__in=PENDING)),
        sent=Count("pk", filter=Q(status=Message.Status.SENT)),
        delivered=Count("pk", filter=Q(status__in=DELIVERED)),
        failed=Count("pk", filter=Q(status__in=FAILED)),
        segments=Sum("num_segments", default=0),
    )
    return Progress(**counts)


# --- attribution -------------------------------------------------------------------------


@dataclass(frozen=True)
class Results:
    campaign: Campaign
    sent: int
    delivered: int
    opt_outs: int
    orders: int
    revenue: Decimal


def attributed_campaign():
    """For an Order queryset: the campaign whose text the customer got last before the
    order, within CAMPAIGN_ATTRIBUTION_HOURS (last touch: an order counts once)."""
    window = timedelta(hours=settings.CAMPAIGN_ATTRIBUTION_HOURS)
    return Subquery(
        CampaignRecipient.objects.filter(
            customer=OuterRef("customer"),
            message__isnull=False,
            sent_at__lte=OuterRef("created_at"),
            sent_at__gte=OuterRef("created_at") - window,
        )
        .order_by("-sent_at", "-pk")
        .values("campaign_id")[:1]
    )


def results(campaigns):
    """Texts sent and delivered, opt-outs caused (NO DEALS or STOP within the window after
    the text), orders and revenue attributed, for each campaign (four queries)."""
    campaigns = list(campaigns)
    ids = [c.pk for c in campaigns]
    window = timedelta(hours=settings.CAMPAIGN_ATTRIBUTION_HOURS)
    texts = dict(
        (row["campaign"], row)
        for row in CampaignRecipient.objects.filter(campaign__in=ids, message__isnull=False)
        .values("campaign")
        .annotate(
            sent=Count("pk", filter=Q(message__sid__isnull=False)),
            delivered=Count("pk", filter=Q(message__status__in=DELIVERED)),
        )
    )
    ended = Exists(
        Consent.objects.filter(
            customer=OuterRef("customer"),
            ended_at__gte=OuterRef("sent_at"),
            ended_at__lte=OuterRef("sent_at") + window,
        )
    ) | Exists(
        OptOut.objects.filter(
            phone_number=OuterRef("customer__phone"),
            created_at__gte=OuterRef("sent_at"),
            created_at__lte=OuterRef("sent_at") + window,
        )
    )
    opt_outs = dict(
        CampaignRecipient.objects.filter(campaign__in=ids, message__isnull=False)
        .filter(ended)
        .values("campaign")
        .annotate(n=Count("pk"))
        .values_list("campaign", "n")
    )
    orders = {
        row["campaign_id"]: row
        for row in Order.objects.exclude(status=Status.CANCELLED)
        .annotate(campaign_id=attributed_campaign())
        .filter(campaign_id__in=ids)
        .values("campaign_id")
        .annotate(n=Count("pk"), revenue=Sum("total"))
    }
    return [
        Results(
            campaign=c,
            sent=texts.get(c.pk, {}).get("sent", 0),
            delivered=texts.get(c.pk, {}).get("delivered", 0),
            opt_outs=opt_outs.get(c.pk, 0),
            orders=orders.get(c.pk, {}).get("n", 0),
            revenue=orders.get(c.pk, {}).get("revenue") or Decimal("0"),
        )
        for c in campaigns
    ]
