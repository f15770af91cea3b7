"""The order status state machine and its one door (advance_order / cancel_order)."""

import threading
from itertools import product

import pytest
from django.db import connection, transaction

from orders import services
from orders.models import ACTIVE, Actor, Fulfilment, Order, OrderEvent, Status
from orders.services import InvalidTransition, OrderError, advance_order, cancel_order
from telephony.models import Message
from telephony.reach import opt_out

from .factories import OrderFactory

S = Status
ALLOWED = {
    Fulfilment.PICKUP: {
        (S.RECEIVED, S.PREPARING), (S.PREPARING, S.BAKING), (S.BAKING, S.QUALITY_CHECK),
        (S.QUALITY_CHECK, S.READY_FOR_PICKUP), (S.READY_FOR_PICKUP, S.PICKED_UP),
    },
    Fulfilment.DELIVERY: {
        (S.RECEIVED, S.PREPARING), (S.PREPARING, S.BAKING), (S.BAKING, S.QUALITY_CHECK),
        (S.QUALITY_CHECK, S.OUT_FOR_DELIVERY), (S.OUT_FOR_DELIVERY, S.DELIVERED),
    },
}  # fmt: skip
for _moves in ALLOWED.values():
    _moves |= {(stage, S.CANCELLED) for stage in ACTIVE}

ALL_STAGES = [
    S.RECEIVED, S.PREPARING, S.BAKING, S.QUALITY_CHECK, S.READY_FOR_PICKUP, S.PICKED_UP,
    S.OUT_FOR_DELIVERY, S.DELIVERED, S.CANCELLED,
]  # fmt: skip
CASES = [
    (fulfilment, source, target, (source, target) in ALLOWED[fulfilment])
    for fulfilment in ALLOWED
    for source, target in product(ALL_STAGES, ALL_STAGES)
]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create(username="maria", is_staff=True)


@pytest.fixture
def all_stages_text(settings):
    settings.ORDER_SMS_STAGES = [s for s in ALL_STAGES if s != S.RECEIVED]


@pytest.mark.parametrize(
    "fulfilment, source, target, allowed",
    CASES,
    ids=[f"{f}-{s}-to-{t}-{'ok' if a else 'refused'}" for f, s, t, a in CASES],
)
def test_every_move_is_allowed_or_refused_as_specified(
    db, staff, fulfilment, source, target, allowed
):
    order = OrderFactory(fulfilment=fulfilment, status=source, address="1 Elm St")
    if allowed:
        moved = advance_order(order, target, by=staff, reason="out of dough")
        assert moved.order.status == target
        assert Order.objects.get(pk=order.pk).status == target
        event = moved.event
        assert (event.from_status, event.to_status, event.actor, event.user) == (
            source, target, Actor.STAFF, staff,
        )  # fmt: skip
    else:
        with pytest.raises(InvalidTransition) as refused:
            advance_order(order, target, by=staff, reason="out of dough")
        assert f"Order #{order.number}" in str(refused.value)
        assert Order.objects.get(pk=order.pk).status == source
        assert not OrderEvent.objects.filter(order=order).exists()


def test_a_refused_move_says_where_the_order_can_go(db):
    order = OrderFactory(status=S.BAKING)
    with pytest.raises(InvalidTransition, match="cannot go from Baking to Delivered; it can go to "
                       "Quality check, Cancelled"):  # fmt: skip
        advance_order(order, S.DELIVERED)


def test_a_finished_order_cannot_move(db):
    order = OrderFactory(status=S.PICKED_UP)
    with pytest.raises(InvalidTransition, match="already Picked up"):
        advance_order(order, S.CANCELLED, by=None, reason="x")


def test_the_status_cannot_be_assigned_directly(db):
    order = OrderFactory()
    with pytest.raises(AttributeError):
        order.status = S.DELIVERED


def test_a_stale_copy_gets_a_clear_message_not_a_second_move(db, all_stages_text):
    order = OrderFactory()
    stale = Order.objects.get(pk=order.pk)
    advance_order(order, S.PREPARING)
    with pytest.raises(InvalidTransition, match="already Preparing"):
        advance_order(stale, S.PREPARING)
    assert OrderEvent.objects.filter(order=order).count() == 1
    assert Message.objects.filter(direction="out").count() == 1


@pytest.mark.parametrize("stage", [S.RECEIVED, S.PREPARING])
def test_the_customer_may_cancel_early(db, stage):
    order = OrderFactory(status=stage)
    moved = cancel_order(order, by=Actor.CUSTOMER)
    assert moved.order.status == S.CANCELLED
    assert moved.event.actor == Actor.CUSTOMER


