"""The worker's plain statements (telephony/sql.py) write and read what the ORM would."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from orders.models import Customer, Quote
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


def test_an_inserted_quote_is_the_row_save_writes():
    customer = customer_for("+14155550123")
    expires = timezone.now() + timedelta(minutes=30)

    def quote():
        return Quote(
            customer=customer, lines=[{"code": "PEP", "quantity": 2, "unit_price": "14.50"}],
            subtotal=Decimal("29.00"), tax=Decimal("2.50"), delivery_fee=Decimal("0"),
            total=Decimal("31.50"), fulfilment="pickup", expires_at=expires,
        )  # fmt: skip

    by_orm, by_sql = quote(), quote()
    by_orm.save()
    sql.insert(by_sql)

    assert stored(by_sql) == stored(by_orm)


def test_a_customer_is_made_once_and_read_back_with_their_number_as_a_phone_number():
    first = customer_for("+14155550123")
    again = customer_for("+14155550123")

    assert Customer.objects.count() == 1
    assert again.pk == first.pk
    assert isinstance(again.phone, PhoneNumber) and again.phone == "+14155550123"
    assert again.created_at == Customer.objects.get().created_at  # an aware datetime
    assert (again.language, again.name) == ("en", "")


def test_an_insert_that_would_clash_writes_nothing_and_says_so():
    Customer.objects.create(phone="+14155550123", name="Ann")
    clash = Customer(phone="+14155550123", name="Someone else")

    assert sql.insert(clash, on_conflict="phone") is False

    assert clash.pk is None and clash._state.adding
    assert list(Customer.objects.values_list("name", flat=True)) == ["Ann"]


def test_a_missing_row_is_none():
    assert sql.get(Customer, "phone", "+14155550123") is None


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


def test_the_latest_active_orders_are_the_orm_querys():
    from orders.services import active_orders, latest_active_orders
    from tests.factories import OrderFactory

    ann = customer_for("+14155550123")
    for status in ("received", "delivered", "baking", "cancelled", "ready_for_pickup", "baking"):
        OrderFactory(customer=ann, status=status)
    OrderFactory(customer=customer_for("+14155550177"), status="baking")  # someone else's

    for count in (1, 3, 5):
        expected = list(active_orders(ann).order_by("-id")[:count])
        assert latest_active_orders(ann, count) == expected
    (latest,) = latest_active_orders(ann, 1)
    assert (latest.status, latest.promised_at) == (expected[0].status, expected[0].promised_at)
