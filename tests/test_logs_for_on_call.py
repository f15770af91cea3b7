"""Logs on-call can use: one traceback per outage, one line per failure naming what it
concerns, times with their offset.

Seen in a production trial: a Redis stop wrote 857 lines of tracebacks in 10 s from one
worker; the 503 line named neither the MessageSid nor the sender; app times were local
without an offset while gunicorn's are UTC.
"""

import json
import logging
import os
import re
import subprocess
import sys
import time

import pytest
from django.db import OperationalError

from telephony import inbound
from telephony.logging import Formatter, QuietRepeats
from telephony.simulator import sms_params
from tests.conftest import ROOT


def test_a_failure_repeated_at_every_poll_shows_its_traceback_once(tmp_path):
    """A telephony worker whose database is gone (a folder that does not exist), as run
    by the README's command, polling every 50 ms for two seconds."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pizzeria.settings",
        "ENV_FILE": "",
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path}/gone/db.sqlite3",
        "TELEPHONY_SPOOL_DIR": str(tmp_path / "spool"),
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "telephony_worker", "--poll", "0.05", "--skip-checks"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    time.sleep(4)
    worker.terminate()
    log = worker.communicate(timeout=30)[0]

    failures = [line for line in log.splitlines() if "Database error" in line]
    assert len(failures) >= 5, log[-2000:]  # it kept trying, a line each time
    assert log.count("\ndjango.db.utils.OperationalError") == 1, log[-3000:]  # its traceback
    assert all("repeated, traceback above" in line for line in failures[1:])
    assert "unable to open database file" in failures[-1]  # what failed, on the line


def test_repeats_lose_the_traceback_and_a_new_outage_shows_it_again():
    quiet = QuietRepeats(quiet=60)

    def failure(at):
        try:
            raise ConnectionError("Connection refused")
        except ConnectionError:
            record = logging.LogRecord(
                "worker", logging.ERROR, __file__, 1, "Redis down for %s", ("tasks",),
                sys.exc_info(),
            )  # fmt: skip
        record.created = at
        quiet.filter(record)
        return record

    first, again, later = failure(0), failure(30), failure(200)

    assert first.exc_info is not None
    assert again.exc_info is None
    assert again.getMessage() == (
        "Redis down for tasks (ConnectionError: Connection refused; repeated, traceback above)"
    )
    assert later.exc_info is not None  # over a minute quiet: a new outage


def test_log_times_carry_their_offset():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    line = Formatter("%(asctime)s %(message)s").format(record)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d hello$", line), line


@pytest.mark.django_db
def test_a_text_the_database_refused_is_logged_with_its_sid_and_sender(twilio, monkeypatch, caplog):
    def refused(**fields):
        raise OperationalError("connection to server failed")

    monkeypatch.setattr(inbound, "_insert_inbound", refused)
    params = sms_params("+14155550123", "MENU")
    with caplog.at_level(logging.WARNING, logger="telephony.views"):
        twilio.post("/twilio/sms/", params)

    (line,) = [r.getMessage() for r in caplog.records if r.name == "telephony.views"]
    assert params["MessageSid"] in line and "+1415***0123" in line  # the sender, masked
    assert "spool" in line


# --- LOG_FORMAT=json: one line per request and per step, saying what it concerns ------------


@pytest.fixture
def json_lines(settings):
    """What the JSON handler writes, as LOG_FORMAT=json configures it (settings.LOGGING)."""
    import io
    import json

    from telephony.logging import Concerns, JsonFormatter, MaskPhoneNumbers

    settings.LOG_FORMAT = "json"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    for kind in (MaskPhoneNumbers, Concerns):
        handler.addFilter(kind())
    root = logging.getLogger()
    root.addHandler(handler)
    level, root.level = root.level, logging.INFO
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.level = level


@pytest.mark.django_db
def test_a_json_log_line_carries_the_message_sid_and_order_it_concerns(json_lines, sms):
    from orders import demo

    demo.seed(__import__("io").StringIO())
    sms("+14155550123", "ORDER 1 large pepperoni")
    placed = sms_params("+14155550123", "YES")
    sms("+14155550123", "YES", sid=placed["MessageSid"])

    lines = json_lines()
    [request] = [
        line for line in lines
        if line["logger"] == "pizzeria.request" and line.get("message_sid") == placed["MessageSid"]
    ]  # fmt: skip
    assert request["status"] == 200 and request["path"] == "/twilio/sms/"
    assert re.fullmatch(r"[0-9a-f]{32}", request["request_id"]) and request["ms"] >= 0
    [answered] = [
        line for line in lines
        if line["message"].startswith("Answered text")
        and line.get("message_sid") == placed["MessageSid"]
    ]  # fmt: skip
    from orders.models import Order

    assert answered["order"] == Order.objects.get().number and answered["level"] == "INFO"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", answered["time"])
    assert not any("+14155550123" in json.dumps(line) for line in lines)  # numbers masked


@pytest.mark.django_db
def test_a_request_id_from_the_proxy_is_kept_and_echoed(json_lines, client):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-1234abcd"})
    assert response["X-Request-ID"] == "edge-1234abcd"
    [line] = [line for line in json_lines() if line["logger"] == "pizzeria.request"]
    assert line["request_id"] == "edge-1234abcd" and line["path"] == "/healthz"


def test_an_error_report_to_sentry_carries_no_phone_number_and_no_message(tmp_path):
    """SENTRY_DSN pointed at a local stand-in for Sentry: a failure while answering a text
    reaches it, its number masked and what the customer wrote removed."""
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Sentry(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append(body.decode(errors="replace"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sentry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = (
        "import django, sentry_sdk; django.setup()\n"
        "request = {'data': {'Body': 'my secret pizza', 'From': '+14155550123'}}\n"
        "try:\n"
        "    raise ValueError('No reply to +14155550123')\n"
        "except ValueError:\n"
        "    sentry_sdk.get_current_scope().set_extra('sms', {'Body': 'my secret pizza'})\n"
        "    sentry_sdk.capture_exception()\n"
        "sentry_sdk.flush(5)\n"
    )
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "pizzeria.settings", "ENV_FILE": "",
        "SENTRY_DSN": f"http://public@127.0.0.1:{server.server_address[1]}/1",
    }  # fmt: skip
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)
    server.shutdown()

    assert received, "nothing reached the Sentry stand-in"
    report = "\n".join(received)
    assert "ValueError" in report and "+1415***0123" in report
    assert "+14155550123" not in report and "my secret pizza" not in report
