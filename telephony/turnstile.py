"""A turnstile in front of SQLite's write lock, for the two writers that matter most.

SQLite lets one connection write at a time. One that finds the lock taken sleeps in
SQLite's busy handler (1, 2, 5, 10 ... 100 ms between tries), so a telephony worker that
commits batch after batch can keep the webhook's insert waiting for hundreds of
milliseconds: it finds the lock taken at every try. Here both take an `flock` on a file
beside the database before they write, and a waiter tries again every half
millisecond instead. The webhook goes first: while one waits it holds a shared lock on
a second file (`-waiting`), and the worker, before each batch, lets every such waiter
through (up to WORKER_DEFERS_AT_MOST seconds, so a flood of webhooks cannot stop it):
the inbound text is stored, and Twilio answered, between two of the worker's batches.
Without that the worker, retaking the turnstile the moment it let go, won nearly every
time, and the webhook's threads spent two thirds of their time waiting (py-spy at 150
texts a second: acks p50 0.5 s, which held the sender back; bench/README.md).

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
WORKER_DEFERS_AT_MOST = 0.02  # seconds a worker's batch waits for webhooks to go first

_files = {}
_files_lock = threading.Lock()
_threads = threading.Lock()  # flock is per open file, which a process's threads share
_waiting = 0  # this process's threads waiting to write first (they share one shared lock)
_announced = False  # whether this process holds that shared lock
_waiting_lock = threading.Lock()


def _database_file(using):
    """The SQLite database file behind `using`, or None (PostgreSQL, in-memory)."""
    database = connections[using]
    if database.vendor != "sqlite":
        return None
    name = str(database.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    return name


def _lock_file(using, suffix="-turnstile"):
    if (name := _database_file(using)) is None:
        return None
    with _files_lock:
        if (fd := _files.get(name + suffix)) is None:
            fd = _files[name + suffix] = os.open(name + suffix, os.O_RDWR | os.O_CREAT, 0o600)
    return fd


@contextmanager
def _first_in_line(fd):
    """Say (a shared lock on the `-waiting` file) that this thread waits to write first.

    Never waits long for it: a worker holds the file only for a look (`_first_waiting`),
    but one stopped in that instant (SIGSTOP) must not stop the webhook, which then goes
    on unannounced, as before there was a `-waiting` file."""
    global _waiting, _announced
    with _waiting_lock:
        _waiting += 1
        if _waiting == 1:
            _announced = _try(fd, fcntl.LOCK_SH, tries=20)
    try:
        yield
    finally:
        with _waiting_lock:
            _waiting -= 1
            if _waiting == 0 and _announced:
                fcntl.flock(fd, fcntl.LOCK_UN)
                _announced = False


def _try(fd, operation, *, tries):
    """Take `operation` (LOCK_SH, LOCK_EX) on `fd` without blocking, in `tries` tries
    0.1 ms apart. Whether it was taken."""
    for attempt in range(tries):
        if attempt:
            time.sleep(0.0001)
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
    return False


def _first_waiting(fd):
    """Whether a writer that goes first is waiting (holds the `-waiting` file shared)."""
    if not _try(fd, fcntl.LOCK_EX, tries=1):
        return True
    fcntl.flock(fd, fcntl.LOCK_UN)
    return False


@contextmanager
def sqlite_writer(*, every=0.0005, first=True, using="default"):
    """Hold the turnstile while the block writes (nothing but SQLite files on disk).

    `every`: seconds between tries while another holds it. `first`: this writer goes
    before those that pass `first=False` (the webhook's insert before the worker's
    batch), which wait for it up to WORKER_DEFERS_AT_MOST."""
    fd = _lock_file(using)
    if fd is None:
        yield
        return
    waiting = _lock_file(using, "-waiting")
    if first:
        with _first_in_line(waiting), _turnstile(fd, every):
            yield
    else:
        with _turnstile(fd, every, after=waiting):
            yield


@contextmanager
def _turnstile(fd, every, after=None):
    """Take the turnstile `fd`; with `after`, only once no writer that goes first waits
    on it (or WORKER_DEFERS_AT_MOST has passed), checked at every try: so of two workers,
    the one that finds the turnstile free does not slip in ahead of a waiting webhook."""
    now = time.monotonic()
    deadline = now + settings.DATABASE_LOCK_TIMEOUT
    defer_until = now + WORKER_DEFERS_AT_MOST if after is not None else now
    mine = _threads.acquire(timeout=settings.DATABASE_LOCK_TIMEOUT)
    held = False
    while mine:
        if time.monotonic() < defer_until and _first_waiting(after):
            time.sleep(every)
            continue
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
