"""SQLite whose writers queue on a file lock instead of SQLite's sleeping busy handler.

With several processes (gunicorn workers, db_worker) writing one SQLite file,
a writer that finds the database locked sleeps in SQLite's busy handler (1, 2,
5, 10 ... up to 100 ms at a time), so a short burst of webhooks turns into
tail latencies of hundreds of milliseconds. Here every transaction (they are
BEGIN IMMEDIATE, see settings) first takes an exclusive flock on a file beside
the database; the kernel wakes the next writer the moment the lock is free.
Autocommit statements outside a transaction still rely on the busy timeout.
"""

import fcntl
import os

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
        fcntl.flock(self._writer_fd, fcntl.LOCK_EX)
        self._holding_writer_lock = True

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
