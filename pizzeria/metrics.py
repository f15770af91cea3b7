"""/metrics in Prometheus's text format (prometheus-client), read from the database when
scraped, so every process's work counts (web, workers) without a shared metrics folder.

Each figure is a gauge over a window, read through indexed columns (a fixed number of
queries, however large the tables): texts received and answered and how long replies took
(the last 15 minutes), sends by outcome and Twilio error code (15 minutes), each outbox's
depth and oldest row, calls by outcome and campaign texts (today), orders by stage (those
not finished, and today's finished), and each background process's last beat.

Access: `Authorization: Bearer <METRICS_TOKEN>`, or a client address in
METRICS_ALLOWED_NETWORKS (the connection's address: behind a proxy, the proxy's, so the
deploy/ nginx site refuses /metrics from outside). With neither set, /metrics is a 404.
"""

import hmac
import ipaddress
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily

WINDOW = timedelta(minutes=15)
REPLY_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300)


@require_GET
@never_cache
def metrics(request):
    if not (settings.METRICS_TOKEN or settings.METRICS_ALLOWED_NETWORKS):
        raise Http404("metrics are off")
    if not _allowed(request):
        return HttpResponseForbidden("not allowed", content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ShopCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _allowed(request):
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_NETWORKS
    )


class ShopCollector:
    def collect(self):
        from campaigns.models import CampaignRecipient
        from orders.models import FINISHED, Order
        from payments.outbox import REQUESTS as STRIPE
        from support.models import SupportCall
        from telephony import processes
        from telephony.models import Message, WorkerProcess
        from telephony.sms import TEXTS
        from telephony.voice import REQUESTS as VOICE

        now = timezone.now()
        since = now - WINDOW
        day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)

        inbound = Message.objects.filter(
            direction=Message.Direction.INBOUND, created_at__gte=since
        ).exclude(channel=Message.Channel.VOICE)
        texts = inbound.aggregate(
            received=Count("pk"), answered=Count("pk", filter=Q(handled_at__isnull=False))
        )
        yield _gauge(
            "pizzeria_texts_received", "Texts received, last 15 minutes", texts["received"]
        )
        yield _gauge("pizzeria_texts_answered", "Of those, answered", texts["answered"])

        latency = ExpressionWrapper(F("sent_at") - F("in_reply_to__created_at"), DurationField())
        replies = Message.objects.filter(
            direction=Message.Direction.OUTBOUND, created_at__gte=since,
            in_reply_to__isnull=False, sent_at__isnull=False,
        ).annotate(latency=latency)  # fmt: skip
        counts = replies.aggregate(
            total=Count("pk"),
            seconds=Sum("latency"),
            **{
                f"le{i}": Count("pk", filter=Q(latency__lte=timedelta(seconds=bound)))
                for i, bound in enumerate(REPLY_BUCKETS)
            },
        )
        buckets = [(str(b), counts[f"le{i}"]) for i, b in enumerate(REPLY_BUCKETS)]
        buckets.append(("+Inf", counts["total"]))
        total_seconds = counts["seconds"].total_seconds() if counts["seconds"] else 0.0
        yield GaugeHistogramMetricFamily(
            "pizzeria_reply_seconds",
            "From a text received to its reply handed to Twilio, replies of the last 15 min",
            buckets=buckets,
            gsum_value=total_seconds,
        )

        sends = GaugeMetricFamily(
            "pizzeria_sends", "Texts sent, last 15 minutes, by status and Twilio error code",
            labels=["status", "error_code"],
        )  # fmt: skip
        rows = (
            Message.objects.filter(direction=Message.Direction.OUTBOUND, created_at__gte=since)
            .values("status", "error_code")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            sends.add_metric([row["status"], str(row["error_code"] or "")], row["n"])
        yield sends

        depth = GaugeMetricFamily("pizzeria_outbox_depth", "Rows not yet made", labels=["kind"])
        oldest = GaugeMetricFamily(
            "pizzeria_outbox_oldest_seconds", "Age of the oldest row not yet made", labels=["kind"]
        )
        for kind, outbox in (("text", TEXTS), ("voice", VOICE), ("stripe", STRIPE)):
            found = outbox.pending().aggregate(n=Count("pk"), first=Min("created_at"))
            depth.add_metric([kind], found["n"])
            age = (now - found["first"]).total_seconds() if found["first"] else 0
            oldest.add_metric([kind], age)
        yield depth
        yield oldest

        calls = GaugeMetricFamily("pizzeria_calls", "Calls today, by outcome", labels=["outcome"])
        for row in (
            SupportCall.objects.filter(started_at__gte=day)
            .values("status")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            calls.add_metric([row["status"]], row["n"])
        yield calls

        orders = GaugeMetricFamily(
            "pizzeria_orders", "Orders not finished, and finished today, by stage", labels=["stage"]
        )
        for row in (
            Order.objects.filter(~Q(status__in=FINISHED) | Q(updated_at__gte=day))
            .values("status")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            orders.add_metric([row["status"]], row["n"])
        yield orders

        campaign = CampaignRecipient.objects.filter(created_at__gte=day).aggregate(
            n_texted=Count("pk", filter=Q(message__isnull=False)),
            n_skipped=Count("pk", filter=~Q(skipped="")),
            n_waiting=Count("pk", filter=Q(message__isnull=True, skipped="")),
        )
        promos = GaugeMetricFamily(
            "pizzeria_campaign_texts", "Promotion texts today, by state", labels=["state"]
        )
        for state, n in campaign.items():
            promos.add_metric([state.removeprefix("n_")], n)
        yield promos

        beats = GaugeMetricFamily(
            "pizzeria_process_beat_age_seconds", "Seconds since each process's last beat",
            labels=["role", "host", "pid"],
        )  # fmt: skip
        up = GaugeMetricFamily(
            "pizzeria_process_up", "1 beating, 0 dead", labels=["role", "host", "pid"]
        )
        for process in WorkerProcess.objects.all()[:100]:
            labels = [process.role, process.host, str(process.pid)]
            beats.add_metric(labels, (now - process.beat_at).total_seconds())
            up.add_metric(labels, 0 if processes.is_dead(process, now) else 1)
        yield beats
        yield up


def _gauge(name, documentation, value):
    return GaugeMetricFamily(name, documentation, value=value)
