"""Promotions: who a campaign reaches (consented customers only), what it costs, and
sending it at the sender's rate, inside each recipient's daytime.

Starting writes one CampaignRecipient per recipient (with the time zone of their number)
in short batches that resume from the campaign's cursor; the (campaign, customer) unique
constraint refuses a second text to anyone. Then a loop (`send_due_texts`, a task that
re-enqueues itself every TICK_SECONDS, and the worker's sweep when a turn is lost) gives
each text a time at SMS_MPS and queues it held until then (send_sms's send_after), so
Twilio's queue stays short and order texts, never held, overtake promotions.
"""

import logging
import math
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from orders.models import Customer, Order
from telephony.models import Message, about_fields
from telephony.outbox import public_url
from telephony.reach import country_allowed, opted_out, reachable, textable
from telephony.segments import analyse
from telephony.sms import send_sms
from telephony.tasks import enqueue_or_leave_to_sweep

from . import quiet as quiet_hours
from .models import Campaign, CampaignRecipient, Consent

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# The sending loop's turn: texts are given their times this far ahead.
TICK_SECONDS = 10
# Twilio errors that mean texts leave faster than the sender may send: pause, say why.
QUEUE_OVERFLOW = {
    30001: "queue overflow: held too long in Twilio's queue",
    30022: "US A2P 10DLC rate limit exceeded",
    30023: "US A2P 10DLC daily message cap reached",
}
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


def _consented():
    return Exists(Consent.objects.filter(customer=OuterRef("pk"), ended_at__isnull=True))


def audience(campaign, now=None):
    """Customers the segment matches, consented or not (see `recipients`)."""
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
    """The segment, less customers without marketing consent and the numbers telephony would
    not text (telephony.reach.textable, in SQL: opted out, outside SMS_ALLOWED_COUNTRIES by
    calling code, premium-rate, withheld). Calling codes several countries share (+7, +44)
    are told apart row by row by `may_reach`, as send_sms does."""
    return audience(campaign, now).filter(_consented()).filter(textable("phone"))


def may_reach(phone):
    """The country rule of send_sms itself (phonenumbers, so +1, +7 and +44, which several
    countries share, are told apart by the number, not the calling code)."""
    return country_allowed(str(phone))


def _ordered_since(campaign, now=None):
    return (now or timezone.now()) - timedelta(days=campaign.recent_days or 0)


@dataclass(frozen=True)
class Preview:
    matched: int
    recipients: int
    no_consent: int
    opted_out: int
    other_country: int  # consented, not opted out, but not a number we text (country...)
    quiet_hours: int
    encoding: str
    characters: int
    segments_each: int
    is_mms: bool

    @property
    def total_segments(self):
        return self.recipients * self.segments_each


def preview(campaign, now=None):
    """Before sending: how many the segment matches, how many get it, how many are left
    out and why (no consent, opted out, country), how many would wait for their quiet
    hours to end if it started `now`, and what it costs (two queries)."""
    now = now or timezone.now()
    info = analyse(full_text(campaign.body))
    counts = (
        audience(campaign, now)
        .alias(is_opted_out=opted_out("phone"), consented=_consented())
        .aggregate(
            matched=Count("pk"),
            opted_out=Count("pk", filter=Q(is_opted_out=True)),
            no_consent=Count("pk", filter=Q(is_opted_out=False, consented=False)),
            # Consented, not opted out, but not a number we text (telephony.reach.reachable):
            # another country, premium-rate or shared-cost, withheld.
            unreachable=Count(
                "pk", filter=~reachable("phone") & Q(is_opted_out=False, consented=True)
            ),
        )
    )
    other_country, quiet = counts["unreachable"], 0
    for phone in recipients(campaign, now).values_list("phone", flat=True).iterator():
        if not may_reach(phone):
            other_country += 1
        elif not quiet_hours.is_open(quiet_hours.zones_for(phone), now):
            quiet += 1
    return Preview(
        matched=counts["matched"],
        recipients=counts["matched"] - counts["opted_out"] - counts["no_consent"] - other_country,
        no_consent=counts["no_consent"],
        opted_out=counts["opted_out"],
        other_country=other_country,
        quiet_hours=quiet,
        encoding=info.encoding,
        characters=info.units,
        segments_each=info.segments,
        is_mms=bool(campaign.image),
    )


