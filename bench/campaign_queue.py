"""Queueing a promotion to 100,000 customers: time and memory.

Makes a fresh database with N consenting customers (1% opted out), then writes the
campaign's recipients as the worker would (batches of 500, one transaction each, a
CampaignRecipient row with the number's time zone each; the texts themselves are then
queued at SMS_MPS by the paced loop, see bench/campaign_priority.py). Reports the time, texts per
second, Python's peak traced memory during the send and the process's peak RSS, and the
peak memory of the first tenth of the batches: when the loop holds no list of customers,
the two peaks are the same size.

    bench/run campaign [--recipients 100000] [--batch-size 500] [--database-url URL]
"""

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent


def setup(database_url):
    os.environ.update(
        DATABASE_URL=database_url,
        DEBUG="false",  # DEBUG keeps every query in memory
        SECURE_SSL_REDIRECT="false",
        TELEPHONY_BACKEND="console",
        TASK_BACKEND="django_tasks_db.DatabaseBackend",
        TESTING="false",
    )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pizzeria.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_customers(count):
    from orders.models import Customer
    from telephony.models import OptOut

    chunk = 10_000
    for start in range(0, count, chunk):
        Customer.objects.bulk_create(
            Customer(phone=f"+1415{2000000 + n:07d}")
            for n in range(start, min(count, start + chunk))
        )
    OptOut.objects.bulk_create(
        OptOut(phone_number=f"+1415{2000000 + n:07d}", keyword="STOP") for n in range(0, count, 100)
    )


def run(recipients, batch_size):
    from django.db import connection
    from django.utils import timezone

    from campaigns import services as campaigns
    from campaigns.models import Campaign, CampaignRecipient, Consent
    from orders.models import Customer

    make_customers(recipients)
    campaign = Campaign.objects.create(name="bench", body="Two large pizzas for $25 tonight!")
    Consent.objects.bulk_create(
        Consent(customer=c, phone=str(c.phone), given_at=timezone.now(), source="keyword",
                how="DEALS", text_shown="DEALS")
        for c in Customer.objects.all()
    )  # fmt: skip
    preview = campaigns.preview(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.SENDING)

    tracemalloc.start()
    started = time.perf_counter()
    batches, queued, early_peak = 0, 0, None
    first_tenth = max(1, recipients // batch_size // 10)
    while (count := campaigns.plan_next_batch(campaign.pk, batch_size)) is not None:
        batches, queued = batches + 1, queued + count
        if batches == first_tenth:
            early_peak = tracemalloc.get_traced_memory()[1]
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    again = campaigns.plan_campaign(campaign.pk, batch_size)  # a restarted send
    texts = CampaignRecipient.objects.filter(campaign=campaign).count()
    return {
        "recipients_expected": preview.recipients,
        "queued": queued,
        "message_rows": texts,
        "queued_by_a_second_send": again,
        "batches": batches,
        "batch_size": batch_size,
        "seconds": round(elapsed, 1),
        "texts_per_second": round(queued / elapsed),
        "peak_traced_mib_first_tenth": round((early_peak or 0) / 2**20, 1),
        "peak_traced_mib": round(peak / 2**20, 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "database": connection.vendor,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    report.add_database_url(parser)
    parser.add_argument("--save", help="write the result as JSON to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup(args.database_url or f"sqlite:///{tmp}/bench.sqlite3")
        result = run(args.recipients, args.batch_size)
    print(json.dumps(result, indent=2))
    if args.save:
        Path(args.save).write_text(json.dumps(result, indent=2) + "\n")
    ok = result["queued"] == result["recipients_expected"] == result["message_rows"]
    sys.exit(0 if ok and result["queued_by_a_second_send"] == 0 else 1)


if __name__ == "__main__":
    main()
