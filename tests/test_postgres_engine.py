"""PostgreSQL as configured in settings: Django's own engine with psycopg's connection
pool, connections checked as they leave it, and a lock wait well inside Twilio's 15 s.
Run on PostgreSQL (a throwaway cluster when the suite itself runs on SQLite)."""

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.urls import reverse

from telephony.models import Message
from telephony.simulator import sms_params

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def next_request():
    """What Django does when a request ends and the next starts: with the pool, the
    connection goes back to it and the next query takes one out again."""
    close_old_connections()


def text(twilio, body="MENU"):
    return twilio.post(reverse("telephony:sms"), sms_params("+14155550123", body))


def test_requests_share_the_pools_connections(postgres_database, twilio):
    assert connection.settings_dict["ENGINE"] == "django.db.backends.postgresql"
    assert connection.settings_dict["CONN_MAX_AGE"] == 0
    backend_pid()
    next_request()
    opened_before = connection.pool.get_stats().get("connections_num", 0)
    pids = set()

    for n in range(5):
        assert text(twilio, f"STATUS {n}").status_code == 200
        pids.add(backend_pid())
        next_request()

    stats = connection.pool.get_stats()
    assert stats.get("connections_num", 0) == opened_before, "no request opened its own"
    assert len(pids) <= stats["pool_size"] <= connection.pool.max_size
    assert Message.objects.filter(direction="in").count() == 5


def test_a_connection_the_server_ended_is_replaced_before_the_webhook_uses_it(
    postgres_database, twilio
):
    pid = backend_pid()
    next_request()  # back in the pool, where the server ends it
    params = connection.get_connection_params()
    with psycopg.connect(
        **{k: params[k] for k in ("dbname", "user", "host", "port") if k in params},
        password=params.get("password"),
        autocommit=True,
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]

    response = text(twilio)

    assert response.status_code == 200, response.content
    assert backend_pid() != pid
    assert Message.objects.filter(direction="in").count() == 1


def test_a_query_waits_for_a_lock_no_longer_than_the_lock_timeout(postgres_database):
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == f"{settings.DATABASE_LOCK_TIMEOUT}s"