@pytest.mark.parametrize("stage", [S.BAKING, S.QUALITY_CHECK, S.READY_FOR_PICKUP])
def test_the_customer_may_not_cancel_once_baking(db, stage):
    order = OrderFactory(status=stage)
    with pytest.raises(InvalidTransition, match="can no longer be cancelled by text"):
        cancel_order(order, by=Actor.CUSTOMER)
    assert Order.objects.get(pk=order.pk).status == stage


def test_staff_cancel_needs_a_reason(db, staff):
    order = OrderFactory(status=S.BAKING)
    with pytest.raises(OrderError, match="Say why"):
        cancel_order(order, by=staff, reason="  ")
    moved = cancel_order(order, by=staff, reason="oven broke down")
    assert moved.event.reason == "oven broke down"


def test_the_customer_is_texted_only_after_commit(
    db, outbox, all_stages_text, django_capture_on_commit_callbacks
):
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        moved = advance_order(order, S.PREPARING)
    assert outbox == []
    assert moved.text.status == Message.Status.QUEUED
    for callback in callbacks:
        callback()
    assert [r.to for r in outbox] == [str(order.customer.phone)]
    assert f"#{order.number} is being prepared" in outbox[0].body


def test_a_rolled_back_change_texts_nobody(
    db, outbox, all_stages_text, django_capture_on_commit_callbacks
):
    order = OrderFactory()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        advance_order(order, S.PREPARING)
        raise RuntimeError("something after the move failed")
    assert callbacks == []
    assert outbox == []
    assert Order.objects.get(pk=order.pk).status == S.RECEIVED
    assert not Message.objects.exists()
    assert not OrderEvent.objects.exists()


def test_an_opted_out_customer_is_not_texted(db, outbox, django_capture_on_commit_callbacks):
    order = OrderFactory(status=S.QUALITY_CHECK)
    opt_out(str(order.customer.phone))
    with django_capture_on_commit_callbacks(execute=True):
        moved = advance_order(order, S.READY_FOR_PICKUP)
    assert outbox == []
    assert moved.text.status == Message.Status.FAILED
    assert moved.event.notified is False
    assert "not texted (recipient opted out" in moved.describe()


def test_stages_not_configured_to_text_send_nothing(
    db, outbox, settings, django_capture_on_commit_callbacks
):
    settings.ORDER_SMS_STAGES = ["ready_for_pickup"]
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=True):
        moved = advance_order(order, S.PREPARING)
    assert outbox == []
    assert moved.text is None
    assert "no text for this stage" in moved.describe()


def test_the_stage_text_comes_from_the_editable_template(
    db, outbox, settings, tmp_path, django_capture_on_commit_callbacks
):
    sms_dir = tmp_path / "orders" / "sms"
    sms_dir.mkdir(parents=True)
    (sms_dir / "stage_baking.txt").write_text(
        "Pizza #{{ number }} is in the oven, {{ shop_name }}!\n"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    order = OrderFactory(status=S.PREPARING)
    with django_capture_on_commit_callbacks(execute=True):
        advance_order(order, S.BAKING)
    assert outbox[0].body == f"Pizza #{order.number} is in the oven, {settings.SHOP_NAME}!"


@pytest.mark.django_db(transaction=True)
def test_two_staff_moving_at_once_one_wins_one_is_told_one_text(
    outbox, all_stages_text, django_user_model
):
    first = django_user_model.objects.create(username="a", is_staff=True)
    second = django_user_model.objects.create(username="b", is_staff=True)
    order = OrderFactory()
    barrier = threading.Barrier(2)
    results = {}

    def move(user):
        try:
            stale = Order.objects.get(pk=order.pk)
            barrier.wait(timeout=10)
            results[user.username] = advance_order(stale, S.PREPARING, by=user)
        except InvalidTransition as exc:
            results[user.username] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(u,)) for u in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    errors = [r for r in results.values() if isinstance(r, InvalidTransition)]
    wins = [r for r in results.values() if not isinstance(r, InvalidTransition)]
    assert len(wins) == 1 and len(errors) == 1, results
    assert f"Order #{order.number} is already Preparing." == str(errors[0])
    assert OrderEvent.objects.filter(order=order).count() == 1
    assert Message.objects.filter(direction="out").count() == 1
    assert len([r for r in outbox if r.kind == "sms"]) == 1


def test_next_status_follows_the_path_of_each_kind_of_order(db):
    pickup = OrderFactory(status=S.QUALITY_CHECK)
    delivery = OrderFactory(status=S.QUALITY_CHECK, fulfilment=Fulfilment.DELIVERY)
    assert services.next_status(pickup) == S.READY_FOR_PICKUP
    assert services.next_status(delivery) == S.OUT_FOR_DELIVERY
    assert services.next_status(OrderFactory(status=S.DELIVERED)) is None
