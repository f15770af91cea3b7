"""Kill -9 each background process in turn under load; the recipe starts it again.

The shop runs as deploy/ says a server runs it: the Procfile's four commands, each under
the restart policy of its systemd unit (`Restart=`, `RestartSec=`: a supervisor here does
what systemd does with them), with deploy/pizzeria.env.example's environment (DEBUG off,
JSON logs) and the real `twilio` backend pointed at a recording fake of Twilio's REST API
(tests/fixtures/fake_twilio.py, in a process of its own). There is no nginx: the load
sends what nginx adds (`Host`, `X-Forwarded-Proto: https`) and signs for the public URL.

A load process sends signed texts at a fixed arrival rate (open loop, as bench/e2e.py),
each from a fresh number, MENU / ORDER / STATUS in turn. At even intervals through the
load, the telephony worker, the task worker and the late-order sweep are each killed
with SIGKILL; a thread polls /readyz ten times a second. For each death it reports how
long /readyz took to answer 503 and to answer 200 again (the unit restarted the process
and it beat), and, once the load is over and the replies are in, whether every text was
answered exactly once.

    bench/run kill [--rate 50] [--seconds 120] [--database-url URL]
    scripts/with-postgres --durable bench/run kill

Twilio's stand-in answers each send `--twilio-latency` seconds after accepting it (0.2 s,
about what Twilio takes), so a killed telephony worker dies with sends in flight: those
are taken back, looked up at Twilio and not made again (`sends_taken_back` counts them).

Exits non-zero if a text went unanswered or was answered twice, or /readyz did not come
back after a death.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import e2e, report
from tests.fixtures.recipe import procfile, production_env, server_env, unit_setting

ROOT = Path(__file__).resolve().parent.parent
HOST = "pizza.test"
PUBLIC = f"https://{HOST}"
PROXY_HEADERS = {"Host": HOST, "X-Forwarded-Proto": "https"}  # what nginx adds
KILLED = ["telephony", "tasks", "late"]  # the background processes, in turn


class Supervised:
    """One Procfile process run as its systemd unit runs it: `Restart=always` starts it again
    `RestartSec` after it exits, `on-failure` only after a failure, until `stop`."""

    def __init__(self, name, env, log):
        self.name, self.env, self.log = name, env, log
        self.command = procfile()[name]
        self.restart = unit_setting(name, "Restart")
        self.restart_seconds = float(unit_setting(name, "RestartSec"))
        self.starts = []  # (time, pid)
        self.process = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name=name)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            # As honcho and systemd do: the shell expands ${VAR:-default}, then is replaced.
            self.process = subprocess.Popen(
                ["bash", "-c", f"exec {self.command}"], cwd=ROOT, env=self.env,
                stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            self.starts.append((time.time(), self.process.pid))
            code = self.process.wait()
            if self.restart == "on-failure" and code == 0:
                return
            self.stopping.wait(self.restart_seconds)

    def started_after(self, moment):
        """(time, pid) of the first start after `moment`, or None."""
        return next(((at, pid) for at, pid in self.starts if at > moment), None)

    def stop(self):
        self.stopping.set()
        process = self.process
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # KillSignal=SIGTERM
            try:
                process.wait(timeout=float(unit_setting(self.name, "TimeoutStopSec")))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.thread.join(timeout=10)


class Readiness:
    """GET /readyz ten times a second, from a thread; keeps (time, status, workers' detail)."""

    def __init__(self, port):
        self.port = port
        self.samples = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="readyz")
        self.thread.start()

    def _run(self):
        while not self.stopping.wait(0.1):
            self.samples.append((time.time(), *self.ask()))

    def ask(self):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/readyz", headers=PROXY_HEADERS)
            response = conn.getresponse()
            body = response.read()
            conn.close()
        except OSError as exc:
            return -1, f"no answer: {exc}"
        try:
            return response.status, json.loads(body)["checks"]["workers"]["detail"]
        except (ValueError, KeyError):
            return response.status, body[:200].decode(errors="replace")

    def first(self, after, status):
        """The first sample after `after` with this status, or None."""
        return next((s for s in self.samples if s[0] > after and s[1] == status), None)

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=10)


