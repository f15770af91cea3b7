"""SQLite whose writers queue on a file lock instead of SQLite's sleeping busy handler.

With several processes (gunicorn workers, db_worker) writing one SQLite file,
a writer that finds the database locked sleeps in SQLite's busy handler (1, 2,
5, 10 ... up to 100 ms at a time), so a short burst of webhooks turns into
tail latencies of hundreds of milliseconds. Here every transaction (they are
BEGIN IMMEDIATE, see settings) first takes an exclusive flock on a file beside
the database; the kernel wakes the next writer the moment the lock is free.
A writer gives up after the connection's `timeout` (as SQLite's busy timeout
would) with "database is locked", so a webhook answers 503 rather than hang.
Autocommit statements outside a transaction still rely on the busy timeout.
"""

import contextlib
import fcntl
import os
import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_fd = None
    _holding_writer_lock = False

    def _acquire_writer_lock(self):
        if self._holding_writer_lock or self.is_in_memory_db():
            return
        if self._writer_fd is None:
            path = f"{self.settings_dict['NAME']}.writer-lock"
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._writer_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._wait_for_writer_lock()
        self._holding_writer_lock = True

    def _wait_for_writer_lock(self):
        # A blocking flock cannot time out, so a helper thread takes it blocking (the
        # kernel hands it over the moment it is free) while we wait with a deadline.
        timeout = self.settings_dict["OPTIONS"].get("timeout", 5)
        fd = os.dup(self._writer_fd)  # the same lock, valid even if the connection closes
        state = {"got": False, "abandoned": False}
        guard = threading.Lock()

        def take():
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                with guard:
                    if state["abandoned"]:
                        fcntl.flock(fd, fcntl.LOCK_UN)
                    else:
                        state["got"] = True
            finally:
                os.close(fd)

        taker = threading.Thread(target=take, daemon=True, name="sqlite-writer-lock")
        taker.start()
        taker.join(timeout)
        with guard:
            if not state["got"]:
                state["abandoned"] = True
                raise OperationalError(
                    f"database is locked (another writer held it for over {timeout} s)"
                )

    @contextlib.contextmanager
    def writer_lock(self):
        """Hold the writer lock around a single autocommit write (a transaction takes it
        by itself)."""
        if self.in_atomic_block:
            yield
            return
        self._acquire_writer_lock()
        try:
            yield
        finally:
            self._release_writer_lock()

    def _release_writer_lock(self):
        if self._holding_writer_lock:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
            self._holding_writer_lock = False

    def _start_transaction_under_autocommit(self):
        self._acquire_writer_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None
