"""Promotions: the text and its cost, who gets it, and sending exactly once per customer."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns import services as campaigns
from campaigns.models import Campaign, CampaignRecipient
from campaigns.results import progress
from orders.models import Customer
from telephony.models import Message, OptOut
from telephony.reach import country_allowed, is_opted_out
from telephony.segments import analyse
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory
from tests.fixtures.consumer import worker_pass

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def any_time_any_rate(settings):
    """These tests are about who gets a text: no quiet hours, and a rate high enough for
    one turn of the sending loop to queue them all (tests/test_campaigns_pacing.py)."""
    settings.CAMPAIGN_SEND_FROM, settings.CAMPAIGN_SEND_UNTIL = "00:00", "24:00"
    settings.SMS_MPS = 1000


def consent(*customers):
    for customer in customers:
        ConsentFactory(customer=customer)


def make_customers(count, start=0):
    """`count` customers with distinct valid US numbers who agreed to offers."""
    made = Customer.objects.bulk_create(
        Customer(phone=f"+1415{2000000 + start + n:07d}") for n in range(count)
    )
    consent(*Customer.objects.filter(phone__in=[c.phone for c in made]))
    return list(Customer.objects.order_by("pk").values_list("phone", flat=True))


def deliver_queued():
    """The worker, once each text's time has come: deliver every queued text."""
    Message.objects.filter(status=Message.Status.QUEUED).update(next_attempt_at=None)
    worker_pass()


def opt_out(*phones):
    OptOut.objects.bulk_create(OptOut(phone_number=str(p), keyword="STOP") for p in phones)


def campaign(**fields):
    return Campaign.objects.create(
        name="Tuesday deal", body=fields.pop("body", "2 for 1 pizzas tonight!"), **fields
    )


def send(camp, capture, by=None, batch_size=campaigns.BATCH_SIZE):
    with capture(execute=True):
        campaigns.start_campaign(camp, by=by, batch_size=batch_size)
    deliver_queued()
    campaigns.send_due_texts(camp.pk)  # the next turn finds nobody left: sent
    camp.refresh_from_db()
    return camp


def texts_by_number(camp):
    return Counter(
        Message.objects.filter(object_id=str(camp.pk), content_type__model="campaign").values_list(
            "to_number", flat=True
        )
    )


# --- the text -----------------------------------------------------------------------------


def test_every_promotion_ends_with_how_to_opt_out():
    assert campaigns.full_text("Pizza night!") == "Pizza night!\nReply STOP to opt out"


def test_a_text_that_already_says_how_to_opt_out_is_left_alone():
    body = "Pizza night! Text STOP to end."
    assert campaigns.full_text(body) == body


def test_the_word_stop_alone_is_not_an_opt_out_instruction():
    assert campaigns.full_text("Don't stop the party").endswith("\nReply STOP to opt out")


def test_the_footer_counts_in_the_segments():
    body = "x" * 140  # one segment alone; 140 + "\n" + 21 footer characters = 162 > 160
    assert analyse(body).segments == 1
    camp = Campaign(name="n", body=body)
    assert campaigns.preview(camp).characters == 162
    assert campaigns.preview(camp).segments_each == 2


def test_an_emoji_makes_it_ucs2_with_70_characters_a_segment():
    camp = Campaign(name="n", body="Pizza 🍕 tonight, 20% off everything")
    info = campaigns.preview(camp)
    assert info.encoding == "UCS-2"
    assert info.segments_each == 1
    camp.body = "🍕" * 30  # 60 code units, plus the 22 of the footer: 82 > 70 → 67 a part
    assert campaigns.preview(camp).segments_each == 2


def test_extension_characters_count_double_in_a_campaign():
    camp = Campaign(name="n", body="€" * 69)  # 138 septets + 22 = 160: still one segment
    assert campaigns.preview(camp).segments_each == 1
    camp.body = "€" * 70  # 140 + 22 = 162
    assert campaigns.preview(camp).segments_each == 2


