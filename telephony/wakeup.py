"""Waking the telephony worker when there is work: LISTEN/NOTIFY on PostgreSQL, a short poll
elsewhere.

On PostgreSQL a trigger (migration 0011) sends NOTIFY on CHANNEL from the transaction that
inserts an inbound text or a queued outbox row (a text that is not a reply, which the worker
that wrote it sends, or a voice request);
PostgreSQL delivers it on commit, and never for a rollback. The worker LISTENs on a
connection of its own (not one of Django's, which go back to the pool) and waits on it,
and still looks every TELEPHONY_WORKER_LISTEN_POLL seconds, so a notification lost with a
dropped connection only delays. SQLite has no notifications: the worker sleeps
TELEPHONY_WORKER_POLL between its indexed polls.
"""

import logging
import time

import psycopg
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

CHANNEL = "telephony_work"  # the trigger in migrations/0011_outbox_one_consumer.py

# Keys of DATABASES["default"]["OPTIONS"] that Django reads itself rather than passing to
# psycopg.connect (Django's PostgreSQL notes: isolation level, role, binding, pool).
DJANGO_ONLY_OPTIONS = {"isolation_level", "assume_role", "server_side_binding", "pool"}

_listener = None


def listens():
    """Whether this database can wake the worker (PostgreSQL), rather than being polled."""
    return connection.vendor == "postgresql"


def _connect():
    database = settings.DATABASES["default"]
    params = {k: v for k, v in database["OPTIONS"].items() if k not in DJANGO_ONLY_OPTIONS}
    for key, name in (("dbname", "NAME"), ("user", "USER"), ("password", "PASSWORD"),
                      ("host", "HOST"), ("port", "PORT")):  # fmt: skip
        if database.get(name):
            params[key] = str(database[name])
    listener = psycopg.connect(autocommit=True, **params)
    listener.execute(f"LISTEN {CHANNEL}")
    logger.info("Listening for work on channel %s", CHANNEL)
    return listener


def listen():
    """Start listening now (the worker does before its first look for work, so nothing
    committed after that look is missed). False where there is nothing to listen to."""
    global _listener
    if not listens():
        return False
    if _listener is None or _listener.closed:
        try:
            _listener = _connect()
        except psycopg.Error as exc:
            logger.warning("Cannot listen for work (%s); polling until it can", exc)
            return False
    return True


def wait_for_work(poll=None, due_in=None):
    """Wait until there may be work. Returns True when a notification said so.

    On PostgreSQL: until a notification, or TELEPHONY_WORKER_LISTEN_POLL seconds. Elsewhere
    (or while the listening connection is down): `poll` seconds (TELEPHONY_WORKER_POLL).
    Never longer than `due_in` seconds: when the next held outbox row falls due.
    """
    poll = settings.TELEPHONY_WORKER_POLL if poll is None else poll
    timeout = settings.TELEPHONY_WORKER_LISTEN_POLL
    if due_in is not None:
        poll, timeout = min(poll, due_in), min(timeout, due_in)
    if not listen():
        time.sleep(poll)
        return False
    try:
        woken = any(True for _ in _listener.notifies(timeout=timeout, stop_after=1))
        if woken:  # several commits while we worked: one round serves them all
            for _ in _listener.notifies(timeout=0):
                pass
        return woken
    except psycopg.Error as exc:
        logger.warning("Listening for work failed (%s); polling until it reconnects", exc)
        close()
        time.sleep(poll)
        return False


def close():
    global _listener
    if _listener is not None:
        _listener.close()
        _listener = None