# --- sending ---------------------------------------------------------------------------


def start_campaign(campaign, by=None, now=None, batch_size=BATCH_SIZE):
    """Fix the audience (customers who exist now; orders since N days before now) and
    enqueue the sending task. Starting a campaign that is sending does nothing more;
    starting a paused one resumes it."""
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
        elif campaign.state == Campaign.State.PAUSED:
            campaign.state, campaign.resumed_at, campaign.pause_reason = (
                Campaign.State.SENDING,
                now,
                "",
            )
            campaign.save(update_fields=["state", "resumed_at", "pause_reason"])
        # Its first turn is due now: the task takes it, or the sweep does if the queue
        # refused the task (sweep_campaigns; a turn taken twice queues nothing twice).
        Campaign.objects.filter(pk=campaign.pk, next_tick_at__isnull=True).update(next_tick_at=now)
        campaign_id = campaign.pk
        transaction.on_commit(
            lambda: enqueue_or_leave_to_sweep(send_campaign_task, campaign_id, batch_size)
        )
    return campaign


def plan_next_batch(campaign_id, batch_size=BATCH_SIZE):
    """Write the recipient rows (with their time zones) of the next `batch_size`
    customers in one transaction. Returns how many, or None when every one is written."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or campaign.planned or campaign.state == Campaign.State.DRAFT:
            return None
        batch = list(
            recipients(campaign)
            .filter(pk__gt=campaign.cursor)
            .order_by("pk")
            .values_list("pk", "phone")[:batch_size]
        )
        if not batch:
            campaign.planned = True
            campaign.save(update_fields=["planned"])
            return None
        rows = [
            CampaignRecipient(
                campaign=campaign, customer_id=customer_id, time_zone=quiet_hours.zones_for(phone)
            )
            for customer_id, phone in batch
            if may_reach(phone)
        ]
        # No ignore_conflicts: if someone else wrote one of these customers, this whole
        # batch rolls back.
        CampaignRecipient.objects.bulk_create(rows)
        campaign.cursor = batch[-1][0]
        campaign.save(update_fields=["cursor"])
    return len(rows)


def plan_campaign(campaign_id, batch_size=BATCH_SIZE):
    total = 0
    while (count := plan_next_batch(campaign_id, batch_size)) is not None:
        total += count
    return total


def _overflow(campaign):
    """A queue-overflow error on one of the campaign's texts since it (re)started, or None."""
    errors = Message.objects.filter(**about_fields(campaign), error_code__in=QUEUE_OVERFLOW)
    if since := campaign.resumed_at or campaign.started_at:
        errors = errors.filter(updated_at__gte=since)
    return errors.values_list("error_code", flat=True).first()


def _pending(campaign):
    return CampaignRecipient.objects.filter(campaign=campaign, message__isnull=True, skipped="")


