"""Promotions: who a campaign reaches, what it costs, and queueing it in resumable batches.

Sending is a loop of short transactions. Each one locks the campaign row, takes the next
BATCH_SIZE customers after the campaign's cursor (keyset pagination, so memory stays flat),
queues their texts through telephony.send_sms, records a CampaignRecipient per customer and
moves the cursor. A crash loses at most the batch in flight, which rolls back whole; starting
the send again resumes at the cursor, and the (campaign, customer) unique constraint refuses
a second text to anyone.
"""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Sum
from django.utils import timezone

from orders.models import Customer, Order
from telephony.models import Message, about_fields
from telephony.outbox import public_url, send_sms
from telephony.reach import opted_out, reachable, textable
from telephony.segments import analyse

from .models import Campaign, CampaignRecipient

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
STOP_FOOTER = "Reply STOP to opt out"
# Already tells people how to opt out: "Reply STOP…", "Text STOP to…", "send stop".
SAYS_STOP = re.compile(r"\b(reply|text|send)\s+stop\b", re.IGNORECASE)


class CampaignError(Exception):
    """A campaign that cannot be sent as it is; the message says why, for staff."""


# --- the text ------------------------------------------------------------------------------


def full_text(body):
    """The text every recipient gets: `body`, ending with how to opt out (carriers require it)."""
    body = (body or "").strip()
    if SAYS_STOP.search(body):
        return body
    return f"{body}\n{STOP_FOOTER}" if body else STOP_FOOTER


def media_urls(campaign):
    """The picture's absolute URL under PUBLIC_BASE_URL, for Twilio to fetch ([] without one)."""
    if not campaign.image:
        return []
    url = public_url(campaign.image.url)
    if not url:
        raise CampaignError("Set PUBLIC_BASE_URL so Twilio can fetch the picture.")
    return [url]


# --- the audience --------------------------------------------------------------------------


def audience(campaign, now=None):
    """Customers the campaign is meant for, opted out or not (see `recipients`)."""
    customers = Customer.objects.all()
    if campaign.last_customer_id is not None:
        customers = customers.filter(pk__lte=campaign.last_customer_id)
    if campaign.audience == Campaign.Audience.RECENT:
        since = campaign.ordered_since or _ordered_since(campaign, now)
        customers = customers.filter(
            Exists(Order.objects.filter(customer=OuterRef("pk"), created_at__gte=since))
        )
    return customers


def recipients(campaign, now=None):
    """The customers who get the text: the audience, less the numbers telephony would not
    text (telephony.reach.textable: opted out, outside SMS_ALLOWED_COUNTRIES,
    premium-rate, withheld), decided in SQL."""
    return audience(campaign, now).filter(textable("phone"))


def _ordered_since(campaign, now=None):
    return (now or timezone.now()) - timedelta(days=campaign.recent_days or 0)


@dataclass(frozen=True)
class Preview:
    recipients: int
    opted_out: int
    other_country: int  # not opted out, but not textable: another country, premium-rate...
    encoding: str
    characters: int
    segments_each: int
    is_mms: bool

    @property
    def total_segments(self):
        return self.recipients * self.segments_each


def preview(campaign, now=None):
    """Before sending: how many get it, how many are left out and why, what it costs
    (one query)."""
    info = analyse(full_text(campaign.body))
    counts = (
        audience(campaign, now)
        .alias(is_opted_out=opted_out("phone"))
        .aggregate(
            everyone=Count("pk"),
            opted_out=Count("pk", filter=Q(is_opted_out=True)),
            # Not opted out, but not a number we text (telephony.reach.reachable): another
            # country, premium-rate or shared-cost, withheld.
            other_country=Count("pk", filter=~reachable("phone") & Q(is_opted_out=False)),
        )
    )
    other_country = counts["other_country"]
    return Preview(
        recipients=counts["everyone"] - counts["opted_out"] - other_country,
        opted_out=counts["opted_out"],
        other_country=other_country,
        encoding=info.encoding,
        characters=info.units,
        segments_each=info.segments,
        is_mms=bool(campaign.image),
    )


# --- sending ---------------------------------------------------------------------------


def start_campaign(campaign, by=None, now=None, batch_size=BATCH_SIZE):
    """Fix the audience (customers who exist now; orders since N days before now) and
    enqueue the sending task, which queues `batch_size` texts per transaction. Starting
    again while it is sending only resumes it."""
    from .tasks import send_campaign_task

    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.state == Campaign.State.SENT:
            raise CampaignError(f"“{campaign}” has already been sent.")
        if not campaign.body.strip():
            raise CampaignError("Write the text first.")
        media_urls(campaign)  # refuse now, not half-way, when the picture cannot be fetched
        if campaign.state == Campaign.State.DRAFT:
            campaign.state = Campaign.State.SENDING
            campaign.started_at, campaign.started_by = now, by
            campaign.last_customer_id = Customer.objects.aggregate(last=Max("pk"))["last"] or 0
            if campaign.audience == Campaign.Audience.RECENT:
                campaign.ordered_since = _ordered_since(campaign, now)
            campaign.save()
        campaign_id = campaign.pk
        transaction.on_commit(lambda: send_campaign_task.enqueue(campaign_id, batch_size))
    return campaign


def queue_next_batch(campaign_id, batch_size=BATCH_SIZE):
    """Queue the texts of the next `batch_size` recipients in one transaction.

    Returns how many were queued, or None when the campaign has nothing left to send (it is
    then marked sent)."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or campaign.state != Campaign.State.SENDING:
            return None
        batch = list(
            recipients(campaign)
            .filter(pk__gt=campaign.cursor)
            .exclude(
                Exists(CampaignRecipient.objects.filter(campaign=campaign, customer=OuterRef("pk")))
            )
            .order_by("pk")
            .values_list("pk", "phone")[:batch_size]
        )
        if not batch:
            campaign.state, campaign.finished_at = Campaign.State.SENT, timezone.now()
            campaign.save(update_fields=["state", "finished_at"])
            logger.info("Campaign %s: all %s texts queued", campaign.pk, campaign.queued)
            return None
        body, media = full_text(campaign.body), media_urls(campaign)
        rows = []
        for customer_id, phone in batch:
            message = send_sms(str(phone), body, media_urls=media, about=campaign)
            rows.append(
                CampaignRecipient(campaign=campaign, customer_id=customer_id, message=message)
            )
        # No ignore_conflicts: if someone else queued one of these customers, this whole
        # batch (its texts too, which are only sent after commit) rolls back.
        CampaignRecipient.objects.bulk_create(rows)
        campaign.cursor = batch[-1][0]
        campaign.queued += len(rows)
        campaign.save(update_fields=["cursor", "queued"])
    return len(rows)


def send_campaign(campaign_id, batch_size=BATCH_SIZE):
    """Queue every remaining batch, committing after each. Returns how many were queued."""
    total = 0
    while (count := queue_next_batch(campaign_id, batch_size)) is not None:
        total += count
    return total


# --- progress --------------------------------------------------------------------------

PENDING = [Message.Status.QUEUED, Message.Status.SENDING, Message.Status.ACCEPTED,
           Message.Status.SCHEDULED]  # fmt: skip
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
