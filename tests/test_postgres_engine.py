"""The PostgreSQL engine (pizzeria/postgresql): health checks without a round trip, and
the inbound SMS insert prepared on the server. Run on PostgreSQL (a throwaway cluster
when the suite itself runs on SQLite)."""

import time
from unittest import mock

import pytest
from django.db import close_old_connections, connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoPostgres
from django.urls import reverse

from pizzeria.postgresql.base import socket_readable
from telephony.models import Message
from telephony.simulator import sms_params

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def next_request():
    """What Django does when a request starts: connections are checked again before use."""
    close_old_connections()


def text(twilio, body="MENU"):
    return twilio.post(reverse("telephony:sms"), sms_params("+14155550123", body))


def test_a_live_connection_is_reused_without_asking_the_server(postgres_database, twilio):
    pid = backend_pid()
    next_request()

    with mock.patch.object(DjangoPostgres, "is_usable") as select_1:
        response = text(twilio)

    assert response.status_code == 200
    select_1.assert_not_called()
    assert backend_pid() == pid
    assert Message.objects.filter(direction="in").count() == 1


def test_a_connection_the_server_ended_is_replaced_before_the_webhook_uses_it(
    postgres_database, twilio
):
    pid = backend_pid()
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()
    deadline = time.monotonic() + 5
    while not socket_readable(connection.connection) and time.monotonic() < deadline:
        time.sleep(0.01)  # until the server's goodbye has arrived
    next_request()

    response = text(twilio)

    assert response.status_code == 200, response.content
    assert backend_pid() != pid
    assert Message.objects.filter(direction="in").count() == 1


def prepared_inserts():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements "
            "WHERE statement LIKE 'INSERT INTO \"telephony_message\"%%'"
        )
        return cursor.fetchone()[0]


def test_the_inbound_insert_is_prepared_once_per_connection(postgres_database, twilio):
    for n in range(7):
        assert text(twilio, f"STATUS {n}").status_code == 200

    assert prepared_inserts() == 1
    assert Message.objects.filter(direction="in").count() == 7


def test_prepared_statements_can_be_switched_off_for_an_old_pgbouncer(
    postgres_database, twilio, monkeypatch
):
    monkeypatch.setitem(connection.settings_dict, "PREPARED_STATEMENTS", False)
    connection.close()
    try:
        for n in range(3):
            assert text(twilio, f"STATUS {n}").status_code == 200

        assert prepared_inserts() == 0
        assert Message.objects.filter(direction="in").count() == 3
    finally:
        monkeypatch.undo()
        connection.close()