# --- before sending ----------------------------------------------------------------------


def test_preview_counts_recipients_segments_and_opted_out(django_assert_num_queries):
    phones = make_customers(10)
    opt_out(phones[0], phones[1], phones[2])
    camp = campaign(body="y" * 150)  # with the footer, 2 segments each
    with django_assert_num_queries(2):
        info = campaigns.preview(camp)
    assert (info.recipients, info.opted_out, info.segments_each) == (7, 3, 2)
    assert info.total_segments == 14


def test_preview_leaves_out_numbers_outside_the_allowed_countries(settings):
    make_customers(3)
    consent(Customer.objects.create(phone="+442079460000"))
    info = campaigns.preview(campaign())
    assert (info.recipients, info.other_country) == (3, 1)
    settings.SMS_ALLOWED_COUNTRIES = ["*"]
    assert campaigns.preview(campaign()).recipients == 4


def test_with_only_the_us_allowed_canada_and_the_caribbean_are_not_counted_or_texted(
    settings, django_capture_on_commit_callbacks
):
    settings.SMS_ALLOWED_COUNTRIES = ["US"]
    us = Customer.objects.create(phone="+14155550101")  # San Francisco
    Customer.objects.create(phone="+14165550102")  # Toronto, Canada: also +1
    Customer.objects.create(phone="+12425550103")  # Nassau, Bahamas: also +1
    Customer.objects.create(phone="+442079460000")
    consent(*Customer.objects.all())
    camp = campaign()

    info = campaigns.preview(camp)

    assert (info.recipients, info.other_country) == (1, 3)
    settings.SMS_ALLOWED_COUNTRIES = ["US", "CA"]
    assert campaigns.preview(campaign()).recipients == 2
    settings.SMS_ALLOWED_COUNTRIES = ["US"]
    assert list(texts_by_number(send(camp, django_capture_on_commit_callbacks))) == [us.phone]


@pytest.mark.parametrize(
    ("allowed", "phones", "reached"),
    [
        # +7: Russia and Kazakhstan (+7 7xx); +44: the UK and Jersey (+44 7797).
        (["RU"], ["+74951234567", "+77012345678"], 1),
        (["KZ"], ["+74951234567", "+77012345678"], 1),
        (["GB"], ["+447400123456", "+447797712345"], 1),
        (["GB", "JE"], ["+447400123456", "+447797712345"], 2),
    ],
)
def test_shared_calling_codes_are_counted_exactly_as_sending_tells_them_apart(
    settings, allowed, phones, reached, django_capture_on_commit_callbacks
):
    settings.SMS_ALLOWED_COUNTRIES = allowed
    consent(*(Customer.objects.create(phone=phone) for phone in phones))
    camp = campaign()
    info = campaigns.preview(camp)
    assert (info.recipients, info.other_country) == (reached, len(phones) - reached)
    sent = texts_by_number(send(camp, django_capture_on_commit_callbacks))
    assert len(sent) == info.recipients
    assert all(country_allowed(phone) for phone in sent)


def test_recent_audience_is_customers_who_ordered_in_the_last_n_days():
    recent, old, never = CustomerFactory(), CustomerFactory(), CustomerFactory()
    consent(recent, old, never)
    OrderFactory(customer=recent)
    stale = OrderFactory(customer=old)
    type(stale).objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=40))
    camp = campaign(audience=Campaign.Audience.RECENT, recent_days=30)
    assert list(campaigns.recipients(camp)) == [recent]
    assert campaigns.preview(camp).recipients == 1
    assert never in campaigns.recipients(campaign())  # everyone who may be texted


# --- sending ---------------------------------------------------------------------------


