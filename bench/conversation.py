"""The worker's conversation for one text: p50/p99 of orders.conversation.handle_customer_sms,
and the queries each kind of text runs.

A fresh SQLite file (or --database-url) holds a 100-item menu with prices per size, 11
toppings and 4 crusts (bench/parser.py's menu). Texts are drawn (fixed seed) from the table in
tests/test_orders_texts.py and sent by three customers in turn: a new one, one with a
delivered order (reorders), and one with an order in the oven (status with every free text).
Each text is an inbound Message row handled as the worker does, inside a transaction that is
rolled back afterwards, so every text meets the same data. The menu is read once first (its
cold read is counted apart: `menu_read_queries`), as a running worker has; the queries of
each distinct text are counted in a first pass; the timed pass runs without counting. A second
timed pass runs the worker's whole turn for the same texts (telephony.inbound.answer_in_turn:
claim, opt-out and reply-cap checks, the conversation, the reply's outbox row), CPU time.

    bench/run conversation [--texts 2000] [--database-url URL]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal

from bench import report

SHOP = "+15005550006"
CUSTOMERS = ["+14155550101", "+14155550102", "+14155550103"]
PRICES = {"S": Decimal("10"), "M": Decimal("13"), "L": Decimal("16")}


def seed():
    from bench.parser import menu_of_100
    from orders.models import Crust, Customer, MenuItem, MenuPrice, Order, OrderItem, Topping

    menu = menu_of_100()
    for position, entry in enumerate(menu.items):
        item = MenuItem.objects.create(
            code=entry.code, name=entry.name, category=entry.category or "side",
            aliases=", ".join(entry.aliases), position=position,
        )  # fmt: skip
        if entry.has_sizes:
            MenuPrice.objects.bulk_create(
                MenuPrice(item=item, size=size, price=price) for size, price in PRICES.items()
            )
        else:
            MenuPrice.objects.create(item=item, size="", price=Decimal("4.50"))
    for position, mod in enumerate(menu.toppings):
        Topping.objects.create(
            code=mod.code, name=mod.name, aliases=", ".join(mod.aliases), position=position,
            price_small=Decimal("1"), price_medium=Decimal("1.50"), price_large=Decimal("2"),
        )  # fmt: skip
    for position, mod in enumerate(menu.crusts):
        Crust.objects.create(
            code=mod.code, name=mod.name, aliases=", ".join(mod.aliases), position=position
        )
    pep = MenuItem.objects.get(code="PEP")
    for phone, status in ((CUSTOMERS[1], "delivered"), (CUSTOMERS[2], "baking")):
        customer = Customer.objects.create(phone=phone)
        order = Order.objects.create(customer=customer, fulfilment="pickup", total=16)
        Order.objects.filter(pk=order.pk).update(status=status)
        OrderItem.objects.create(
            order=order, menu_item=pep, name=pep.name, size="L", quantity=1, unit_price=16
        )
    return len(menu.items)


def handle(body, sender):
    """Handle one inbound text as the worker does, then roll back: (reply, seconds)."""
    from django.db import transaction

    from orders.conversation import handle_customer_sms
    from telephony.models import Message

    with transaction.atomic():
        message = Message.objects.create(
            direction=Message.Direction.INBOUND, from_number=sender, to_number=SHOP, body=body,
            status=Message.Status.RECEIVED,
        )  # fmt: skip
        started, started_cpu = time.perf_counter(), time.thread_time()
        reply = handle_customer_sms(message)
        elapsed = (time.perf_counter() - started, time.thread_time() - started_cpu)
        transaction.set_rollback(True)
    return reply, elapsed


def worker_turn(body, sender):
    """The telephony worker's turn for one text, rolled back: CPU seconds."""
    from django.db import transaction

    from telephony.inbound import answer_in_turn
    from telephony.models import Message

    with transaction.atomic():
        message = Message.objects.create(
            direction=Message.Direction.INBOUND, from_number=sender, to_number=SHOP, body=body,
            status=Message.Status.RECEIVED,
        )  # fmt: skip
        started = time.thread_time()
        answer_in_turn(message.pk)
        elapsed = time.thread_time() - started
        transaction.set_rollback(True)
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    report.add_database_url(parser)
    args = parser.parse_args(argv)

    from bench.large_tables import configure

    folder = tempfile.mkdtemp(prefix="pizzeria-conversation-")
    configure(args.database_url or f"sqlite:///{folder}/conversation.sqlite3")
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.test_orders_texts import TEXTS

    call_command("migrate", verbosity=0)
    items = seed()
    table = [param.values[0] for param in TEXTS]
    rng = random.Random(13)
    texts = [(rng.choice(table), CUSTOMERS[n % 3]) for n in range(args.texts)]

    from orders.services import menu

    with CaptureQueriesContext(connection) as cold:
        menu()
    queries = {}
    for body in table:
        for sender in CUSTOMERS:
            with CaptureQueriesContext(connection) as captured:
                handle(body, sender)
            # Less the bench's own INSERT of the inbound row and its savepoint/transaction.
            queries[(body, sender)] = len(captured) - 1
    timings, cpu = [], []
    for body, sender in texts:
        _, (wall, on_cpu) = handle(body, sender)
        timings.append(wall * 1000)
        cpu.append(on_cpu * 1000)
    turns = sorted(worker_turn(body, sender) * 1000 for body, sender in texts)
    timings.sort()
    cpu.sort()
    most = max(queries, key=queries.get)
    result = {
        "texts": len(texts),
        "distinct_texts": len(set(table)),
        "menu_items": items,
        "database": connection.vendor,
        "p50_ms": round(statistics.median(timings), 3),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 3),
        "max_ms": round(timings[-1], 3),
        "cpu_p50_ms": round(statistics.median(cpu), 3),
        "cpu_p99_ms": round(cpu[int(len(cpu) * 0.99) - 1], 3),
        "queries_median": statistics.median(queries.values()),
        "queries_max": queries[most],
        "queries_max_text": most[0],
        "menu_read_queries": len(cold),
        "worker_turn_cpu_p50_ms": round(statistics.median(turns), 3),
        "worker_turn_cpu_p99_ms": round(turns[int(len(turns) * 0.99) - 1], 3),
        "load_average": os.getloadavg()[0],
        "machine": report.machine(),
    }
    out = report.save("conversation", result)
    print(
        f"{len(texts)} texts, {items}-item menu ({result['database']}): p50 {result['p50_ms']} "
        f"ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms; CPU p50 "
        f"{result['cpu_p50_ms']} ms, p99 {result['cpu_p99_ms']} ms; queries per text: median "
        f"{result['queries_median']}, most {result['queries_max']} ({most[0]!r}), menu read "
        f"cold {result['menu_read_queries']}; worker turn CPU p50 "
        f"{result['worker_turn_cpu_p50_ms']} ms, p99 {result['worker_turn_cpu_p99_ms']} ms; load "
        f"{result['load_average']:.1f} -> {out}"
    )
    return 0 if result["cpu_p99_ms"] < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
