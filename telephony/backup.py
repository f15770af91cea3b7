"""Consistent copies of the shop's database while it runs (`manage.py backup`).

- SQLite: the online backup API (`sqlite3.Connection.backup`), which copies a consistent
  snapshot while the web and workers keep writing (WAL: writers are not stopped).
- PostgreSQL: `pg_dump --format=custom` (a consistent snapshot by its own transaction),
  restored with `pg_restore`.

Each copy is written beside its final name and renamed when complete, so a copy that is
there is whole. The newest `keep` copies are kept; older ones are removed.
"""

import os
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection

PREFIX = "pizzeria-"


def back_up(folder, keep):
    """Write one copy into `folder`; remove all but the newest `keep`. Returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    vendor = connection.vendor
    if vendor == "sqlite":
        path = folder / f"{PREFIX}{stamp}.sqlite3"
        _sqlite(path)
    elif vendor == "postgresql":
        path = folder / f"{PREFIX}{stamp}.dump"
        _pg_dump(path)
    else:
        raise ValueError(f"no backup for a {vendor} database")
    prune(folder, keep)
    return path


def _sqlite(path):
    partial = path.with_suffix(".partial")
    source = sqlite3.connect(connection.settings_dict["NAME"], timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # one step: a snapshot, writers carry on (WAL)
            check = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
    finally:
        source.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the copy failed its integrity check: {check}")
    os.replace(partial, path)


def _pg_dump(path):
    settings = connection.settings_dict
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    partial = path.with_suffix(".partial")
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={partial}"]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            command.append(f"{flag}={settings[key]}")
    command.append(settings["NAME"])
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=3600)
    os.replace(partial, path)


def copies(folder):
    """The copies in `folder`, oldest first."""
    return sorted(p for p in Path(folder).glob(f"{PREFIX}*") if p.suffix in (".sqlite3", ".dump"))


def prune(folder, keep):
    """Remove all but the newest `keep` copies (none when `keep` is under 1)."""
    if keep < 1:
        return
    for old in copies(folder)[:-keep]:
        old.unlink(missing_ok=True)