def send_due_texts(campaign_id, now=None):
    """One turn of the sending loop: queue the texts that may leave in the next
    TICK_SECONDS, each at its own time (SMS_MPS a second), to recipients whose
    quiet hours are over. Returns the seconds until the next turn, or None when the
    campaign is finished, paused or gone.

    The rate is shared: texts that are not promotions, queued in the last turn (order
    replies, stage texts), take slots first, and only the oldest campaign that is
    sending uses the slots, so two campaigns never double the rate. Each text is held
    until its time (send_after, even a time just past), and the outbox sends fresh texts
    before held ones, so an order text that arrives meanwhile goes first."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or campaign.state != Campaign.State.SENDING:
            return None
        if code := _overflow(campaign):
            campaign.state = Campaign.State.PAUSED
            campaign.pause_reason = (
                f"Paused at {timezone.localtime(now):%H:%M}: Twilio reported error {code} "
                f"({QUEUE_OVERFLOW[code]}) on one of its texts. Texts are leaving faster than "
                f"the sender may send them: check SMS_MPS, then press Send to resume."
            )
            campaign.save(update_fields=["state", "pause_reason"])
            logger.warning("Campaign %s paused: error %s", campaign.pk, code)
            return None
        pending = _pending(campaign)
        # Consent or the number may have ended since the rows were written.
        pending.exclude(
            Exists(Consent.objects.filter(customer=OuterRef("customer"), ended_at__isnull=True))
        ).update(skipped="no consent")
        pending.filter(opted_out("customer__phone")).update(skipped="opted out")
        earlier = bool(campaign.started_at) and (
            Campaign.objects.filter(
                state=Campaign.State.SENDING, started_at__lt=campaign.started_at
            ).exists()
        )
        zones = set(pending.values_list("time_zone", flat=True).distinct())
        if not zones:
            if campaign.planned:
                campaign.state, campaign.finished_at = Campaign.State.SENT, now
                campaign.save(update_fields=["state", "finished_at"])
                logger.info("Campaign %s: all %s texts queued", campaign.pk, campaign.queued)
                return None
            return TICK_SECONDS
        end = now + timedelta(seconds=TICK_SECONDS)
        step = timedelta(seconds=1 / settings.SMS_MPS)
        start = max(now, campaign.next_slot_at or now)
        since = now - timedelta(seconds=TICK_SECONDS)
        recent = Message.objects.filter(
            direction=Message.Direction.OUTBOUND, created_at__gt=since, created_at__lte=now
        )
        others = recent.exclude(content_type=ContentType.objects.get_for_model(Campaign)).count()
        start += others * step
        slots = 0 if earlier else max(0, math.ceil((end - start) / step))
        open_zones = [z for z in zones if quiet_hours.is_open(z, start)
                      and quiet_hours.is_open(z, end)]  # fmt: skip
        batch = list(
            pending.filter(time_zone__in=open_zones)
            .select_related("customer")
            .order_by("pk")[:slots]
        )
        body, media = full_text(campaign.body), media_urls(campaign)
        for i, recipient in enumerate(batch):
            due = start + i * step
            recipient.message = send_sms(
                str(recipient.customer.phone), body, media_urls=media, about=campaign,
                send_after=due,
            )  # fmt: skip
            recipient.sent_at = due
        CampaignRecipient.objects.bulk_update(batch, ["message", "sent_at"])
        campaign.next_slot_at = start + len(batch) * step
        campaign.queued += len(batch)
        if campaign.planned and not _pending(campaign).exists():
            campaign.state, campaign.finished_at = Campaign.State.SENT, now
            campaign.save(update_fields=["state", "finished_at", "next_slot_at", "queued"])
            logger.info("Campaign %s: all %s texts queued", campaign.pk, campaign.queued)
            return None
        closed = [z for z in zones if z not in open_zones]
        wait = TICK_SECONDS
        if not batch and closed and not earlier:
            opens = [quiet_hours.opens_at(z, now) for z in closed]
            if any(opens):
                wait = max(TICK_SECONDS, (min(o for o in opens if o) - now).total_seconds())
            else:
                pending.filter(time_zone__in=closed).update(skipped="no daytime in all its zones")
        campaign.next_tick_at = now + timedelta(seconds=wait)
        campaign.save(update_fields=["next_slot_at", "queued", "next_tick_at"])
    return wait


def send_campaign(campaign_id, batch_size=BATCH_SIZE, now=None):
    """Write the recipients, then take one turn of the sending loop. Returns the seconds
    until the next turn (None: nothing more to do)."""
    plan_campaign(campaign_id, batch_size)
    return send_due_texts(campaign_id, now)


def sweep_campaigns(now=None):
    """settings.TELEPHONY_SWEEPS: take the turn of any campaign whose task was lost or
    whose task backend cannot run a task later (then this is its loop, once a minute)."""
    now = now or timezone.now()
    for campaign_id in Campaign.objects.filter(
        state=Campaign.State.SENDING, next_tick_at__lte=now
    ).values_list("pk", flat=True):
        plan_campaign(campaign_id)
        send_due_texts(campaign_id, now)


@dataclass(frozen=True)
class Waiting:
    zones: str
    count: int
    until: object


def waiting(campaign, now=None):
    """Recipients whose text waits for their quiet hours to end: per zone, how many and
    until when (the page shows it)."""
    now = now or timezone.now()
    rows = _pending(campaign).values("time_zone").annotate(count=Count("pk")).order_by("time_zone")
    out = []
    for row in rows:
        until = quiet_hours.opens_at(row["time_zone"], now)
        if until != now:
            out.append(Waiting(row["time_zone"], row["count"], until))
    return out
