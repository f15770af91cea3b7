"""SQLite as configured in settings (Django's own engine and its documented OPTIONS):
WAL journal, IMMEDIATE transactions, and a lock wait well inside Twilio's 15 s."""

import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from telephony.models import Message
from telephony.simulator import sms_params

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's OPTIONS (settings.DATABASES)"
)


def pragma(name):
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


def outbound_message():
    return Message.objects.create(
        direction="out", from_number="+1", to_number="+2", status="queued"
    )


@pytest.mark.django_db
def test_the_database_uses_wal_and_waits_for_locks_a_few_seconds_only():
    assert connection.settings_dict["ENGINE"] == "django.db.backends.sqlite3"
    assert pragma("journal_mode") == "wal"  # readers never wait for the writer
    assert pragma("synchronous") == 1  # NORMAL: safe with WAL, no fsync per commit
    assert pragma("busy_timeout") == settings.DATABASE_LOCK_TIMEOUT * 1000
    assert settings.DATABASE_LOCK_TIMEOUT <= 8  # Twilio gives up on a webhook at 15 s


@pytest.fixture
def held_write_lock():
    """Another connection inside a write transaction until the test lets it go."""
    started, release = threading.Event(), threading.Event()

    def writer():
        with transaction.atomic():
            outbound_message()
            started.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert started.wait(5)
    yield release
    release.set()
    thread.join()


@pytest.mark.django_db(transaction=True)
def test_a_writer_gets_the_lock_once_it_is_free(held_write_lock, twilio):
    threading.Timer(0.2, held_write_lock.set).start()
    response = twilio.post("/twilio/sms/", sms_params("+14155550199", "MENU"))
    assert response.status_code == 200
    assert Message.objects.filter(direction="in").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_transactions_that_read_then_write_take_turns_instead_of_failing():
    """A deferred transaction that read before another one wrote cannot upgrade to a
    writer ("database is locked" at once, no waiting). IMMEDIATE transactions take the
    write lock at BEGIN, so the second waits for the first and both succeed."""
    first_has_read, errors = threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                Message.objects.count()
                first_has_read.set()
                threading.Event().wait(0.3)  # the second transaction starts meanwhile
                outbound_message()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            first_has_read.set()
            connection.close()

    def second():
        first_has_read.wait(5)
        try:
            with transaction.atomic():
                Message.objects.count()
                outbound_message()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)

    assert errors == []
    assert Message.objects.filter(direction="out").count() == 2
