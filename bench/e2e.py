"""End to end: how fast inbound texts are answered, measured from outside the shop.

Starts the README's run command (`scripts/run`: gunicorn, db_worker, telephony
worker(s), the late-order sweep) on a fresh database with the real `twilio` backend
pointed at a recording fake of Twilio's REST API (tests/fixtures/fake_twilio.py, in a
process of its own). A load process sends signed texts at a fixed arrival rate (open
loop: text i is due at t0 + i/rate whatever the answers, so a backlog shows as
latency instead of slowing the sender), each from a fresh number, MENU / ORDER /
STATUS in turn. Reply latency = when the reply's POST reached the fake minus when the
text was due. Rates are stepped; the server and database are kept across steps, and
each step waits for its replies (or --drain seconds) before the next.

    bench/run e2e [--rates 20,50,100,200] [--seconds 20] [--telephony-workers 1]
                  [--database-url URL] [--label NAME] [--drain 60]
    scripts/with-postgres --durable bench/run e2e --telephony-workers 2

`--backlog N` measures the telephony workers' capacity instead, as when the web
tier runs on other machines: the workers are started (by this script, the way
scripts/run starts them) and warmed up, then paused (SIGSTOP) while N signed texts
are posted and stored through the webhook, then resumed (SIGCONT); answers a second =
N / (last reply - resume). The CPU each kind of process used during the drain is
reported, so a ratio between worker counts shows whether the machine had cores left.

    scripts/with-postgres --durable bench/run e2e --backlog 6000 --telephony-workers 2

`--outage S` takes the database away for S seconds in the middle of each step (at a third
of it), as from outside: on PostgreSQL the database refuses connections (ALLOW_CONNECTIONS
false) and every session on it is ended, as in a server restart; on SQLite another
connection holds the write lock. The step then reports what was sent, acknowledged,
stored, answered once or more, and the time from the database's return to the last reply.

    scripts/with-postgres --durable bench/run e2e --rates 50 --seconds 30 --outage 10
"""

import argparse
import http.client
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench import report

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-auth-token-" + "0" * 16
ACCOUNT = "AC" + "b" * 32
SHOP = "+15005550006"
TEXTS = ["MENU", "ORDER 1 large pepperoni", "STATUS"]


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


ROLES = [
    ("telephony_worker", "telephony worker"),
    ("gunicorn", "web (gunicorn)"),
    ("db_worker", "task worker"),
    ("check_late_orders", "late-order sweep"),
    ("--serve-fake", "fake Twilio"),
    ("bench.e2e", "load generator"),
    ("postgres", "PostgreSQL"),
]


def cpu_by_process():
    """{pid: (role, cpu seconds so far)} for every process this benchmark cares about."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        for needle, role in ROLES:
            if needle in cmdline:
                found[int(entry.name)] = (role, seconds)
                break
    return found


def machine_busy_seconds():
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


def cpu_used(before, after, busy_before, busy_after):
    """CPU seconds each role used between two `cpu_by_process` readings, and the machine's."""
    used = {}
    for pid, (role, seconds) in after.items():
        used[role] = used.get(role, 0) + seconds - before.get(pid, (role, 0))[1]
    busy = busy_after[0] - busy_before[0]
    return {
        "cpu_seconds_by_role": {role: round(s, 2) for role, s in sorted(used.items())},
        "machine_busy_fraction": round(busy / (busy_after[1] - busy_before[1]), 3),
    }


# --- the fake Twilio, in a process of its own ----------------------------------------


def serve_fake(out_path, latency=0.0):
    """Run the recording fake; append `at<TAB>To` for every message request to `out_path`.
    `latency`: seconds each POST takes to answer once Twilio has accepted it."""
    from tests.fixtures.fake_twilio import FakeTwilio

    fake = FakeTwilio()
    fake.latency = latency
    fake.start()
    print(fake.url, flush=True)
    written = 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    with open(out_path, "a") as out:
        while True:
            done = stop.wait(0.1)
            requests = list(fake.requests)
            for r in requests[written:]:
                if r.kind == "message" and r.method == "POST":
                    out.write(f"{r.at:.6f}\t{r.form.get('To', '')}\n")
            written = len(requests)
            out.flush()
            if done:
                break
    fake.stop()


def read_replies(path):
    """{to_number: [arrival times]} from the fake's record."""
    replies = {}
    with open(path) as f:
        for line in f:
            at, _, to = line.rstrip("\n").partition("\t")
            replies.setdefault(to, []).append(float(at))
    return replies


# --- the load ------------------------------------------------------------------------