def test_each_eligible_customer_gets_exactly_one_text_and_opted_out_ones_none(
    django_capture_on_commit_callbacks, outbox
):
    phones = make_customers(8)
    refused = [phones[1]]
    opt_out(*refused)
    # Batches of 3: the 7 eligible customers go out in 3, 3 and 1.
    camp = send(campaign(), django_capture_on_commit_callbacks, batch_size=3)

    eligible = set(map(str, phones)) - set(map(str, refused))
    sent = texts_by_number(camp)
    assert set(sent) == eligible and set(sent.values()) == {1}
    assert Counter(r.to for r in outbox if r.kind == "sms") == sent
    assert camp.state == Campaign.State.SENT and camp.queued == len(eligible)
    assert CampaignRecipient.objects.filter(campaign=camp).count() == len(eligible)
    assert all(r.body.endswith("Reply STOP to opt out") for r in outbox)


def test_starting_a_sent_campaign_again_is_refused_and_sends_nothing(
    django_capture_on_commit_callbacks, outbox
):
    make_customers(30)
    camp = send(campaign(), django_capture_on_commit_callbacks)
    outbox.clear()
    with pytest.raises(campaigns.CampaignError, match="already been sent"):
        send(camp, django_capture_on_commit_callbacks)
    assert campaigns.send_campaign(camp.pk) is None
    assert outbox == []


def test_a_second_worker_on_the_same_campaign_adds_nothing(django_capture_on_commit_callbacks):
    make_customers(8)
    camp = campaign()
    Campaign.objects.filter(pk=camp.pk).update(state=Campaign.State.SENDING)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.send_campaign(camp.pk, batch_size=3)
    Campaign.objects.filter(pk=camp.pk).update(state=Campaign.State.SENDING)  # a stale task
    campaigns.plan_campaign(camp.pk, batch_size=3)
    campaigns.send_due_texts(camp.pk)
    assert CampaignRecipient.objects.filter(campaign=camp).count() == 8
    assert len(texts_by_number(camp)) == 8 and set(texts_by_number(camp).values()) == {1}


