"""A spoken turn on the phone: from the caller's words to the shop's answer (TwiML).

Starts the README's run command (`scripts/run`) on a fresh database with the demo menu, the
real `twilio` backend pointed at bench/e2e.py's recording fake of Twilio's REST API, and
`bench.urls` (the app plus the bare baseline view). `--calls` callers at once (threads)
each place phone orders for `--seconds`, as Twilio drives a call: the incoming call, what
they said to the greeting ("two large pepperoni for pickup": the read-back), then 1 (placed:
the order number), then the call's final status, each a signed webhook, `--think` seconds
apart (the greeting heard, the order said, the read-back heard: about 2 s at the least on a
real call; 0 makes it a stress test of back-to-back turns). The turns timed are
the two that answer speech or a key with the order conversation; a signed POST to the bare
view (signature checked, constant TwiML) in between, from the same threads, is the
baseline of the same run.

    bench/run voice [--calls 20] [--seconds 30] [--think 2]

Goal: a spoken turn answered in p99 < 250 ms (dead air on a phone is felt at once).
"""

import argparse
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench import report
from bench.e2e import ACCOUNT, ROOT, SHOP, TOKEN, percentile, report_free_port, wait_up

ORDER_URL = re.compile(r"/twilio/voice/calls/(\d+)/order/")


class Caller:
    """One caller's connection to the shop, posting signed webhooks."""

    def __init__(self, port, base_url):
        from twilio.request_validator import RequestValidator

        self.port, self.base_url = port, base_url
        self.validator = RequestValidator(TOKEN)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path, params):
        params = {"AccountSid": ACCOUNT, **params}
        signature = self.validator.compute_signature(self.base_url + path, params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        }
        for _attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: again
            started = time.perf_counter()
            try:
                self.conn.request("POST", path, urlencode(params), headers)
                response = self.conn.getresponse()
                body = response.read().decode()
                return response.status, body, time.perf_counter() - started
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return None, "", time.perf_counter() - started

    def place_an_order(self, number, timings, errors, think=0):
        sid = "CA" + secrets.token_hex(16)
        caller = {"CallSid": sid, "From": number, "To": SHOP}
        status, _, _ = self.post("/twilio/voice/", {**caller, "CallStatus": "ringing"})
        if status != 200:
            errors.append(f"incoming call: {status}")
            return
        time.sleep(think)
        speech = {"SpeechResult": "two large pepperoni for pickup", "Confidence": "0.93"}
        status, body, took = self.post(
            "/twilio/voice/menu/", {**caller, "CallStatus": "in-progress", **speech}
        )
        found = ORDER_URL.search(body)
        if status != 200 or "You'd like 2 large Pepperoni" not in body or not found:
            errors.append(f"spoken order: {status} {body[:120]!r}")
            return
        timings["speech"].append(took)
        time.sleep(think)
        status, body, took = self.post(
            found.group(0), {**caller, "CallStatus": "in-progress", "Digits": "1"}
        )
        if status != 200 or "Your order number is" not in body:
            errors.append(f"yes: {status} {body[:120]!r}")
            return
        timings["yes"].append(took)
        self.post("/twilio/voice/status/", {**caller, "CallStatus": "completed"})
        status, _, took = self.post("/bench/bare-sms/", {"MessageSid": "SM" + "0" * 32})
        if status == 200:
            timings["bare"].append(took)


def summary(values):
    values = sorted(values)
    if not values:
        return {}
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(values[-1] * 1000, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="callers at once")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think", type=float, default=2, help="seconds between a call's turns")
    parser.add_argument("--label", default="")
    report.add_database_url(parser)
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="pizzeria-voice-"))
    record = folder / "fake.tsv"
    record.touch()
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.e2e", "--serve-fake", str(record)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    fake_url = fake.stdout.readline().strip()
    port = report_free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": args.database_url or f"sqlite:///{folder / 'voice.sqlite3'}",
        "PUBLIC_BASE_URL": base_url,
        "ROOT_URLCONF": "bench.urls",
        "TELEPHONY_BACKEND": "twilio",
        "TWILIO_API_BASE_URL": fake_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_PHONE_NUMBER": SHOP,
        "SHOP_HOURS": "24/7",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    log = (folder / "run.log").open("w")
    shop = subprocess.Popen(
        [str(ROOT / "scripts" / "run")], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    timings = {"speech": [], "yes": [], "bare": []}
    errors = []
    try:
        wait_up(port, shop)
        Caller(port, base_url).place_an_order("+14155009999", {k: [] for k in timings}, errors)
        deadline = time.monotonic() + args.seconds
        lock = threading.Lock()
        numbers = iter(range(5_100_000, 6_000_000))

        def caller_loop():
            caller = Caller(port, base_url)
            while time.monotonic() < deadline:
                with lock:
                    number = f"+1415{next(numbers):07d}"
                caller.place_an_order(number, timings, errors, args.think)

        print(f"==> {args.calls} callers ordering by voice for {args.seconds:g} s", flush=True)
        threads = [threading.Thread(target=caller_loop) for _ in range(args.calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        os.killpg(shop.pid, 15)
        shop.wait(timeout=60)
        fake.terminate()
    speech, yes, bare = (summary(timings[k]) for k in ("speech", "yes", "bare"))
    result = {
        "benchmark": "voice",
        "label": args.label,
        "calls_at_once": args.calls,
        "seconds": args.seconds,
        "think_seconds": args.think,
        "orders_placed": len(timings["yes"]),
        "errors": len(errors),
        "first_errors": errors[:5],
        "spoken_order_to_read_back": speech,
        "yes_to_order_number": yes,
        "baseline_bare_signed_view": bare,
        "ratio_p99_spoken_to_bare": (
            round(speech["p99_ms"] / bare["p99_ms"], 1) if speech and bare else None
        ),
        "goal_p99_ms": 250,
        "machine": report.machine(),
    }
    print(json.dumps(result, indent=2))
    print("saved to", report.save(f"voice-{args.label or 'sqlite'}", result))
    met = speech and yes and speech["p99_ms"] < 250 and yes["p99_ms"] < 250 and not errors
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
