"""The SQLite engine queues writers on a file lock, and gives up like SQLite would."""

import threading

import pytest
from django.db import connection, transaction

from telephony.models import Message
from telephony.simulator import sms_params

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the writer lock is part of the SQLite engine only"
)


@pytest.fixture
def held_write_lock():
    """Another connection inside a write transaction until the test lets it go."""
    started, release = threading.Event(), threading.Event()

    def writer():
        with transaction.atomic():
            Message.objects.create(
                direction="out", from_number="+1", to_number="+2", status="queued"
            )
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
def test_a_webhook_waiting_too_long_for_the_write_lock_answers_503(held_write_lock, twilio):
    options = connection.settings_dict["OPTIONS"]
    saved, options["timeout"] = options["timeout"], 0.3
    try:
        response = twilio.post("/twilio/sms/", sms_params("+14155550199", "MENU"))
    finally:
        options["timeout"] = saved
    assert response.status_code == 503
    assert not Message.objects.filter(direction="in").exists()


@pytest.mark.django_db(transaction=True)
def test_a_writer_gets_the_lock_as_soon_as_it_is_free(held_write_lock, twilio):
    threading.Timer(0.2, held_write_lock.set).start()
    response = twilio.post("/twilio/sms/", sms_params("+14155550199", "MENU"))
    assert response.status_code == 200
    assert Message.objects.filter(direction="in").count() == 1