def test_a_worker_dying_half_way_loses_its_batch_and_a_restart_resumes(
    django_capture_on_commit_callbacks, monkeypatch, outbox
):
    phones = make_customers(8)
    camp = campaign()
    real_send, calls = campaigns.send_sms, []

    def dies_on_the_5th(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 5:
            raise SystemExit("worker killed")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(campaigns, "send_sms", dies_on_the_5th)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start_campaign(camp, batch_size=3)  # the task dies with the worker
    camp.refresh_from_db()
    assert camp.state == Campaign.State.SENDING
    assert camp.queued == 0 and outbox == []  # the turn in flight rolled back, unsent
    assert not Message.objects.exists()
    assert CampaignRecipient.objects.filter(campaign=camp, message__isnull=True).count() == 8

    monkeypatch.setattr(campaigns, "send_sms", real_send)
    camp = send(camp, django_capture_on_commit_callbacks, batch_size=3)  # "send" again
    sent = texts_by_number(camp)
    assert set(sent) == set(map(str, phones)) and set(sent.values()) == {1}
    assert len(outbox) == 8 and camp.state == Campaign.State.SENT


def test_the_database_refuses_a_second_recipient_row_for_the_same_customer():
    customer, camp = CustomerFactory(), campaign()
    CampaignRecipient.objects.create(campaign=camp, customer=customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignRecipient.objects.create(campaign=camp, customer=customer)


def test_customers_who_join_after_the_start_are_not_added(django_capture_on_commit_callbacks):
    make_customers(5)
    camp = campaign()
    campaigns.start_campaign(camp)  # on_commit not run: the task has not started yet
    make_customers(3, start=100)
    campaigns.send_campaign(camp.pk)
    assert len(texts_by_number(camp)) == 5


def test_someone_who_opts_out_after_the_start_is_not_texted(django_capture_on_commit_callbacks):
    phones = make_customers(4)
    camp = campaign()
    campaigns.start_campaign(camp)
    opt_out(phones[1])
    campaigns.send_campaign(camp.pk)
    assert str(phones[1]) not in texts_by_number(camp)


def test_recent_audience_is_fixed_when_sending_starts(django_capture_on_commit_callbacks):
    order = OrderFactory()
    consent(order.customer)
    camp = campaign(audience=Campaign.Audience.RECENT, recent_days=7)
    campaigns.start_campaign(camp)
    camp.refresh_from_db()
    assert camp.ordered_since < order.created_at
    consent(OrderFactory().customer)  # ordered after the start, a customer who joined after it
    campaigns.send_campaign(camp.pk)
    assert list(texts_by_number(camp)) == [str(order.customer.phone)]


def test_an_empty_text_cannot_be_sent():
    with pytest.raises(campaigns.CampaignError, match="Write the text"):
        campaigns.start_campaign(campaign(body="  "))


# --- MMS ---------------------------------------------------------------------------------


def test_the_picture_goes_as_mms_media_under_the_public_address(
    settings, tmp_path, django_capture_on_commit_callbacks, outbox, client
):
    settings.MEDIA_ROOT = tmp_path
    make_customers(2)
    camp = campaign(image=SimpleUploadedFile("logo.png", PNG, content_type="image/png"))
    send(camp, django_capture_on_commit_callbacks)
    url = f"https://pizza.example.com{camp.image.url}"
    assert url.startswith("https://pizza.example.com/media/campaigns/logo")
    assert [r.media_urls for r in outbox] == [(url,), (url,)]
    response = client.get(camp.image.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_a_picture_cannot_be_sent_without_a_public_address(settings, tmp_path):
    settings.MEDIA_ROOT, settings.PUBLIC_BASE_URL = tmp_path, ""
    camp = campaign(image=SimpleUploadedFile("logo.png", PNG))
    with pytest.raises(campaigns.CampaignError, match="PUBLIC_BASE_URL"):
        campaigns.start_campaign(camp)
    camp.refresh_from_db()
    assert camp.state == Campaign.State.DRAFT


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("menu.pdf", b"%PDF-1.4", "JPEG, PNG or GIF picture"),
        ("logo.png", b"<svg></svg>", "not a JPEG, PNG or GIF"),
        ("big.jpg", b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024), "larger than 5 MB"),
    ],
)
def test_only_pictures_an_mms_can_carry_are_accepted(name, content, error):
    from django.core.exceptions import ValidationError

    camp = Campaign(name="n", body="b", image=SimpleUploadedFile(name, content))
    with pytest.raises(ValidationError, match=error):
        camp.full_clean()


# --- STOP and progress -------------------------------------------------------------------


def test_replying_stop_to_a_promotion_opts_out_of_everything(
    sms, django_capture_on_commit_callbacks
):
    phones = make_customers(3)
    camp = send(campaign(), django_capture_on_commit_callbacks)
    assert sms(str(phones[0]), "STOP").status_code == 200
    assert is_opted_out(str(phones[0]))
    order = OrderFactory(customer=Customer.objects.get(phone=phones[0]))
    from orders.services import notify_customer

    assert notify_customer(order, "late").status == Message.Status.FAILED
    assert campaigns.preview(campaign()).opted_out == 1
    assert texts_by_number(camp)[str(phones[0])] == 1


def test_progress_counts_each_status_in_one_query(
    django_capture_on_commit_callbacks, django_assert_num_queries
):
    make_customers(8)
    opt_out("+14152000007")
    camp = campaign()
    campaigns.start_campaign(camp)  # texts stay queued: the task is not run
    campaigns.send_campaign(camp.pk)
    ids = list(
        Message.objects.filter(object_id=str(camp.pk)).order_by("pk").values_list("pk", flat=True)
    )
    Message.objects.filter(pk__in=ids[:3]).update(status="delivered")
    Message.objects.filter(pk__in=ids[3:5]).update(status="sent")
    Message.objects.filter(pk=ids[5]).update(status="undelivered", error_code=30003)
    with django_assert_num_queries(1):
        got = progress(camp)
    assert (got.total, got.queued, got.sent, got.delivered, got.failed) == (7, 1, 2, 3, 1)
    assert got.segments == 7 and got.finished == 6
