"""The task queue down (Redis stopped) while staff work: the action that committed is not
turned into an error page, the customer's text is not lost, and the log says it once.

Seen in a production trial: with Redis stopped, advancing an order in the admin answered
"Server Error" although the order moved and the text went out, inviting a second click.
Texts no longer need the task queue at all (the telephony worker sends them); a
promotion's turns still go through it, and its sweep takes a turn the queue refused.
"""

import logging

import pytest
from django.core.management import call_command
from django.urls import reverse

from campaigns import services as campaigns
from campaigns.models import Campaign
from orders.models import Order
from orders.models import Status as S
from telephony import tasks
from telephony.models import Message
from tests.factories import ConsentFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue_down(settings, monkeypatch):
    monkeypatch.setattr(tasks, "_queue_down", False)
    settings.TASKS = {"default": {"BACKEND": "tests.fixtures.down_queue.DownBackend"}}
    settings.TELEPHONY_SEND_AT_COMMIT = False  # the telephony worker sends, as in production
    settings.ORDER_SMS_STAGES = ["baking", "preparing"]


def test_an_admin_move_with_the_queue_down_is_done_not_an_error_and_the_text_still_leaves(
    queue_down, admin_client, outbox, caplog, django_capture_on_commit_callbacks
):
    orders = [OrderFactory(status=S.RECEIVED), OrderFactory(status=S.PREPARING)]
    with caplog.at_level(logging.ERROR, logger="telephony.tasks"):
        with django_capture_on_commit_callbacks(execute=True):
            first = admin_client.post(
                reverse("admin:orders_order_move", args=[orders[0].pk, "start_preparing"])
            )
        with django_capture_on_commit_callbacks(execute=True):
            second = admin_client.post(
                reverse("admin:orders_order_move", args=[orders[1].pk, "start_baking"])
            )

    assert (first.status_code, second.status_code) == (302, 302)  # back to the page, no 500
    assert [Order.objects.get(pk=o.pk).status for o in orders] == [S.PREPARING, S.BAKING]
    texts = Message.objects.filter(direction="out").order_by("id")
    assert [t.status for t in texts] == ["queued", "queued"]  # kept for the worker
    assert caplog.records == []  # no task was needed

    call_command("telephony_worker", "--once")
    assert sorted(m.to for m in outbox) == sorted(str(o.customer.phone) for o in orders)
    assert not Message.objects.filter(direction="out", sid__isnull=True).exists()


def test_a_board_move_with_the_queue_down_is_done_not_an_error(
    queue_down, client, django_user_model, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    from staff.board.access import ensure_groups

    ensure_groups()
    user = django_user_model.objects.create(username="ana", is_staff=True)
    user.groups.add(Group.objects.get(name="Front desk"))
    client.force_login(user)
    order = OrderFactory(status=S.PREPARING)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("board:move", args=[order.pk]), {"to": S.BAKING}, headers={"HX-Request": "true"}
        )

    assert response.status_code == 200
    assert Order.objects.get(pk=order.pk).status == S.BAKING
    assert Message.objects.filter(direction="out", status="queued").count() == 1


def test_a_promotion_started_with_the_queue_down_is_sent_by_its_sweep(
    queue_down, settings, caplog, django_capture_on_commit_callbacks, outbox
):
    settings.CAMPAIGN_SEND_FROM, settings.CAMPAIGN_SEND_UNTIL = "00:00", "24:00"
    ConsentFactory(customer__phone="+14155550123")
    campaign = Campaign.objects.create(name="Tuesday", body="Two for one tonight")
    with (
        caplog.at_level(logging.ERROR, logger="telephony.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        campaigns.start_campaign(campaign)  # no error: the queue refused its first turn
    assert ["task queue refused" in r.getMessage() for r in caplog.records] == [True]
    assert outbox == []

    call_command("telephony_worker", "--once")  # its minute sweep takes the turn, then sends

    assert [m.to for m in outbox] == ["+14155550123"]
