"""The database locked or unavailable during a webhook.

Another connection holds the write lock (SQLite: BEGIN IMMEDIATE from a plain sqlite3
connection, as a backup or the sqlite3 shell would; PostgreSQL: LOCK TABLE) while this
process is configured to wait only briefly for locks. An inbound text is kept in the
spool on disk and acknowledged (telephony/spool.py), then stored and answered once the
database takes it; the other webhooks answer 503, which Twilio retries as the URL's
connection overrides ask (twilio_configure).
"""

import contextlib
import sqlite3
import time

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse

from telephony.models import Message
from telephony.simulator import sms_params
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)


def row_counts():
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


@contextlib.contextmanager
def short_lock_waits(monkeypatch):
    """This process waits 0.2 s for a lock instead of DATABASE_LOCK_TIMEOUT."""
    options = connection.settings_dict.setdefault("OPTIONS", {})
    if connection.vendor == "sqlite":
        monkeypatch.setitem(options, "timeout", 0.2)
    else:
        monkeypatch.setitem(options, "options", "-c lock_timeout=200")
    connection.close()
    try:
        yield
    finally:
        monkeypatch.undo()
        connection.close()


@contextlib.contextmanager
def write_lock_held_elsewhere():
    tables = ["telephony_message", "support_supportcall"]
    if connection.vendor == "sqlite":
        other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
    else:
        other = connections.create_connection("default")
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            other.rollback()
            other.close()


WEBHOOKS = {
    "SMS status": (
        "telephony:sms-status",
        lambda: {"MessageSid": "SM" + "7" * 32, "MessageStatus": "delivered"},
    ),
    "incoming call": (
        "support:voice",
        lambda: {"CallSid": "CA" + "5" * 32, "From": "+14155550123", "CallStatus": "ringing"},
    ),
}


@pytest.mark.parametrize("webhook", WEBHOOKS)
def test_a_webhook_during_a_database_lock_gets_503_and_saves_nothing(twilio, monkeypatch, webhook):
    MessageFactory(sid="SM" + "7" * 32, status="sent")
    name, params = WEBHOOKS[webhook]
    before = row_counts()

    with short_lock_waits(monkeypatch), write_lock_held_elsewhere():
        response = twilio.post(reverse(name), params())

    assert response.status_code == 503
    assert response["Retry-After"]
    assert row_counts() == before
    # Twilio's retry, once the lock is gone, goes through.
    assert twilio.post(reverse(name), params()).status_code in (200, 204)


def test_a_text_during_a_long_write_lock_is_kept_and_answered_well_before_twilio_gives_up(
    twilio, spool_folder, django_capture_on_commit_callbacks
):
    """Twilio waits 15 s for a webhook's answer. With the configured lock wait (not a
    shortened one) the text is kept on disk and acknowledged well inside that; once the
    lock is gone the worker stores it, and Twilio's retry makes no second row."""
    params = sms_params("+14155550123", "MENU", sid="SM" + "8" * 32)

    with write_lock_held_elsewhere():
        started = time.monotonic()
        response = twilio.post(reverse("telephony:sms"), params)
        waited = time.monotonic() - started

    assert response.status_code == 200
    assert waited < 10, f"answered after {waited:.1f} s; Twilio gives up at 15 s"
    assert waited >= settings.DATABASE_LOCK_TIMEOUT - 0.5, "it did wait for the lock"
    assert [p.name for p in spool_folder.iterdir()] == [f"{params['MessageSid']}.json"]
    assert not Message.objects.filter(sid=params["MessageSid"]).exists()

    assert twilio.post(reverse("telephony:sms"), params).status_code == 200  # a retry
    with django_capture_on_commit_callbacks(execute=True):
        call_command("telephony_worker", "--once")

    assert Message.objects.filter(sid=params["MessageSid"]).count() == 1
    assert Message.objects.filter(in_reply_to__sid=params["MessageSid"]).count() == 1
    assert list(spool_folder.iterdir()) == []
