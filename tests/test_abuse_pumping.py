"""SMS pumping: a flood of texts must not make the shop send a flood of (paid) replies."""

import io

import pytest
from django.db.models import Q

from orders import demo
from telephony.models import Message

pytestmark = pytest.mark.django_db

FLOODER = "+14155550100"


@pytest.fixture(autouse=True)
def menu(db):
    demo.seed(io.StringIO())


def outbound_to(number):
    return Message.objects.filter(direction=Message.Direction.OUTBOUND, to_number=number)


def test_two_hundred_texts_from_one_number_in_an_hour_get_at_most_the_hourly_limit(
    sms, settings, outbox
):
    settings.SMS_REPLIES_PER_HOUR = 30
    for n in range(200):
        sms(FLOODER, ["MENU", "HELP", "STATUS", "pizza?"][n % 4])

    assert Message.objects.filter(from_number=FLOODER).count() == 200  # all kept for staff
    replies = outbound_to(FLOODER)
    assert replies.count() == settings.SMS_REPLIES_PER_HOUR
    assert len([r for r in outbox if r.kind == "sms"]) == settings.SMS_REPLIES_PER_HOUR
    # Someone else texting at the same time is still answered.
    assert sms("+14155550101", "MENU").replies


PREMIUM = [
    "+37125550123",  # Latvia
    "+88213550123",  # International Networks (satellite, premium)
    "+2222550123",  # Mauritania
    "+447700900123",  # UK mobile: a real country, but not one we serve
]


@pytest.mark.parametrize("sender", PREMIUM)
def test_texts_from_a_country_we_do_not_serve_get_no_reply_at_all(sms, settings, outbox, sender):
    settings.SMS_ALLOWED_COUNTRIES = ["US"]
    for body in ["MENU", "HELP", "ORDER 1 large pepperoni", "YES", "STATUS"] * 4:
        assert sms(sender, body).status_code == 200

    assert not outbound_to(sender).filter(~Q(status=Message.Status.FAILED)).exists()
    assert outbox == []


def test_a_reply_cannot_be_steered_to_another_number_by_the_webhook(sms, outbox):
    """Replies go to the sender Twilio vouched for, whatever else the form says."""
    response = sms(FLOODER, "MENU", To="+37125550123", ReplyTo="+37125550123")

    assert response.replies
    assert {r.to for r in outbox if r.kind == "sms"} == {FLOODER}