def shop_env(port, folder, fake_url, database_url):
    """deploy/pizzeria.env.example with what differs on this machine."""
    env = production_env()
    env.update(
        SECRET_KEY="kill-bench-" + "x" * 40, ALLOWED_HOSTS=HOST, CSRF_TRUSTED_ORIGINS=PUBLIC,
        PUBLIC_BASE_URL=PUBLIC, DATABASE_URL=database_url, PORT=str(port), RUN_DIR=str(folder),
        TELEPHONY_BACKEND="twilio", TWILIO_API_BASE_URL=fake_url, TWILIO_ACCOUNT_SID=e2e.ACCOUNT,
        TWILIO_AUTH_TOKEN=e2e.TOKEN, TWILIO_PHONE_NUMBER=e2e.SHOP, SHOP_HOURS="24/7",
        BACKUP_DIR=str(folder / "backups"), TELEPHONY_SPOOL_DIR=str(folder / "spool"),
        LOG_LEVEL="WARNING", METRICS_ALLOWED_NETWORKS="127.0.0.1/32", PYTHONUNBUFFERED="1",
    )  # fmt: skip
    return server_env(env)


def wait_ready(readiness, live, timeout=180):
    """Until /readyz answers 200 with at least `live` processes beating."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, detail = readiness.ask()
        if status == 200 and int(detail.split()[0]) >= live:
            return
        time.sleep(0.5)
    sys.exit(f"the shop was not ready in {timeout} s: {status} {detail}")


def kill_and_time(name, supervised, readiness, timeout):
    """SIGKILL the process `name`; how long until /readyz said 503, and 200 again."""
    victim = supervised[name].process.pid
    os.kill(victim, signal.SIGKILL)
    died = time.time()
    print(f"==> killed {name} (pid {victim})", flush=True)
    deadline = died + timeout
    down = back = None
    while time.time() < deadline and not back:
        time.sleep(0.1)
        down = down or readiness.first(died, 503)
        back = down and readiness.first(down[0], 200)
    restarted = supervised[name].started_after(died)
    result = {
        "process": name,
        "killed_pid": victim,
        "restarted_pid": restarted and restarted[1],
        "restarted_after_s": restarted and round(restarted[0] - died, 2),
        "readyz_503_after_s": down and round(down[0] - died, 2),
        "readyz_said": down and down[2],
        "readyz_200_again_after_s": back and round(back[0] - died, 2),
    }
    print(json.dumps(result), flush=True)
    return result


def scrape_metrics(port):
    """/metrics at the end of the run, as Prometheus would scrape it: the shop's samples."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics", headers=PROXY_HEADERS)
    text = conn.getresponse().read().decode()
    conn.close()
    return [line for line in text.splitlines() if line.startswith("pizzeria_")]


