"""Feedback (orders/feedback.py): one text after an order is delivered or picked up, its
score kept on the order, a low one in staff's inbox, at most one a customer a week, never
to a number we may not text."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from orders import demo, feedback, services
from orders.models import Inquiry
from orders.models import Status as S
from telephony.models import Message
from tests.factories import OrderFactory

ME = "+14155550123"


@pytest.fixture
def menu(db, settings):
    demo.seed(io.StringIO())
    settings.FEEDBACK_DELAY_MINUTES = 45
    settings.ORDER_SMS_STAGES = []


def picked_up(phone=ME, **fields):
    order = OrderFactory(customer__phone=phone, status=S.READY_FOR_PICKUP, **fields)
    services.advance_order(order, S.PICKED_UP)
    order.refresh_from_db()
    return order


def later(minutes):
    return timezone.now() + timedelta(minutes=minutes)


def asked_texts(phone=ME):
    return list(
        Message.objects.filter(to_number=phone, body__startswith="How was your order").values_list(
            "body", flat=True
        )
    )


def test_one_text_asks_for_feedback_after_the_delay(
    menu, outbox, django_capture_on_commit_callbacks
):
    order = picked_up()

    assert feedback.ask_due(later(44)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert feedback.ask_due(later(46)) == 1
        assert feedback.ask_due(later(50)) == 0  # once

    [body] = asked_texts()
    assert body.startswith(f"How was your order #{order.number}? Reply 1-5 (5 = great)")
    order.refresh_from_db()
    assert order.feedback_asked_at is not None and order.feedback_due_at is None


def test_a_score_is_kept_with_its_words_and_thanked(menu, sms):
    order = picked_up()
    feedback.ask_due(later(46))

    (reply,) = sms(ME, "5 great crust!").replies

    order.refresh_from_db()
    assert (order.feedback_score, order.feedback_comment) == (5, "great crust!")
    assert reply == "Thank you! We're glad you enjoyed it."
    assert not Inquiry.objects.exists()


def test_a_low_score_goes_to_the_inbox_for_a_call_back(menu, sms):
    order = picked_up()
    feedback.ask_due(later(46))

    (reply,) = sms(ME, "2/5 it was cold").replies

    order.refresh_from_db()
    assert (order.feedback_score, order.feedback_comment) == (2, "it was cold")
    assert f"We're sorry order #{order.number} wasn't right" in reply
    [inquiry] = Inquiry.objects.all()
    assert inquiry.note == f"Feedback 2/5 on #{order.number}: call them back"
    assert inquiry.message.body == "2/5 it was cold"


def test_an_order_after_the_question_is_an_order_not_a_score(menu, sms):
    order = picked_up()
    feedback.ask_due(later(46))

    (reply,) = sms(ME, "2 large pepperoni").replies

    assert reply.startswith("Your order:")
    order.refresh_from_db()
    assert order.feedback_score is None


def test_a_digit_with_nothing_asked_is_not_a_score(menu, sms):
    order = picked_up()  # due, not asked yet

    sms(ME, "5")

    order.refresh_from_db()
    assert order.feedback_score is None


def test_at_most_one_a_customer_a_week(menu):
    first = picked_up()
    feedback.ask_due(later(46))
    second = picked_up()

    feedback.ask_due(later(46 + 45))

    assert len(asked_texts()) == 1
    first.refresh_from_db(), second.refresh_from_db()
    assert second.feedback_asked_at is None and first.feedback_asked_at is not None


def test_never_to_a_number_we_may_not_text_nor_when_off(menu, settings):
    from telephony.models import OptOut

    OptOut.objects.create(phone_number="+14155550124", keyword="STOP")
    picked_up("+14155550124")
    feedback.ask_due(later(46))
    settings.FEEDBACK_TEXT = False
    picked_up("+14155550125")
    feedback.ask_due(later(46))

    assert asked_texts("+14155550124") == [] and asked_texts("+14155550125") == []


def test_a_delivered_order_is_asked_too_and_a_cancelled_one_never(menu):
    delivered = OrderFactory(customer__phone=ME, status=S.OUT_FOR_DELIVERY, fulfilment="delivery")
    services.advance_order(delivered, S.DELIVERED)
    cancelled = OrderFactory(customer__phone="+14155550126")
    services.cancel_order(cancelled, reason="test")

    feedback.ask_due(later(46))

    assert len(asked_texts()) == 1 and asked_texts("+14155550126") == []


def test_the_feedback_sweep_is_the_telephony_workers(settings):
    assert "orders.feedback.ask_due" in settings.TELEPHONY_SWEEPS


def test_scores_read_as_customers_write_them():
    assert feedback.read_score("5") == (5, "")
    assert feedback.read_score(" 4 stars, nice") == (4, "nice")
    assert feedback.read_score("3/5") == (3, "")
    assert feedback.read_score("1 - never again") == (1, "never again")
    assert feedback.read_score("10") is None and feedback.read_score("6") is None
    assert feedback.read_score("great") is None and feedback.read_score("5pm") is None


def test_the_reports_show_the_weeks_average_and_the_comments(menu, sms, admin_client, settings):
    from django.urls import reverse

    settings.FEEDBACK_DELAY_MINUTES = 0  # asked now: today's report, whatever the hour
    for phone, said in (("+14155550131", "5 best pizza in town"), ("+14155550132", "2 cold"),
                        ("+14155550133", "4")):  # fmt: skip
        picked_up(phone)
        feedback.ask_due(timezone.now())
        sms(phone, said)

    page = admin_client.get(reverse("reports:day")).content.decode()
    csv = admin_client.get(reverse("reports:day") + "?format=csv").content.decode()

    assert "Average <strong>3.7 / 5</strong> from 3 scores" in page
    assert "1 of 1 or 2" in page
    assert "“best pizza in town”" in page and "“cold”" in page
    assert '"feedback, the week to this day",average score,3.7' in csv
