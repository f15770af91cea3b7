"""The inbound spool: texts the database could not take, kept on local disk until it can.

Twilio does not retry an SMS webhook that answered 503 unless its URL asks for it, so a
503 can be a lost text. When storing a signed, well-formed text fails with a database
error (the server down or restarting, a lock held past DATABASE_LOCK_TIMEOUT), the
webhook writes its parameters to a file in TELEPHONY_SPOOL_DIR instead (written to a
temporary name, fsynced, renamed, the folder fsynced: a text acknowledged is on disk)
and answers 200. The telephony worker replays the spool as soon as it starts and every
few seconds after (`replay`): each file goes through `receive_sms` as the webhook would
have, with the time it arrived, and is removed once stored. Files are named by
MessageSid, so a text spooled twice, or spooled and also stored by a retry from Twilio,
makes one row (MessageSid is unique) and one reply.

The spool is local to the web server's machine: run a telephony worker on each machine
that runs the web server, or point TELEPHONY_SPOOL_DIR of both at the same folder.
"""

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction

logger = logging.getLogger(__name__)

SUFFIX = ".json"
AWAY_SECONDS = 2.0  # after a failure, texts go straight to the spool this long


class DatabaseAway:
    """Whether the webhook should skip the database for now, in this process.

    Waiting for a database that is down costs each text up to DATABASE_LOCK_TIMEOUT (a
    connection from the pool, a lock), and a web worker's threads all waiting so let the
    queue of texts grow until Twilio's 15 s ran out (measured: acks p99 14 s during a
    10 s PostgreSQL outage). So after a failure, texts go to the spool at once for
    AWAY_SECONDS; then one request at a time tries the database again, and the first
    that succeeds ends it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._until = 0.0  # 0: the database answers; else skip it until then

    def skip(self):
        """True: spool this text without asking the database. When the time is up, the
        request that finds it so tries the database (the others keep skipping for another
        AWAY_SECONDS, and if that request never says how it went, the next one tries)."""
        if not self._until:
            return False
        with self._lock:
            now = time.monotonic()
            if not self._until or now < self._until:
                return bool(self._until)
            self._until = now + AWAY_SECONDS  # this request probes; the others wait
            return False

    def answered(self):
        if self._until:
            with self._lock:
                if self._until:
                    logger.warning("The database takes texts again")
                self._until = 0.0

    def forget(self):
        """Back to "the database answers" (tests, each starting afresh)."""
        self._until = 0.0

    def failed(self):
        with self._lock:
            self._until = time.monotonic() + AWAY_SECONDS


database_away = DatabaseAway()


def folder():
    return Path(settings.TELEPHONY_SPOOL_DIR)


def keep(params, sid):
    """Write the text's parameters (a QueryDict or dict) to the spool, durably. Raises
    OSError when it cannot (the caller then answers 503)."""
    where = folder()
    where.mkdir(parents=True, exist_ok=True)
    record = {
        "params": {key: params.get(key) for key in params},
        "received_at": datetime.now(UTC).isoformat(),
    }
    handle, temporary = tempfile.mkstemp(dir=where, prefix=".incoming-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(record, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, where / f"{sid}{SUFFIX}")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(where, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def waiting():
    """The spooled texts' files, oldest first."""
    where = folder()
    if not where.is_dir():
        return []
    found = []
    for path in where.iterdir():
        if path.suffix != SUFFIX or path.name.startswith("."):
            continue
        try:
            found.append((path.stat().st_mtime, path.name, path))
        except FileNotFoundError:
            continue  # another worker stored it just now
    return [path for *_, path in sorted(found)]


def replay():
    """Store every spooled text, oldest first, and remove its file. Returns how many were
    stored (new or already there). Stops at the first database error: the rest wait for
    the next call. A file that is not a text (unreadable, not JSON) is moved aside as
    `.bad` and logged once."""
    from .inbound import receive_sms

    stored = 0
    for path in waiting():
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            params, received_at = record["params"], datetime.fromisoformat(record["received_at"])
        except FileNotFoundError:
            continue  # another worker replayed it
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.error("Spooled text %s unreadable (%s); moved aside as .bad", path.name, exc)
            _set_aside(path)
            continue
        try:
            with transaction.atomic():
                receive_sms(params, received_at=received_at)
        except DatabaseError as exc:
            logger.warning("Spool: the database still refuses (%s); %s wait", exc, path.name)
            return stored
        except ValueError as exc:
            logger.error("Spooled text %s is not a text (%s); moved aside", path.name, exc)
            _set_aside(path)
            continue
        path.unlink(missing_ok=True)
        stored += 1
    if stored:
        logger.info("Spool: stored %s text(s) the database could not take earlier", stored)
    return stored


def _set_aside(path):
    with contextlib.suppress(FileNotFoundError):  # another worker got there first
        path.rename(path.with_suffix(".bad"))
