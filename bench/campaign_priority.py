"""An order confirmation during a 10,000-recipient promotion: its time to the provider.

Makes a fresh database with N consenting customers, starts a campaign and runs the real
workers (`manage.py db_worker` for the campaign's turns, `manage.py telephony_worker`, the
outbox's consumer, locmem provider) in other processes. Meanwhile it texts an
order confirmation every `--every` seconds and measures each one's time from being queued
(its row committed) to the provider accepting it (`sent_at`). Two runs:

- `paced`: the campaign at SMS_MPS (default 10 here: a short code or a Messaging Service), as in
  production;
- `backlog`: the worst case, every promotion due at once (a worker that was down, or
  SMS_MPS set far too high): N promotions due in the outbox, and the confirmation, fresh,
  must overtake them (held texts go after fresh ones).

    bench/run campaign-priority [--recipients 10000] [--seconds 40] [--every 1] [--mps 50]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent


def environment(database_url, mps):
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "TELEPHONY_BACKEND": "locmem",
        "TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        "TESTING": "false",
        "SMS_MPS": str(mps),
        "CAMPAIGN_SEND_FROM": "00:00",
        "CAMPAIGN_SEND_UNTIL": "24:00",
        "LOG_LEVEL": "WARNING",
        "DATABASE_LOCK_TIMEOUT": "20",
        "DJANGO_SETTINGS_MODULE": "pizzeria.settings",
    }


def setup(env):
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_customers(count):
    from django.utils import timezone

    from campaigns.models import Consent
    from orders.models import Customer

    Customer.objects.bulk_create(Customer(phone=f"+1415{2000000 + n:07d}") for n in range(count))
    Consent.objects.bulk_create(
        Consent(customer=c, phone=str(c.phone), given_at=timezone.now(), source="keyword",
                how="DEALS", text_shown="DEALS")
        for c in Customer.objects.all()
    )  # fmt: skip


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def measure(mode, recipients, seconds, every, env):
    from django.db import transaction
    from django.utils import timezone

    from campaigns import services as campaigns
    from campaigns.models import Campaign
    from telephony.models import Message
    from telephony.sms import send_sms

    campaign = Campaign.objects.create(name=mode, body="Two large pizzas for $25 tonight!")
    if mode == "backlog":
        with transaction.atomic():
            Campaign.objects.filter(pk=campaign.pk).update(
                state=Campaign.State.SENDING, started_at=timezone.now()
            )
        campaigns.plan_campaign(campaign.pk)
        from django.test import override_settings

        with override_settings(SMS_MPS=1_000_000):  # every text due now
            campaigns.send_due_texts(campaign.pk)
    else:
        campaigns.start_campaign(campaign)
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for command in (
            ("db_worker", "--interval", "0.05", "--no-startup-delay"),
            ("telephony_worker",),
        )
    ]
    confirmations = []
    try:
        time.sleep(3)  # the worker starts and the campaign is under way
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            with transaction.atomic():
                message = send_sms(f"+1650555{n % 10000:04d}", f"Order #{n} placed")
            confirmations.append(message.pk)
            n += 1
            time.sleep(every)
        time.sleep(3)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    rows = Message.objects.filter(pk__in=confirmations).values_list("created_at", "sent_at")
    latencies = [(sent - made).total_seconds() for made, sent in rows if sent]
    promotions = Message.objects.filter(object_id=str(campaign.pk), sid__isnull=False)
    return {
        "mode": mode,
        "confirmations": len(confirmations),
        "confirmations_sent": len(latencies),
        "p50_seconds": round(statistics.median(latencies), 3) if latencies else None,
        "p99_seconds": round(percentile(latencies, 99), 3) if latencies else None,
        "max_seconds": round(max(latencies), 3) if latencies else None,
        "promotions_sent_meanwhile": promotions.count(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--every", type=float, default=1.0)
    parser.add_argument("--mps", type=float, default=10)
    parser.add_argument("--save", action="store_true", help="write bench/results/…json")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = environment(f"sqlite:///{tmp}/bench.sqlite3", args.mps)
        setup(env)
        from campaigns.models import Campaign

        make_customers(args.recipients)
        for mode in ("paced", "backlog"):
            results.append(measure(mode, args.recipients, args.seconds, args.every, env))
            Campaign.objects.update(state=Campaign.State.SENT)  # the next run's alone
    result = {"recipients": args.recipients, "sms_mps": args.mps, "runs": results,
              "machine": report.machine()}  # fmt: skip
    print(json.dumps(result, indent=2))
    if args.save:
        print("saved to", report.save("campaign-priority-sqlite", result))
    sys.exit(
        0 if all(r["p99_seconds"] is not None and r["p99_seconds"] < 2 for r in results) else 1
    )


if __name__ == "__main__":
    main()