def taken_back(log):
    """How many sends the shop's log says were taken back from dead telephony workers."""
    found = re.findall(r"is gone; (\d+) request\(s\) it was making", log.read_text())
    return sum(int(n) for n in found)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50, help="texts a second")
    parser.add_argument("--seconds", type=float, default=120, help="length of the load")
    parser.add_argument("--drain", type=float, default=90, help="max wait for the replies")
    parser.add_argument(
        "--twilio-latency", type=float, default=0.2,
        help="seconds Twilio takes to answer a send it accepted (a kill lands mid-send)",
    )  # fmt: skip
    parser.add_argument("--label", default="")
    report.add_database_url(parser)
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="pizzeria-kill-"))
    record = folder / "fake.tsv"
    record.touch()
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.e2e", "--serve-fake", str(record), str(args.twilio_latency)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    fake_url = fake.stdout.readline().strip()
    port = e2e.report_free_port()
    database_url = args.database_url or f"sqlite:///{folder / 'kill.sqlite3'}"
    env = shop_env(port, folder, fake_url, database_url)
    log = (folder / "shop.log").open("w")
    # Once per release, before the processes start (README, "Deploying"); a demo menu.
    release = (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["seed_demo", "--force"])
    for step in release:
        subprocess.run(
            [sys.executable, "manage.py", *step, "-v0"], cwd=ROOT, env=env, check=True,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    supervised, readiness, kills = {}, None, []
    try:
        for name in procfile():
            supervised[name] = Supervised(name, env, log)
        readiness = Readiness(port)
        web_workers = int(env.get("WEB_WORKERS", 2))
        wait_ready(readiness, live=web_workers + len(KILLED))
        first = 6_000_000  # 415-600-0000 on: numbers a shop may text
        warm = e2e.signed_texts(PUBLIC, first, 6)
        first += len(warm)
        e2e.send_open_loop(port, warm, 2, headers=PROXY_HEADERS)
        deadline = time.time() + 120
        while not {t[0] for t in warm} <= e2e.read_replies(record).keys():
            if time.time() > deadline:
                sys.exit(f"the warm-up texts were not answered in 120 s (log: {folder})")
            time.sleep(0.5)

        texts = e2e.signed_texts(PUBLIC, first, int(args.rate * args.seconds))
        results = []
        print(f"==> {args.rate:g} texts/s for {args.seconds:g} s", flush=True)
        load = threading.Thread(
            target=lambda: results.extend(
                e2e.send_open_loop(port, texts, args.rate, headers=PROXY_HEADERS)
            ),
            daemon=True,
        )
        started = time.time()
        load.start()
        every = args.seconds / (len(KILLED) + 1)
        for i, name in enumerate(KILLED, 1):
            time.sleep(max(0, started + i * every - time.time()))
            kills.append(kill_and_time(name, supervised, readiness, timeout=every * 0.9))
        load.join()
        numbers = {t[0] for t in texts}
        deadline = time.time() + args.drain
        while time.time() < deadline and not numbers <= e2e.read_replies(record).keys():
            time.sleep(0.5)
        time.sleep(2)  # late duplicates, if any
        replies = e2e.read_replies(record)
        step = e2e.measure(results, replies, args.rate, args.seconds)
        step["not_acknowledged"] = sum(1 for r in results if not r or r[3] != 200)
        ready_at_end = readiness.ask()
        metrics = scrape_metrics(port)
    finally:
        if readiness:
            readiness.stop()
        for process in supervised.values():
            process.stop()
        fake.send_signal(signal.SIGTERM)
        fake.wait(timeout=30)
        log.close()
    once = (
        step["not_acknowledged"] == 0
        and step["unanswered"] == 0
        and step["answered_more_than_once"] == 0
    )
    recovered = all(k["readyz_200_again_after_s"] is not None for k in kills)
    vendor = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    result = {
        "benchmark": "kill",
        "label": args.label or vendor,
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "database": vendor,
        "durability": e2e.durability(database_url),
        "run_command": "deploy/Procfile's commands under deploy/systemd's Restart=/RestartSec=",
        "twilio_latency_s": args.twilio_latency,
        "kills": kills,
        # Sends a killed telephony worker had started: looked up at Twilio, made if never sent.
        "sends_taken_back": taken_back(folder / "shop.log"),
        "load": step,
        "readyz_at_end": ready_at_end,
        "metrics_at_end": metrics,
        "every_text_answered_exactly_once": once,
        "readyz_came_back_after_every_death": recovered,
        "machine": report.machine(),
    }
    report.save(f"kill-{result['label']}", result)
    print(json.dumps(result, indent=2))
    if not (once and recovered):
        sys.exit(f"FAILED (the shop's log: {folder / 'shop.log'})")
    shutil.rmtree(folder, ignore_errors=True)
    return result


if __name__ == "__main__":
    main()
