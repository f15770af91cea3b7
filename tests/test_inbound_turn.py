"""The worker's turn check (`telephony.inbound._turn`, one statement in telephony/sql.py):
whose turn it is, whether a reply is still to leave, opted out, replies this hour; on
SQLite and on PostgreSQL. (What it means for customers: tests/test_telephony_worker_order.py,
tests/test_sms_limits.py.)"""

from datetime import timedelta

import pytest
from django.utils import timezone

from telephony.inbound import _turn
from telephony.models import Message, OptOut
from tests.factories import MessageFactory

CUSTOMER = "+14155550123"
OTHER = "+14155550999"
SHOP = "+15005550006"


def inbound(number=CUSTOMER, at=None, handled=False):
    message = MessageFactory(
        direction=Message.Direction.INBOUND,
        from_number=number,
        to_number=SHOP,
        status=Message.Status.RECEIVED,
        handled_at=timezone.now() if handled else None,
    )
    if at is not None:  # auto_now_add ignores a value given at creation
        Message.objects.filter(pk=message.pk).update(created_at=at)
        message.refresh_from_db()
    return message


def reply(to, about, status=Message.Status.QUEUED, sid=None, at=None):
    message = MessageFactory(to_number=to, in_reply_to=about, status=status, sid=sid)
    if at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=at)
    return message


def turn(message, number=None):
    t = _turn(message, number)
    return (t.older_waiting, t.reply_pending, t.opted_out, t.recent_replies)


@pytest.mark.django_db
def test_a_first_text_from_a_new_number_is_its_turn():
    message = inbound()
    assert turn(message) == (False, False, False, 0)


@pytest.mark.django_db
def test_an_older_unhandled_text_of_theirs_comes_first_but_not_a_handled_or_a_strangers():
    now = timezone.now().replace(microsecond=0)  # whole seconds: stored without a fraction
    earlier = inbound(at=now - timedelta(seconds=1), handled=True)
    inbound(OTHER, at=now - timedelta(seconds=1))
    message = inbound(at=now)
    assert turn(message)[0] is False

    Message.objects.filter(pk=earlier.pk).update(handled_at=None)
    assert turn(message)[0] is True


@pytest.mark.django_db
def test_texts_stored_in_the_same_instant_take_turns_by_id():
    now = timezone.now()
    first, second = inbound(at=now), inbound(at=now)
    assert (turn(first)[0], turn(second)[0]) == (False, True)


@pytest.mark.django_db
def test_a_reply_holds_their_next_text_until_it_has_a_sid():
    earlier = inbound(handled=True)
    pending = reply(CUSTOMER, earlier)
    reply(OTHER, inbound(OTHER, handled=True))  # someone else's reply does not count
    message = inbound()
    assert turn(message)[1] is True

    Message.objects.filter(pk=pending.pk).update(status=Message.Status.CLAIMED)
    assert turn(message)[1] is True
    Message.objects.filter(pk=pending.pk).update(sid="SM" + "1" * 32)
    assert turn(message)[1] is False


@pytest.mark.django_db
def test_opted_out_and_the_replies_of_the_last_hour_are_counted_for_the_number_asked():
    earlier = inbound(handled=True)
    for _ in range(3):
        reply(CUSTOMER, earlier, status=Message.Status.DELIVERED, sid=None)
    reply(
        CUSTOMER, earlier, status=Message.Status.DELIVERED, at=timezone.now() - timedelta(hours=2)
    )
    MessageFactory(to_number=CUSTOMER, status=Message.Status.DELIVERED)  # not a reply
    OptOut.objects.create(phone_number=CUSTOMER, keyword="STOP")
    message = inbound()
    assert turn(message) == (False, False, True, 3)
    # A WhatsApp sender is answered as their number without the prefix: `number` is asked.
    assert turn(message, OTHER) == (False, False, False, 0)
