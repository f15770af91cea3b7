"""Logs on-call can use: one traceback per outage, one line per failure naming what it
concerns, times with their offset.

Seen in a production trial: a Redis stop wrote 857 lines of tracebacks in 10 s from one
worker; the 503 line named neither the MessageSid nor the sender; app times were local
without an offset while gunicorn's are UTC.
"""

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
