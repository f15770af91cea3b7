"""Settings for the test suite (pyproject.toml names this module): the project's settings,
with no provider reached, tasks and sends run inline, a known auth token, and a database per run."""

import os

# Tests never read a developer's .env (it may hold real credentials or a real database).
# Set before the project's settings are read; processes the tests start inherit it.
os.environ["ENV_FILE"] = ""

from pizzeria.settings import *  # noqa: E402, F403
from pizzeria.settings import BASE_DIR, DATABASES, STORAGES, TASKS, env  # noqa: E402

TELEPHONY_BACKEND = env("TEST_TELEPHONY_BACKEND", default="locmem")
TASKS["default"]["BACKEND"] = env(
    "TEST_TASK_BACKEND", default="django.tasks.backends.immediate.ImmediateBackend"
)
# Texts and voice requests leave when the asker's transaction commits, by the telephony
# worker's own consumer (telephony/outbox.py), in the test's thread.
TELEPHONY_SEND_AT_COMMIT = True
PROCESS_HEARTBEATS = False  # no beating threads in tests (a test that needs one turns it on)

# Signatures are computed with a known token, over a known public address.
TWILIO_ACCOUNT_SID = "AC" + "a" * 32
TWILIO_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://pizza.example.com"

# Open around the clock unless a test sets hours (tests/test_orders_hours.py).
SHOP_HOURS = env("SHOP_HOURS", default="24/7")

# This run's own spool of texts the database could not take (tests/conftest.py empties it).
TELEPHONY_SPOOL_DIR = str(BASE_DIR / "var" / f"spool-test-{os.getpid()}")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so tests that race threads meet real SQLite locking.
    # One per process, so two test runs side by side never share a file.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")}
