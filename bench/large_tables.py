"""Staff pages and the SMS paths with a million orders and five million messages.

Fills a fresh database (a temporary SQLite file, or --database-url) with raw bulk
inserts, then times, in-process through Django's test client: the admin order list
(first page, searched by phone, filtered by stage), the message list, the staff board,
the inbound SMS webhook and the worker's handling of a STATUS text. Each is timed
without the indexes added for this benchmark, then with them (ratio = before/after);
the slowest query of each page and its plan are kept in the results.

    bench/run large [--orders 1000000] [--messages 5000000] [--repeat 5] [--database-url URL]
"""

import argparse
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-auth-token-" + "0" * 16
SHOP = "+15005550006"
# (app, migration that adds the indexes): the "before" timings run with it unapplied.
INDEX_MIGRATIONS = [
    ("orders", "0003_large_table_indexes"),
    ("telephony", "0004_partial_number_indexes"),
]
SIDS = itertools.count()
FINISHED = ["picked_up", "delivered", "cancelled"]
ACTIVE = ["received", "preparing", "baking", "quality_check", "ready_for_pickup",
          "out_for_delivery"]  # fmt: skip


def configure(database_url):
    os.environ.update(
        DATABASE_URL=database_url,
        TELEPHONY_BACKEND="locmem",
        TASK_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
        TWILIO_ACCOUNT_SID="AC" + "b" * 32,
        TWILIO_AUTH_TOKEN=TOKEN,
        PUBLIC_BASE_URL="https://pizza.example.com",
        ALLOWED_HOSTS="testserver",
        SHOP_HOURS="24/7",
        LOG_LEVEL="WARNING",
        DJANGO_LOG_LEVEL="WARNING",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        DJANGO_SETTINGS_MODULE="pizzeria.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def phone(n):
    return f"+1415{2000000 + n:07d}"


def fill(orders, messages, customers):
    """Bulk-insert customers, orders (ids in time order) and messages, in big transactions."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from orders.models import Order

    order_type = ContentType.objects.get_for_model(Order).pk
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=365)
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")

    def batches(total, make, size=50_000):
        for first in range(0, total, size):
            yield [make(i) for i in range(first, min(total, first + size))]

    def insert(table, columns, rows_batches):
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        for rows in rows_batches:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)

    def at(i, total):
        return adapt(start + timedelta(seconds=365 * 86400 * i / total))

    insert(
        "orders_customer",
        ["id", "phone", "name", "address", "created_at"],
        batches(customers, lambda i: (i + 1, phone(i), "", "", at(i, customers))),
    )
    active_from = orders - 300  # the evening's orders are still on the board

    def order(i):
        status = rng.choice(ACTIVE) if i >= active_from else rng.choice(FINISHED)
        when = at(i, orders)
        return (i + 1, rng.randrange(customers) + 1, "pickup", "", status, "16.00", when, 0,
                when, when, f"bench-{i}")  # fmt: skip

    insert(
        "orders_order",
        ["id", "customer_id", "fulfilment", "address", "status", "total", "promised_at",
         "late_notices", "created_at", "updated_at", "token"],
        batches(orders, order),
    )  # fmt: skip

    def message(i):
        customer = rng.randrange(customers)
        when = at(i, messages)
        inbound = i % 3 == 0
        status = "received" if inbound else rng.choice(["delivered"] * 30 + ["failed"])
        return (
            "in" if inbound else "out",
            phone(customer) if inbound else SHOP,
            SHOP if inbound else phone(customer),
            "STATUS" if inbound else "Your order is in the oven",
            "[]", f"SMf{i:031x}", status, None if status != "failed" else 30003, "", 1, 1,
            None if inbound else order_type,
            "" if inbound else str(rng.randrange(orders) + 1),
            when, when, when if inbound else None,
        )  # fmt: skip

    insert(
        "telephony_message",
        ["direction", "from_number", "to_number", "body", "media_urls", "sid", "status",
         "error_code", "error_message", "num_segments", "attempts", "content_type_id",
         "object_id", "created_at", "updated_at", "handled_at"],
        batches(messages, message),
    )  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("orders_customer", "orders_order", "telephony_message"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
                cursor.execute(f"ANALYZE {table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def plan(sql, params):
    from django.db import connection

    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql, params)
        return [" ".join(str(c) for c in row) for row in cursor.fetchall()]


def timed(action, repeat):
    """Median milliseconds of `action`, and its slowest query with the plan."""
    from django.db import connection, reset_queries

    action()  # warm
    times, slowest = [], None
    for _ in range(repeat):
        reset_queries()
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
        for query in connection.queries:
            if slowest is None or float(query["time"]) > float(slowest["time"]):
                slowest = query
    result = {"median_ms": round(statistics.median(times), 2), "queries": len(connection.queries)}
    if slowest:
        result["slowest_query_ms"] = round(float(slowest["time"]) * 1000, 2)
        result["slowest_query"] = slowest["sql"][:400]
    return result


def measure(repeat, customers):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from twilio.request_validator import RequestValidator

    from telephony.inbound import answer_pending

    settings.DEBUG = True  # keep connection.queries for the slowest query
    connection.force_debug_cursor = True
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    known = phone(customers // 2)
    from orders.models import Customer

    known_id = Customer.objects.get(phone=known).pk

    def get(url):
        def action():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return action

    def text_in():
        sid = f"SMb{next(SIDS):031x}"  # Twilio's shape (the seeded ones are SMf…), or a 400
        params = {"AccountSid": "AC" + "b" * 32, "MessageSid": sid, "From": known, "To": SHOP,
                  "Body": "STATUS", "NumMedia": "0"}  # fmt: skip
        signature = RequestValidator(TOKEN).compute_signature(
            "https://pizza.example.com/twilio/sms/", params
        )
        response = client.post(
            "/twilio/sms/", params, headers={"X-Twilio-Signature": signature}, secure=True
        )
        assert response.status_code == 200, response.content

    def status_text():
        text_in()
        assert answer_pending() == 1

    actions = {
        "admin index (no big table; baseline)": get("/admin/"),
        "admin orders, first page": get("/admin/orders/order/"),
        "admin orders, search by phone": get(f"/admin/orders/order/?q={known.replace('+', '%2B')}"),
        "admin orders, filtered by stage": get("/admin/orders/order/?status__exact=baking"),
        "admin messages, first page": get("/admin/telephony/message/"),
        "admin messages, failed": get("/admin/telephony/message/?status__exact=failed"),
        "admin messages, search by phone": get(
            f"/admin/telephony/message/?q={known.replace('+', '%2B')}"
        ),
        "admin customers, first page": get("/admin/orders/customer/"),
        "staff board": get("/staff/"),
        "staff customer thread": get(f"/staff/customers/{known_id}/"),
        "inbound SMS webhook": text_in,
        "STATUS text through the worker": status_text,
    }
    results = {}
    for name, action in actions.items():
        results[name] = timed(action, repeat)
        print(f"    {name:40s} {results[name]['median_ms']:10.1f} ms", flush=True)
        answer_pending(limit=10_000)  # what the webhook left for the worker
    connection.force_debug_cursor = False
    return results


def migrate(app, target):
    from django.core.management import call_command

    call_command("migrate", app, target, verbosity=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    report.add_database_url(parser)
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="pizzeria-large-")
    configure(args.database_url or f"sqlite:///{folder}/large.sqlite3")
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    vendor = connection.vendor
    print(f"==> {vendor}: migrating, then {args.orders:,} orders and {args.messages:,} messages")
    call_command("migrate", verbosity=0)
    loader = MigrationLoader(connection)
    previous = {}
    for app, name in INDEX_MIGRATIONS:
        (parent,) = [p for p in loader.graph.node_map[(app, name)].parents if p.key[0] == app]
        previous[app] = parent.key[1]
        migrate(app, previous[app])
    started = time.perf_counter()
    fill(args.orders, args.messages, args.customers)
    load_seconds = round(time.perf_counter() - started, 1)
    print(f"    loaded in {load_seconds} s")
    print("==> without the indexes")
    before = measure(args.repeat, args.customers)
    started = time.perf_counter()
    for app, name in INDEX_MIGRATIONS:
        migrate(app, name)
    index_seconds = round(time.perf_counter() - started, 1)
    print(f"==> with the indexes (built in {index_seconds} s)")
    after = measure(args.repeat, args.customers)
    comparison = {
        name: {
            "before_ms": before[name]["median_ms"],
            "after_ms": after[name]["median_ms"],
            "ratio_before_over_after": round(
                before[name]["median_ms"] / after[name]["median_ms"], 1
            ),
        }
        for name in before
    }  # fmt: skip
    result = {
        "benchmark": "large",
        "database": vendor,
        "orders": args.orders,
        "messages": args.messages,
        "customers": args.customers,
        "repeat": args.repeat,
        "load_seconds": load_seconds,
        "index_build_seconds": index_seconds,
        "index_migrations": [f"{a}.{n}" for a, n in INDEX_MIGRATIONS],
        "comparison": comparison,
        "before": before,
        "after": after,
        "machine": report.machine(),
    }
    out = report.save(f"large-{vendor}", result)
    print(f"==> {out.relative_to(ROOT)}")
    for name, row in comparison.items():
        print(f"    {name:40s} {row['before_ms']:9.1f} -> {row['after_ms']:8.1f} ms "
              f"(x{row['ratio_before_over_after']})")  # fmt: skip
    if not args.database_url:
        for path in Path(folder).glob("*"):
            path.unlink()
        os.rmdir(folder)


if __name__ == "__main__":
    main()
