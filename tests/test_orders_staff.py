"""The staff side: the admin moving orders, delays and late orders, messages kept for staff,
the read-only lookup for support, and the demo menu."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders import demo, hours, lookup, services
from orders.models import Fulfilment, Inquiry, MenuItem, MenuPrice, Order, OrderEvent, Status
from telephony.models import Message

from .factories import CustomerFactory, OrderFactory

S = Status


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create(username="maria", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def every_stage_texts(settings):
    settings.ORDER_SMS_STAGES = [s for s in S.values if s != S.RECEIVED]


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def move_url(order, transition):
    return reverse("admin:orders_order_move", args=[order.pk, transition])


def form_data(response):
    """What the browser would post back from an admin change page, unchanged."""
    form = response.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
    return data


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_staff_move_an_order_through_every_stage_from_the_change_page(
    admin_client, every_stage_texts, outbox, django_capture_on_commit_callbacks
):
    order = OrderFactory(fulfilment=Fulfilment.DELIVERY, address="1 Elm St")
    buttons = ["start_preparing", "start_baking", "check_quality", "send_out", "mark_delivered"]
    for step, button in enumerate(buttons, start=1):
        page = admin_client.get(change_url(order))
        assert f'formaction="{move_url(order, button)}"' in page.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(move_url(order, button), form_data(page), follow=True)
        order.refresh_from_db()
        assert any("the customer was texted" in m for m in messages_of(response)), button
        assert OrderEvent.objects.filter(order=order, kind="status").count() == step
        assert Message.objects.filter(direction="out", object_id=str(order.pk)).count() == step
        assert len(outbox) == step
    assert order.status == S.DELIVERED
    assert [e.user.username for e in order.events.all()] == ["maria"] * 5
    page = admin_client.get(change_url(order)).content.decode()
    assert "/move/" not in page  # nothing comes after delivered
    assert "was delivered" in page  # the SMS log inline


def test_a_refused_button_shows_the_reason_and_changes_nothing(admin_client):
    order = OrderFactory(status=S.BAKING)
    page = admin_client.get(change_url(order))
    services.advance_order(order, S.QUALITY_CHECK)  # someone else was quicker
    response = admin_client.post(move_url(order, "check_quality"), form_data(page), follow=True)
    assert f"Order #{order.number} is already Quality check." in messages_of(response)
    assert OrderEvent.objects.filter(order=order).count() == 1


def test_staff_cancel_asks_for_a_reason_and_texts_it(
    admin_client, outbox, django_capture_on_commit_callbacks
):
    order = OrderFactory(status=S.BAKING)
    url = move_url(order, "cancel")
    assert "reason" in admin_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, {"reason": "our oven broke down"})
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.events.get().reason == "our oven broke down"
    assert "our oven broke down" in outbox[0].body


def test_staff_who_may_only_look_see_no_stage_buttons_and_cannot_move_an_order(
    client, django_user_model
):
    viewer = django_user_model.objects.create(username="sam", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    order = OrderFactory(status=S.BAKING)
    page = client.get(change_url(order))
    assert page.status_code == 200 and "/move/" not in page.content.decode()
    assert client.post(move_url(order, "check_quality")).status_code == 403
    order.refresh_from_db()
    assert order.status == S.BAKING and not order.events.exists()


def test_a_move_the_order_does_not_have_is_a_404(admin_client):
    order = OrderFactory(status=S.BAKING)
    assert admin_client.post(move_url(order, "delete")).status_code == 404
    assert admin_client.post(move_url(order, "number")).status_code == 404


def test_advance_to_the_next_stage_moves_many_orders_at_once(
    admin_client, every_stage_texts, outbox, django_capture_on_commit_callbacks
):
    pickup = OrderFactory(status=S.QUALITY_CHECK)
    delivery = OrderFactory(status=S.QUALITY_CHECK, fulfilment=Fulfilment.DELIVERY)
    done = OrderFactory(status=S.PICKED_UP)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:orders_order_changelist"),
            {
                "action": "advance_to_next_stage",
                "_selected_action": [pickup.pk, delivery.pk, done.pk],
            },
            follow=True,
        )
    pickup.refresh_from_db(), delivery.refresh_from_db(), done.refresh_from_db()
    assert (pickup.status, delivery.status, done.status) == (
        S.READY_FOR_PICKUP, S.OUT_FOR_DELIVERY, S.PICKED_UP,
    )  # fmt: skip
    notes = messages_of(response)
    assert f"Order #{pickup.number} is now Ready for pickup; the customer was texted." in notes
    assert any("nothing comes next" in n for n in notes)
    assert len(outbox) == 2


def test_add_a_delay_with_a_reason_texts_the_new_time(
    admin_client, outbox, django_capture_on_commit_callbacks
):
    order = OrderFactory(status=S.BAKING)
    promised = order.promised_at
    url = reverse("admin:orders_order_changelist")
    form = admin_client.post(url, {"action": "add_delay", "_selected_action": [order.pk]})
    assert "Add the delay" in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url,
            {"action": "add_delay", "_selected_action": [order.pk], "apply": "1",
             "minutes": "20", "reason": "we are very busy tonight"},
        )  # fmt: skip
    order.refresh_from_db()
    assert order.promised_at == promised + timedelta(minutes=20)
    assert "we are very busy tonight" in outbox[0].body
    assert hours.clock(order.promised_at) in outbox[0].body
    assert order.events.get().kind == OrderEvent.Kind.DELAYED


def test_the_order_list_runs_a_fixed_number_of_queries(admin_client):
    OrderFactory.create_batch(2)
    url = reverse("admin:orders_order_changelist")
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    OrderFactory.create_batch(15)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)
    assert len(many) == len(few)


def test_orders_are_found_by_number_and_by_phone(admin_client):
    order = OrderFactory(customer=CustomerFactory(phone="+14155550142"))
    other = OrderFactory()
    url = reverse("admin:orders_order_changelist")
    for term in (f"#{order.number}", "(415) 555-0142", "4155550142"):
        page = admin_client.get(url, {"q": term}).content.decode()
        assert f"#{order.number}" in page and f"#{other.number}" not in page, term


def test_customer_admin_shows_opt_out_and_order_history(admin_client):
    from telephony.reach import opt_out

    order = OrderFactory()
    opt_out(str(order.customer.phone))
    page = admin_client.get(reverse("admin:orders_customer_changelist")).content.decode()
    assert 'alt="True"' in page
    detail = admin_client.get(reverse("admin:orders_customer_change", args=[order.customer.pk]))
    assert "order history" in detail.content.decode().lower()


def test_late_orders_get_one_new_estimate(db, outbox, django_capture_on_commit_callbacks):
    late = OrderFactory(status=S.BAKING, promised_at=timezone.now() - timedelta(minutes=1))
    OrderFactory(status=S.READY_FOR_PICKUP, promised_at=timezone.now() - timedelta(minutes=5))
    OrderFactory(status=S.PREPARING)  # not late yet
    with django_capture_on_commit_callbacks(execute=True):
        assert services.check_late_orders() == 1
        assert services.check_late_orders() == 0  # one text, not one per check
    late.refresh_from_db()
    assert late.late_notices == 1
    assert late.promised_at > timezone.now()
    assert len(outbox) == 1
    assert f"#{late.number} is taking longer" in outbox[0].body
    assert hours.clock(late.promised_at) in outbox[0].body
    assert late.events.get().kind == OrderEvent.Kind.DELAYED


def test_check_late_orders_command(db, outbox, django_capture_on_commit_callbacks):
    OrderFactory(status=S.OUT_FOR_DELIVERY, fulfilment=Fulfilment.DELIVERY,
                 promised_at=timezone.now() - timedelta(minutes=3))  # fmt: skip
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_late_orders", stdout=out)
    assert "1 late order" in out.getvalue()
    assert "at your door" in outbox[0].body


def test_answer_inquiry_texts_the_reply_and_marks_that_message_answered(
    db, staff, outbox, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    messages = [
        Message.objects.create(direction="in", from_number=str(customer.phone),
                               to_number="+15005550006", body=body, status="received")
        for body in ("where is my driver??", "hello?")
    ]  # fmt: skip
    first, acknowledge_first = services.record_inquiry(messages[0], customer)
    second, acknowledge_second = services.record_inquiry(messages[1], customer)
    assert (acknowledge_first, acknowledge_second) == (True, False)
    with django_capture_on_commit_callbacks(execute=True):
        answered = services.answer_inquiry(second, by=staff, reply_text="He is 2 minutes away!")
    assert answered.answered_by == staff and answered.reply.body == "He is 2 minutes away!"
    assert [r.body for r in outbox] == ["He is 2 minutes away!"]
    assert Inquiry.objects.get(answered_at=None) == first  # the other question still waits


def test_inquiries_are_listed_and_answered_in_the_admin(
    admin_client, outbox, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    message = Message.objects.create(
        direction="in", from_number=str(customer.phone), to_number="+15005550006",
        body="gluten free?", status="received",
    )  # fmt: skip
    inquiry, _ = services.record_inquiry(message, customer)
    listing = admin_client.get(reverse("admin:orders_inquiry_changelist")).content.decode()
    assert "gluten free?" in listing
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:orders_inquiry_change", args=[inquiry.pk]),
            {"reply_text": "Yes, we have a gluten-free base."},
        )
    inquiry.refresh_from_db()
    assert inquiry.is_answered
    assert outbox[0].body == "Yes, we have a gluten-free base."


def test_lookup_lists_a_callers_unfinished_orders_newest_first(db, django_assert_num_queries):
    customer = CustomerFactory(phone="+14155550177")
    older = OrderFactory(customer=customer, status=S.BAKING)
    newer = OrderFactory(customer=customer)
    OrderFactory(customer=customer, status=S.PICKED_UP)
    with django_assert_num_queries(1):
        found = lookup.active_orders_for_number("+14155550177")
    assert [(o.id, o.number, o.stage) for o in found] == [
        (newer.pk, str(newer.number), "in the queue"),
        (older.pk, str(older.number), "in the oven"),
    ]
    assert found[0].customer_id == customer.pk
    assert lookup.active_orders_for_number("+14155559999") == []


def test_seeding_the_demo_menu_twice_changes_nothing(db):
    demo.seed(io.StringIO())
    counts = (MenuItem.objects.count(), MenuPrice.objects.count())
    demo.seed(io.StringIO())
    assert (MenuItem.objects.count(), MenuPrice.objects.count()) == counts
    assert MenuItem.objects.filter(category="pizza").count() >= 6
    assert MenuItem.objects.filter(category="side").exists()
    assert MenuItem.objects.filter(category="drink").exists()


def test_one_customer_however_the_number_is_written(db):
    from orders.models import Customer

    for raw in ("+1 (415) 555-0199", "4155550199", "+14155550199"):
        Customer.objects.get_or_create(phone=raw)
    assert Customer.objects.count() == 1
    assert str(Customer.objects.get().phone) == "+14155550199"


def test_order_numbers_are_short_and_findable(db):
    order = OrderFactory()
    assert order.number == order.pk + 1000
    assert list(Order.objects.by_number(f"#{order.number}")) == [order]
    assert not Order.objects.by_number("abc").exists()
