"""A turnstile in front of SQLite's write lock, for the two writers that matter most.

SQLite lets one connection write at a time. One that finds the lock taken sleeps in
SQLite's busy handler (1, 2, 5, 10 ... 100 ms between tries), so a telephony worker that
commits batch after batch can keep the webhook's insert waiting for hundreds of
milliseconds: it finds the lock taken at every try. Here both take an `flock` on a file
beside the database before they write, and a waiter tries again every half
millisecond instead, with the webhook trying more often than the worker: the inbound
text is stored, and Twilio answered, between two of the worker's batches.

Only these two take it; other writers (the admin, db_worker, status callbacks) meet the
busy handler as before. With PostgreSQL, or an in-memory SQLite database (the tests),
it does nothing. A writer that cannot get through in DATABASE_LOCK_TIMEOUT seconds goes
on without it, as SQLite's own `timeout` would have it wait no longer.
"""

import fcntl
import os
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

WORKER_EVERY = 0.002  # the telephony worker's tries: four times fewer than the webhook's

_files = {}
_files_lock = threading.Lock()
_threads = threading.Lock()  # flock is per open file, which a process's threads share


def _database_file(using):
    """The SQLite database file behind `using`, or None (PostgreSQL, in-memory)."""
    database = connections[using]
    if database.vendor != "sqlite":
        return None
    name = str(database.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    return name


def _lock_file(using):
    if (name := _database_file(using)) is None:
        return None
    with _files_lock:
        if (fd := _files.get(name)) is None:
            fd = _files[name] = os.open(f"{name}-turnstile", os.O_RDWR | os.O_CREAT, 0o600)
    return fd


@contextmanager
def sqlite_writer(*, every=0.0005, using="default"):
    """Hold the turnstile while the block writes (nothing but SQLite files on disk).

    `every`: seconds between tries while another holds it; the worker passes a longer
    one than the webhook, so the webhook gets through first."""
    fd = _lock_file(using)
    if fd is None:
        yield
        return
    deadline = time.monotonic() + settings.DATABASE_LOCK_TIMEOUT
    mine = _threads.acquire(timeout=settings.DATABASE_LOCK_TIMEOUT)
    held = False
    while mine:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                break
            time.sleep(every)
    try:
        yield
    finally:
        if held:
            fcntl.flock(fd, fcntl.LOCK_UN)
        if mine:
            _threads.release()