def signed_texts(base_url, first, count):
    """`count` signed form bodies, each from a fresh number, MENU/ORDER/STATUS in turn,
    signed for `base_url` (the shop's public address: PUBLIC_BASE_URL)."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    url = base_url + "/twilio/sms/"
    texts = []
    for i in range(count):
        number = f"+1415{first + i:07d}"
        sid = "SM" + secrets.token_hex(16)
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT,
            "From": number,
            "To": SHOP,
            "Body": TEXTS[i % len(TEXTS)],
            "NumMedia": "0",
        }
        texts.append((number, urlencode(params), validator.compute_signature(url, params)))
    return texts


def send_open_loop(port, texts, rate, senders=64, headers=None):
    """Send `texts` at `rate` a second, text i due at t0 + i/rate, from `senders` threads;
    `headers` are added to each request (a proxy's, when the shop runs behind one).

    Returns a list of (number, due, sent, status) per text: `sent` is when its
    request left; the latency is counted from `due`, so a sender that fell behind
    (all threads busy) adds to the figures rather than hiding the backlog.
    """
    todo = queue.Queue()
    results = [None] * len(texts)

    def sender():
        while True:
            item = todo.get()
            if item is None:
                return
            i, due = item
            number, body, signature = texts[i]
            sent = time.time()
            status = 0
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(
                    "POST",
                    "/twilio/sms/",
                    body=body,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": signature,
                        "Connection": "close",
                        **(headers or {}),
                    },
                )
                response = conn.getresponse()
                response.read()
                status = response.status
                conn.close()
            except OSError:
                status = -1
            results[i] = (number, due, sent, status, time.time() - sent)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    t0 = time.time() + 0.2
    for i in range(len(texts)):
        due = t0 + i / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        todo.put((i, due))
    for _ in threads:
        todo.put(None)
    for t in threads:
        t.join()
    return results


def measure(results, replies, rate, seconds):
    acked = [r for r in results if r and r[3] == 200]
    latencies, duplicates, unanswered, last = [], 0, 0, 0
    for number, due, *_ in acked:
        arrivals = replies.get(number)
        if not arrivals:
            unanswered += 1
            continue
        duplicates += len(arrivals) > 1
        latencies.append(min(arrivals) - due)
        last = max(last, min(arrivals))
    first_due = min((r[1] for r in results if r), default=0)
    sends = [r[2] for r in results if r]
    lag = [r[2] - r[1] for r in results if r]
    acks = [r[4] for r in acked]
    span = max(sends) - min(sends) if len(sends) > 1 else 0
    return {
        "rate": rate,
        "seconds": seconds,
        "texts": len(results),
        "acknowledged_200": len(acked),
        "answered": len(latencies),
        "unanswered": unanswered,
        "answered_more_than_once": duplicates,
        # Answers a second from the first text due to the last reply: the throughput
        # when the rate is above what the shop keeps up with.
        "answered_per_second": round(len(latencies) / (last - first_due), 1) if last else None,
        "achieved_send_rate": round((len(sends) - 1) / span, 1) if span else None,
        "send_lag_p99_ms": round(percentile(lag, 99) * 1000, 1) if lag else None,
        "ack_p50_ms": round(percentile(acks, 50) * 1000, 1) if acks else None,
        "ack_p99_ms": round(percentile(acks, 99) * 1000, 1) if acks else None,
        "reply_p50_s": round(percentile(latencies, 50), 3) if latencies else None,
        "reply_p90_s": round(percentile(latencies, 90), 3) if latencies else None,
        "reply_p99_s": round(percentile(latencies, 99), 3) if latencies else None,
        "reply_max_s": round(max(latencies), 3) if latencies else None,
    }


def wait_up(port, proc, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("scripts/run exited before serving")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/twilio/sms/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    sys.exit("scripts/run did not serve in time")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="20,50,100,200", help="texts a second, per step")
    parser.add_argument("--seconds", type=float, default=20, help="length of each step")
    parser.add_argument("--telephony-workers", type=int, default=None)
    parser.add_argument("--drain", type=float, default=60, help="max wait for a step's replies")
    parser.add_argument("--label", default="")
    parser.add_argument("--senders", type=int, default=64, help="sending threads")
    parser.add_argument(
        "--outage", type=float, default=0, help="seconds the database is away in each step"
    )
    parser.add_argument(
        "--backlog", type=int, default=0,
        help="measure the telephony workers' capacity on a stored backlog of this many texts",
    )  # fmt: skip
    report.add_database_url(parser)
    if argv is None and sys.argv[1:2] == ["--serve-fake"]:
        return serve_fake(sys.argv[2], *map(float, sys.argv[3:4]))
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="pizzeria-e2e-"))
    record = folder / "fake.tsv"
    record.touch()
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.e2e", "--serve-fake", str(record)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    fake_url = fake.stdout.readline().strip()
    port = report_free_port()
    base_url = f"http://127.0.0.1:{port}"
    database_url = args.database_url or f"sqlite:///{folder / 'e2e.sqlite3'}"
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": base_url,
        "TELEPHONY_BACKEND": "twilio",
        "TWILIO_API_BASE_URL": fake_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_PHONE_NUMBER": SHOP,
        "SHOP_HOURS": "24/7",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    if args.telephony_workers:
        env["TELEPHONY_WORKERS"] = str(args.telephony_workers)
    workers = []
    if args.backlog:
        env["TELEPHONY_WORKERS"] = "0"  # started below, so they can be paused
    log = (folder / "run.log").open("w")
    shop = subprocess.Popen(
        [str(ROOT / "scripts" / "run")], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    steps = []
    try:
        wait_up(port, shop)
        for _ in range((args.telephony_workers or 1) if args.backlog else 0):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "telephony_worker", "--skip-checks"],
                    cwd=ROOT,
                    env={**env, "DEBUG": "false"},  # as scripts/run starts them
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
            )
        # Warm up: the workers have started (and imported everything) once these are answered.
        first = 5_000_000  # 415-500-0000 on: numbers a shop may text
        warm = signed_texts(base_url, first, 6)
        first += len(warm)
        send_open_loop(port, warm, 2)
        deadline = time.time() + 180
        while not {t[0] for t in warm} <= read_replies(record).keys():
            if time.time() > deadline:
                sys.exit("the warm-up texts were not answered in 180 s")
            time.sleep(0.5)
        if args.backlog:
            steps.append(drain_backlog(args, port, base_url, first, record, workers))
        for rate in [] if args.backlog else [float(r) for r in args.rates.split(",")]:
            count = int(rate * args.seconds)
            texts = signed_texts(base_url, first, count)
            first += count
            load_before = loadavg()
            cpu_before, busy_before = cpu_by_process(), machine_busy_seconds()
            print(f"==> {rate:g} texts/s for {args.seconds:g} s", flush=True)
            outage = None
            if args.outage:
                outage = Outage(database_url, args.seconds / 3, args.outage)
            results = send_open_loop(port, texts, rate, senders=args.senders)
            numbers = {t[0] for t in texts}
            deadline = time.time() + args.drain
            while time.time() < deadline:
                if numbers <= read_replies(record).keys():
                    break
                time.sleep(0.5)
            cpu_after, busy_after = cpu_by_process(), machine_busy_seconds()
            time.sleep(1)  # late duplicates, if any
            step = measure(results, read_replies(record), rate, args.seconds)
            if outage:
                step.update(outage.measure(results, read_replies(record), database_url))
            step["load_average_before"] = load_before
            step["load_average_after"] = loadavg()
            step.update(cpu_used(cpu_before, cpu_after, busy_before, busy_after))
            print(json.dumps(step), flush=True)
            steps.append(step)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGCONT)
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        os.killpg(shop.pid, signal.SIGTERM)
        try:
            shop.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(shop.pid, signal.SIGKILL)
        fake.send_signal(signal.SIGTERM)
        fake.wait(timeout=30)
        log.close()
    vendor = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    workers = args.telephony_workers or 1
    mode = "backlog-" if args.backlog else ""
    result = {
        "benchmark": "e2e-backlog" if args.backlog else "e2e",
        "label": args.label or f"{mode}{vendor}-{workers}w",
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "database": vendor,
        "durability": durability(database_url),
        "run_command": "scripts/run (gunicorn gthread 2x8, db_worker --interval 0.5, "
        + (
            f"TELEPHONY_WORKERS=0; {workers} telephony_worker started by the benchmark)"
            if args.backlog
            else f"{workers} telephony_worker)"
        ),
        "telephony_workers": workers,
        "steps": steps,
        "machine": report.machine(),
    }
    report.save(f"e2e-{result['label']}", result)
    print(json.dumps(result, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    return result


def drain_backlog(args, port, base_url, first, record, workers):
    """Pause the workers, store `args.backlog` texts through the webhook, time the drain."""
    texts = signed_texts(base_url, first, args.backlog)
    for worker in workers:
        worker.send_signal(signal.SIGSTOP)
    print(f"==> storing {len(texts)} texts with the telephony workers paused", flush=True)
    results = send_open_loop(port, texts, 500, senders=args.senders)
    acked = [r for r in results if r and r[3] == 200]
    numbers = {t[0] for t in texts}
    time.sleep(1)
    load_before = loadavg()
    cpu_before, busy_before = cpu_by_process(), machine_busy_seconds()
    print(f"==> {len(workers)} telephony worker(s) resumed", flush=True)
    resumed = time.time()
    for worker in workers:
        worker.send_signal(signal.SIGCONT)
    deadline = resumed + args.drain
    while time.time() < deadline:
        if numbers <= read_replies(record).keys():
            break
        time.sleep(0.2)
    cpu_after, busy_after = cpu_by_process(), machine_busy_seconds()
    time.sleep(1)  # late duplicates, if any
    replies = read_replies(record)
    arrivals = [min(replies[n]) for n in numbers if n in replies]
    last = max(arrivals, default=resumed)
    step = {
        "backlog": len(texts),
        "acknowledged_200": len(acked),
        "answered": len(arrivals),
        "unanswered": len(numbers) - len(arrivals),
        "answered_more_than_once": sum(len(replies.get(n, ())) > 1 for n in numbers),
        "drain_seconds": round(last - resumed, 2),
        "answered_per_second": round(len(arrivals) / (last - resumed), 1) if arrivals else None,
        "load_average_before": load_before,
        "load_average_after": loadavg(),
        **cpu_used(cpu_before, cpu_after, busy_before, busy_after),
    }
    print(json.dumps(step), flush=True)
    return step


class Outage:
    """The database away for `seconds`, starting `after` seconds from now, in a thread."""

    def __init__(self, database_url, after, seconds):
        self.seconds = seconds
        self.started = self.ended = None
        self.thread = threading.Thread(target=self._run, args=(database_url, after), daemon=True)
        self.thread.start()

    def _run(self, database_url, after):
        time.sleep(after)
        if database_url.startswith("sqlite"):
            import sqlite3

            other = sqlite3.connect(sqlite_file(database_url), isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")
            self.started = time.time()
            print(f"==> database locked for {self.seconds:g} s", flush=True)
            time.sleep(self.seconds)
            other.execute("ROLLBACK")
            other.close()
        else:
            import psycopg
            from psycopg import sql

            name = database_url.rsplit("/", 1)[1].split("?")[0]
            admin = database_url.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(
                        sql.Identifier(name)
                    )
                )
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    [name],
                )
                self.started = time.time()
                print(f"==> database {name} down for {self.seconds:g} s", flush=True)
                time.sleep(self.seconds)
                conn.execute(
                    sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name))
                )
        self.ended = time.time()
        print("==> database back", flush=True)

    def measure(self, results, replies, database_url):
        self.thread.join()
        numbers = [r[0] for r in results if r]
        during = [r for r in results if r and self.started <= r[2] <= self.ended]
        # Recovered: every text that arrived before the database was back has its reply.
        before = [r[0] for r in results if r and r[2] < self.ended]
        arrivals = [min(replies[n]) for n in before if n in replies]
        return {
            "outage_seconds": self.seconds,
            "sent": len(numbers),
            "sent_during_outage": len(during),
            "acknowledged_200_during_outage": sum(r[3] == 200 for r in during),
            "answered_503": sum(r[3] == 503 for r in results if r),
            "failed_requests": sum(r[3] not in (200, 503) for r in results if r),
            "stored": stored_texts(database_url, numbers),
            "answered_once": sum(len(replies.get(n, ())) == 1 for n in numbers),
            "answered_more_than_once": sum(len(replies.get(n, ())) > 1 for n in numbers),
            "never_answered": sum(n not in replies for n in numbers),
            "sent_before_it_was_back": len(before),
            "recovered_seconds": round(max(arrivals) - self.ended, 2) if arrivals else None,
        }


def sqlite_file(database_url):
    """The file of a `sqlite:///…` DATABASE_URL, read as the settings read it."""
    import environ

    return environ.Env.db_url_config(database_url)["NAME"]


def stored_texts(database_url, numbers):
    """How many of these numbers' texts the shop's database holds."""
    inbound = "SELECT COUNT(*) FROM telephony_message WHERE direction = 'in' AND from_number"
    if database_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(sqlite_file(database_url)) as conn:
            marks = ",".join("?" * len(numbers))
            return conn.execute(f"{inbound} IN ({marks})", numbers).fetchone()[0]
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute(f"{inbound} = ANY(%s)", [numbers]).fetchone()[0]


def durability(database_url):
    if database_url.startswith("sqlite"):
        return "SQLite as shipped: WAL, synchronous=NORMAL (pizzeria/settings.py)"
    import psycopg

    with psycopg.connect(database_url) as conn:
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("fsync", "synchronous_commit", "full_page_writes")
        }
    return settings


def report_free_port():
    from tests.fixtures.pgcluster import free_port

    return free_port()


if __name__ == "__main__":
    main()
