"""From a staff status change to the SMS request leaving a worker, through the product's path.

Staff moves one order at a time (orders.services.advance_order, committed) while the
processes scripts/run starts run beside it: `manage.py db_worker` at scripts/run's
`--interval` and one `manage.py telephony_worker` with its defaults (the outbox's one
consumer: woken by NOTIFY on PostgreSQL, polling every TELEPHONY_WORKER_POLL on SQLite), with
the real `twilio` backend, sending to a local fake of Twilio's REST API
(tests/fixtures/fake_twilio.py), which notes when each request arrived. Latency = arrival -
commit. Changes come at random moments, as staff clicks do. The baseline, measured in the
same run, is this process sending one text straight through the same backend to the same
fake (the provider call alone).

    bench/run status [--changes 400] [--interval SECONDS] [--database-url URL]
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-auth-token-" + "0" * 16


def scripts_run_interval():
    """db_worker's --interval in scripts/run, so the bench runs what the product runs."""
    found = re.search(r"db_worker --interval ([0-9.]+)", (ROOT / "scripts" / "run").read_text())
    return float(found.group(1))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values_ms):
    return {
        "count": len(values_ms),
        "p50_ms": round(percentile(values_ms, 50), 2),
        "p90_ms": round(percentile(values_ms, 90), 2),
        "p99_ms": round(percentile(values_ms, 99), 2),
        "max_ms": round(max(values_ms), 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=400)
    parser.add_argument(
        "--interval", type=float, default=scripts_run_interval(), help="db_worker poll (s)"
    )
    report.add_database_url(parser)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="pizzeria-status-"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url or f"sqlite:///{folder}/status.sqlite3",
        "TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        "TELEPHONY_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "b" * 32,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_HTTP_TIMEOUT": "5",
        "PUBLIC_BASE_URL": "https://pizza.example.com",
        "SHOP_HOURS": "24/7",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "localhost",
        "PYTHONUNBUFFERED": "1",
    }
    sys.path.insert(0, str(ROOT))
    # The fake lives with the tests; importing it loads pytest, which would put the
    # settings in test mode, so Django is set up first.
    os.environ.update(env, DJANGO_SETTINGS_MODULE="pizzeria.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.fixtures.fake_twilio import FakeTwilio

    fake = FakeTwilio().start()
    env["TWILIO_API_BASE_URL"] = os.environ["TWILIO_API_BASE_URL"] = fake.url
    from django.conf import settings

    settings.TWILIO_API_BASE_URL = fake.url
    call_command("migrate", verbosity=0)

    from orders.models import Customer, Order
    from orders.services import advance_order
    from telephony.backends import get_backend

    print(f"==> {connection.vendor}: {args.changes} status changes, db_worker --interval "
          f"{args.interval} and a telephony_worker")  # fmt: skip
    customer, _ = Customer.objects.get_or_create(phone="+14155550123")
    orders = [
        Order.objects.create(customer=customer, fulfilment="pickup", status="preparing")
        for _ in range(args.changes)
    ]
    baseline = []
    backend = get_backend()
    for _ in range(min(200, args.changes)):
        started = time.time()
        backend.send_sms(to="+14155550123", body="baseline", from_="+15005550006")
        baseline.append((fake.requests[-1].at - started) * 1000)
    fake.requests.clear()

    log = (folder / "worker.log").open("w")
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for command in (
            ["db_worker", "--interval", str(args.interval), "--no-reload", "--no-startup-delay"],
            ["telephony_worker"],
        )
    ]
    latencies, commits, arrivals = [], [], []
    try:
        time.sleep(3)  # the worker starts
        rng = random.Random(1)
        for order in orders:
            # Staff click at any moment, not just after the worker's last send: without
            # this pause every change would land at the same point of the worker's poll.
            time.sleep(rng.uniform(0, args.interval))
            sent = len(fake.requests)
            advance_order(order, "baking")
            committed = time.time()
            fake.wait_for(lambda sent=sent: len(fake.requests) > sent, timeout=30)
            latencies.append((fake.requests[sent].at - committed) * 1000)
            commits.append(committed)
            arrivals.append(fake.requests[sent].at)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        fake.stop()
    assert len(fake.requests) == args.changes, "each change sent exactly one text"
    result = {
        "benchmark": "status",
        "database": connection.vendor,
        "db_worker_interval_s": args.interval,
        "telephony_worker_poll_s": settings.TELEPHONY_WORKER_POLL,
        "telephony_worker_listen_poll_s": settings.TELEPHONY_WORKER_LISTEN_POLL,
        "woken_by": "NOTIFY" if connection.vendor == "postgresql" else "poll",
        "status_change_to_provider": summary(latencies),
        "baseline_direct_provider_call": summary(baseline),
        "ratio_p50": round(percentile(latencies, 50) / percentile(baseline, 50), 1),
        "machine": report.machine(),
    }
    report.save(f"status-{connection.vendor}", result)
    print(json.dumps(result, indent=2))
    log.close()
    shutil.rmtree(folder, ignore_errors=True)  # the scratch database and the worker's log


if __name__ == "__main__":
    main()
