"""`manage.py backup` (telephony/backup.py): a copy taken while texts keep arriving holds
every text acknowledged before it began, restores as the README says, and only the newest
BACKUP_KEEP copies are kept."""

import io
import os
import sqlite3
import subprocess
import threading
import time

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from telephony import backup
from telephony.simulator import sms_params
from tests.conftest import signature_for


def keep_texting(stop, acknowledged, errors):
    """A customer texting as fast as the webhook answers, from a thread of its own."""
    client = Client()
    from django.conf import settings

    n = 0
    while not stop.is_set():
        n += 1
        params = sms_params(f"+1415555{n % 9000 + 1000:04d}", f"text {n}")
        params["AccountSid"] = settings.TWILIO_ACCOUNT_SID
        url = settings.PUBLIC_BASE_URL + "/twilio/sms/"
        response = client.post(
            "/twilio/sms/", params, headers={"X-Twilio-Signature": signature_for(url, params)}
        )
        if response.status_code == 200:
            acknowledged.append((time.monotonic(), params["MessageSid"]))
        else:
            errors.append(response.status_code)
    connection.close()


def restored_sids(path, dbname=None):
    if path.suffix == ".sqlite3":
        with sqlite3.connect(path) as copy:
            return {row[0] for row in copy.execute("SELECT sid FROM telephony_message")}
    settings = connection.settings_dict
    params = {
        "host": settings["HOST"], "port": settings["PORT"], "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
    }  # fmt: skip
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        admin.execute(f'CREATE DATABASE "{dbname}"')
    env = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    subprocess.run(
        ["pg_restore", "--no-owner", f"--host={settings['HOST']}", f"--port={settings['PORT']}",
         f"--username={settings['USER']}", f"--dbname={dbname}", str(path)],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    with psycopg.connect(dbname=dbname, **params) as copy:
        sids = {row[0] for row in copy.execute("SELECT sid FROM telephony_message")}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE "{dbname}"')
    return sids


@pytest.mark.django_db(transaction=True)
def test_a_backup_under_write_load_holds_every_acknowledged_text(tmp_path):
    stop, acknowledged, errors = threading.Event(), [], []
    writers = [
        threading.Thread(target=keep_texting, args=(stop, acknowledged, errors)) for _ in range(3)
    ]
    for writer in writers:
        writer.start()
    try:
        while len(acknowledged) < 100:
            time.sleep(0.05)
        began = time.monotonic()
        out = io.StringIO()
        call_command("backup", dir=str(tmp_path), keep=3, stdout=out)
        ended = time.monotonic()
        time.sleep(0.3)  # texts keep coming after it
    finally:
        stop.set()
        for writer in writers:
            writer.join()

    [copy] = backup.copies(tmp_path)
    assert f"Backed up to {copy}" in out.getvalue()
    before = {sid for at, sid in acknowledged if at < began}
    after = {sid for at, sid in acknowledged if at > ended}
    assert len(before) >= 100 and after and not errors
    restored = restored_sids(copy, dbname=f"restore_{os.getpid()}")
    assert before <= restored  # every text acknowledged before the backup began
    assert not after <= restored  # and it is a snapshot: later ones are not in it


@pytest.mark.django_db(transaction=True)
def test_only_the_newest_copies_are_kept(tmp_path):
    for _ in range(4):
        call_command("backup", dir=str(tmp_path), keep=2, stdout=io.StringIO())
    kept = backup.copies(tmp_path)
    assert len(kept) == 2 and kept == sorted(kept)
