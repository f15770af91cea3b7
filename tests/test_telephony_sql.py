"""The worker's plain statements (telephony/sql.py) write and read what the ORM would;
the customer look-up they once held is the ORM's get_or_create now."""

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from orders.models import Customer
from orders.services import customer_for
from telephony import sql
from telephony.inbound import receive_sms
from telephony.models import Message
from telephony.simulator import sms_params
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def stored(obj, *, leave_out=("id", "created_at", "updated_at")):
    row = model_to_dict(type(obj).objects.get(pk=obj.pk))
    return {name: value for name, value in row.items() if name not in leave_out}


def test_an_inserted_reply_is_the_row_save_writes():
    text = MessageFactory(direction="in", from_number="+14155550123")

    def reply():
        return Message(
            direction="out", to_number="+14155550123", from_number="+14155550100",
            body="Menu: ...", media_urls=["https://example.com/menu.jpg"], in_reply_to=text,
            status="queued", num_segments=2,
        )  # fmt: skip

    by_orm, by_sql = reply(), reply()
    by_orm.save()
    assert sql.insert(by_sql) is True

    assert by_sql.pk and by_sql.pk != by_orm.pk and not by_sql._state.adding
    assert stored(by_sql) == stored(by_orm)
    assert by_sql.created_at is not None  # auto_now_add, as save() sets it


def test_a_customer_is_made_once_and_read_back_with_their_number_as_a_phone_number():
    first = customer_for("+14155550123")
    again = customer_for("+14155550123")

    assert Customer.objects.count() == 1
    assert again.pk == first.pk
    assert isinstance(again.phone, PhoneNumber) and again.phone == "+14155550123"
    assert again.created_at == Customer.objects.get().created_at  # an aware datetime
    assert (again.language, again.name) == ("en", "")


def test_an_insert_that_would_clash_writes_nothing_and_says_so():
    MessageFactory(direction="in", sid="SM" + "1" * 32, body="first delivery")
    clash = Message(direction="in", sid="SM" + "1" * 32, body="the same text again")

    assert sql.insert(clash, on_conflict="sid") is False

    assert clash.pk is None
    assert list(Message.objects.values_list("body", flat=True)) == ["first delivery"]


def test_an_update_changes_the_named_fields_of_the_named_rows_only():
    ann, bob, other = (MessageFactory(status="sending") for _ in range(3))
    now = timezone.now()

    changed = sql.update(
        Message,
        [
            (ann.pk, {"status": "sent", "sid": "SM" + "a" * 32, "sent_at": now}),
            (bob.pk, {"status": "queued", "sid": "SM" + "b" * 32, "sent_at": now}),
        ],
    )

    assert changed == 2
    ann.refresh_from_db(), bob.refresh_from_db(), other.refresh_from_db()
    assert (ann.status, ann.sid, ann.sent_at) == ("sent", "SM" + "a" * 32, now)
    assert (bob.status, bob.sid) == ("queued", "SM" + "b" * 32)
    assert (other.status, other.sid) == ("sending", None)


def test_a_batch_takes_the_oldest_unhandled_texts_as_the_orm_query_would():
    for number in ("+14155550101", "+14155550102", "+14155550103", "+14155550101"):
        receive_sms(sms_params(number, "MENU"))
    Message.objects.filter(from_number="+14155550103").update(handled_at=timezone.now())
    orm = (
        Message.objects.filter(direction="in", handled_at__isnull=True)
        .exclude(from_number__in=["+14155550102"])
        .order_by("created_at", "id")
    )

    taken = sql.take_waiting(Message, "in", 10, {"+14155550102"})

    assert [m.pk for m in taken] == [m.pk for m in orm]
    assert [m.pk for m in sql.take_waiting(Message, "in", 1, set())] == [orm.first().pk]
    assert taken[0].created_at == orm.first().created_at  # read through the fields


def test_a_customer_is_found_however_their_number_is_written():
    first = customer_for("+14155550123")

    assert customer_for("+1 (415) 555-0123").pk == first.pk
    assert customer_for(first.phone).pk == first.pk  # a PhoneNumber, as the admin passes
    assert Customer.objects.count() == 1


def test_the_latest_active_orders_are_the_customers_own_newest_first():
    from orders.services import latest_active_orders
    from tests.factories import OrderFactory

    ann = customer_for("+14155550123")
    made = {
        status: OrderFactory(customer=ann, status=status).pk
        for status in ("received", "delivered", "baking", "cancelled", "ready_for_pickup")
    }
    OrderFactory(customer=customer_for("+14155550177"), status="baking")  # someone else's

    active = [made["ready_for_pickup"], made["baking"], made["received"]]
    assert [o.pk for o in latest_active_orders(ann, 5)] == active
    assert [o.pk for o in latest_active_orders(ann, 1)] == active[:1]
