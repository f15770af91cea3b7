"""A text the database cannot take is kept on disk, acknowledged, and answered once later.

Seen in a production trial: with PostgreSQL down for 5 s, 5 texts got 503 and were never
stored (Twilio does not retry an SMS webhook's 5xx unless the URL asks). Now the webhook
keeps such a text in the spool (telephony/spool.py) and answers 200; the telephony worker
stores it once the database answers, and the customer gets their reply.
"""

import pytest
from django.core.management import call_command
from django.db import OperationalError

from telephony import inbound
from telephony.models import Message
from telephony.simulator import sms_params

CUSTOMER = "+14155550199"
pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    """The database refuses the webhook's insert, as a server that is down or a lock held
    past DATABASE_LOCK_TIMEOUT does; `up()` brings it back."""

    def refused(**fields):
        raise OperationalError("connection to server failed: Connection refused")

    monkeypatch.setattr(inbound, "_insert_inbound", refused)

    class Outage:
        @staticmethod
        def up():
            monkeypatch.undo()

    return Outage()


def worker_pass(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("telephony_worker", "--once")


def replies_to(sid):
    return list(
        Message.objects.filter(in_reply_to__sid=sid, sid__isnull=False).values_list(
            "body", flat=True
        )
    )


def test_a_text_during_an_outage_is_acknowledged_kept_and_answered_once_after(
    twilio, database_down, spool_folder, outbox, django_capture_on_commit_callbacks
):
    texts = [sms_params(CUSTOMER, "MENU"), sms_params("+14155550123", "HELP")]
    responses = [twilio.post("/twilio/sms/", params) for params in texts]

    assert [r.status_code for r in responses] == [200, 200]  # Twilio will not ask again
    assert b"<Response" in responses[0].content
    assert sorted(p.name for p in spool_folder.iterdir()) == sorted(
        f"{params['MessageSid']}.json" for params in texts
    )
    assert not Message.objects.exists()

    database_down.up()
    worker_pass(django_capture_on_commit_callbacks)

    for params in texts:
        assert len(replies_to(params["MessageSid"])) == 1, params["Body"]
    assert [m.to for m in outbox] == [CUSTOMER, "+14155550123"]  # in the order they came
    assert list(spool_folder.iterdir()) == []
    worker_pass(django_capture_on_commit_callbacks)  # nothing left to do twice
    assert Message.objects.filter(direction="out").count() == 2


def test_twilio_retrying_a_spooled_text_makes_one_row_and_one_reply(
    twilio, database_down, spool_folder, django_capture_on_commit_callbacks
):
    params = sms_params(CUSTOMER, "MENU")
    assert twilio.post("/twilio/sms/", params).status_code == 200  # spooled
    database_down.up()
    assert twilio.post("/twilio/sms/", params).status_code == 200  # Twilio's retry, stored

    worker_pass(django_capture_on_commit_callbacks)

    assert Message.objects.filter(direction="in").count() == 1
    assert len(replies_to(params["MessageSid"])) == 1
    assert list(spool_folder.iterdir()) == []


def test_a_spooled_text_keeps_its_place_before_the_customers_next_one(
    twilio, database_down, django_capture_on_commit_callbacks
):
    first = sms_params(CUSTOMER, "MENU")
    twilio.post("/twilio/sms/", first)  # spooled
    database_down.up()
    second = sms_params(CUSTOMER, "HELP")
    twilio.post("/twilio/sms/", second)  # stored directly, later

    worker_pass(django_capture_on_commit_callbacks)
    worker_pass(django_capture_on_commit_callbacks)

    answered = Message.objects.filter(direction="out", sid__isnull=False).order_by("sent_at", "id")
    assert [m.in_reply_to.sid for m in answered] == [first["MessageSid"], second["MessageSid"]]


def test_when_the_disk_fails_too_twilio_is_asked_to_retry(
    twilio, database_down, settings, tmp_path
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the spool folder should be")
    settings.TELEPHONY_SPOOL_DIR = str(blocked)

    response = twilio.post("/twilio/sms/", sms_params(CUSTOMER, "MENU"))

    assert response.status_code == 503
    assert response["Retry-After"]


def test_an_unreadable_spool_file_is_set_aside_and_the_rest_stored(
    twilio, database_down, spool_folder, django_capture_on_commit_callbacks
):
    params = sms_params(CUSTOMER, "MENU")
    twilio.post("/twilio/sms/", params)
    (spool_folder / "SMbroken.json").write_text("{not json")
    database_down.up()

    worker_pass(django_capture_on_commit_callbacks)

    assert len(replies_to(params["MessageSid"])) == 1
    assert [p.name for p in spool_folder.iterdir()] == ["SMbroken.bad"]


def test_after_a_failure_texts_go_straight_to_the_spool_then_one_probe_brings_it_back(
    twilio, monkeypatch, spool_folder, django_capture_on_commit_callbacks
):
    """Waiting for a database that is down costs each text the pool's or the lock's
    timeout; during a 10 s PostgreSQL outage that let Twilio's acks reach 14 s. After one
    failure the webhook stops asking for AWAY_SECONDS, then tries again once."""
    from telephony import spool

    tries = []
    real_insert = inbound._insert_inbound

    def down(**fields):
        tries.append(fields["sid"])
        raise OperationalError("connection to server failed")

    monkeypatch.setattr(inbound, "_insert_inbound", down)
    texts = [sms_params(f"+1415555010{n}", "MENU") for n in range(3)]
    assert [twilio.post("/twilio/sms/", t).status_code for t in texts] == [200, 200, 200]
    assert len(tries) == 1  # the other two did not wait for the database
    assert len(list(spool_folder.iterdir())) == 3

    monkeypatch.setattr(inbound, "_insert_inbound", real_insert)  # the database is back
    monkeypatch.setattr(spool, "AWAY_SECONDS", 0)
    spool.database_away.failed()  # ... as the last failure, now long enough ago
    probe, after = sms_params("+14155550110", "MENU"), sms_params("+14155550111", "HELP")
    assert twilio.post("/twilio/sms/", probe).status_code == 200
    assert twilio.post("/twilio/sms/", after).status_code == 200
    assert Message.objects.filter(sid__in=[probe["MessageSid"], after["MessageSid"]]).count() == 2

    worker_pass(django_capture_on_commit_callbacks)
    assert Message.objects.filter(direction="in").count() == 5
    assert list(spool_folder.iterdir()) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_away_under_a_stream_of_texts_every_one_answered_once_after(
    postgres_database, workers, send_record, twilio
):
    """A real outage: the database refuses connections and every session on it is ended
    (as in a restart), while texts keep coming and a telephony worker runs."""
    import time as clock

    import psycopg
    from django.db import connection
    from psycopg import sql

    workers.env.update(DATABASE_URL=postgres_database, SHOP_HOURS="24/7")
    workers.start("telephony_worker", "--poll", "0.1", ready="Listening for work")
    name = connection.settings_dict["NAME"]
    admin_url = postgres_database.rsplit("/", 1)[0] + "/postgres"

    def allow(on):
        with psycopg.connect(admin_url, autocommit=True) as admin:
            allow = sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(name), sql.SQL("true" if on else "false")
            )
            admin.execute(allow)
            if not on:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    [name],
                )

    texts = [sms_params(f"+1415555{n:04d}", "MENU") for n in range(30)]
    statuses = []
    for text in texts[:10]:
        statuses.append(twilio.post("/twilio/sms/", text).status_code)
    allow(False)
    try:
        for text in texts[10:20]:
            statuses.append(twilio.post("/twilio/sms/", text).status_code)
            clock.sleep(0.2)  # two seconds of texts while the database is away
    finally:
        allow(True)
    connection.close()  # the web server's next request would find its connection ended
    for text in texts[20:]:
        statuses.append(twilio.post("/twilio/sms/", text).status_code)

    assert statuses == [200] * 30
    workers.wait_until(
        lambda: len({line["to"] for line in send_record.sent}) == 30,
        timeout=60,
        what="a reply to each of the 30 texts",
    )
    clock.sleep(1)  # a second reply, if any, would have left by now
    replies = [line["to"] for line in send_record.sent]
    assert sorted(replies) == sorted(text["From"] for text in texts)  # each once
    assert Message.objects.filter(direction="in").count() == 30
