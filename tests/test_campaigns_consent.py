"""Marketing consent: only customers who agreed get promotions; DEALS / OFERTAS, the
one-time offer after an order, staff-recorded consent, NO DEALS and STOP, the history."""

import csv
import io

import pytest
from django.urls import reverse

from campaigns import services as campaigns
from campaigns.models import Campaign, Consent, ConsentOffer
from orders import demo
from orders.models import Customer
from orders.services import notify_customer
from telephony.models import Message
from telephony.reach import is_opted_out
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

ALICE = "+14155550199"


@pytest.fixture(autouse=True)
def any_time_any_rate(settings):
    settings.CAMPAIGN_SEND_FROM, settings.CAMPAIGN_SEND_UNTIL = "00:00", "24:00"
    settings.SMS_MPS = 1000


def promotions_to(phone):
    return Message.objects.filter(to_number=phone, content_type__model="campaign").count()


def send(camp, capture):
    with capture(execute=True):
        campaigns.start_campaign(camp)
    camp.refresh_from_db()
    return camp


@pytest.mark.parametrize("audience", [Campaign.Audience.ALL, Campaign.Audience.RECENT])
def test_a_customer_without_consent_never_gets_a_promotion_whatever_the_segment(
    audience, django_capture_on_commit_callbacks
):
    regular = OrderFactory().customer  # ordered yesterday: a customer, not a consent
    ended = ConsentFactory(customer=OrderFactory().customer)
    ended.ended_at, ended.ended_how = ended.given_at, "NO DEALS"
    ended.save()
    agreed = ConsentFactory(customer=OrderFactory().customer).customer
    camp = Campaign.objects.create(name="T", body="Deal", audience=audience, recent_days=7)

    info = campaigns.preview(camp)
    send(camp, django_capture_on_commit_callbacks)

    assert (info.matched, info.no_consent, info.recipients) == (3, 2, 1)
    assert promotions_to(str(regular.phone)) == 0
    assert promotions_to(str(ended.customer.phone)) == 0
    assert promotions_to(str(agreed.phone)) == 1


def test_consent_that_ends_after_the_start_stops_the_text(django_capture_on_commit_callbacks):
    customer = ConsentFactory().customer
    camp = Campaign.objects.create(name="T", body="Deal")
    campaigns.start_campaign(camp)  # the task has not run yet
    campaigns.plan_campaign(camp.pk)
    Consent.objects.update(ended_at=camp.created_at, ended_how="NO DEALS")
    campaigns.send_due_texts(camp.pk)
    assert promotions_to(str(customer.phone)) == 0
    assert camp.recipients.get().skipped == "no consent"


def test_texting_deals_records_consent_with_the_words_seen(sms):
    replies = sms(ALICE, "deals!").replies
    assert len(replies) == 1 and "you're in for our offers" in replies[0]
    assert "NO DEALS" in replies[0] and "STOP" in replies[0]
    consent = Consent.objects.get()
    assert (consent.phone, consent.source, consent.how) == (ALICE, "keyword", "DEALS")
    assert consent.text_shown == f"deals!\n{replies[0]}" and consent.active
    assert consent.message.body == "deals!"
    assert "already get our offers" in sms(ALICE, "DEALS").replies[0]
    assert Consent.objects.count() == 1


def test_ofertas_is_spanish_consent_answered_in_spanish(sms):
    reply = sms(ALICE, "Ofertas").replies[0]
    assert "ya recibes nuestras ofertas" in reply and "NO OFERTAS" in reply
    assert Consent.objects.get().language == "es"


def test_no_deals_ends_promotions_only_and_the_history_says_how(sms):
    sms(ALICE, "DEALS")
    reply = sms(ALICE, "no deals").replies[0]
    assert "no more offers" in reply and "about your orders" in reply
    consent = Consent.objects.get()
    assert consent.ended_at and consent.ended_how == "NO DEALS"
    assert not is_opted_out(ALICE)
    order = OrderFactory(customer=Customer.objects.get(phone=ALICE))
    assert notify_customer(order, "late").status != Message.Status.FAILED  # order texts go on
    sms(ALICE, "DEALS")  # agreeing again is a new row: the history keeps both
    assert Consent.objects.filter(customer=order.customer).count() == 2


def test_stop_ends_consent_and_start_does_not_bring_offers_back(sms):
    sms(ALICE, "DEALS")
    sms(ALICE, "STOP")
    assert Consent.objects.get().ended_how == "STOP" and is_opted_out(ALICE)
    sms(ALICE, "START")
    assert not is_opted_out(ALICE)
    assert not Consent.objects.filter(ended_at__isnull=True).exists()


@pytest.fixture
def menu(db):
    demo.seed(io.StringIO())


def test_the_offer_is_asked_once_after_an_order_and_a_reply_records_it(sms, menu):
    sms(ALICE, "ORDER 1 large pepperoni")
    [placed] = sms(ALICE, "YES").replies
    assert "Reply DEALS" not in placed  # the confirmation stays short: the offer is its own text
    confirmation = Message.objects.get(body=placed)
    offer = Message.objects.get(to_number=ALICE, body__startswith="Want our weekly offers?")
    assert offer.body.endswith("Reply DEALS (up to 4 texts a month, msg & data rates may apply; "
                               "NO DEALS or STOP ends them).")  # fmt: skip
    assert offer.next_attempt_at > confirmation.created_at  # it follows the confirmation
    sms(ALICE, "ORDER 1 large pepperoni")
    sms(ALICE, "YES")
    assert ConsentOffer.objects.count() == 1  # silence: never asked again
    assert Message.objects.filter(body__startswith="Want our weekly offers?").count() == 1

    sms(ALICE, "DEALS")
    consent = Consent.objects.get()
    assert consent.source == "offer" and consent.text_shown.startswith("Want our weekly offers?")


def test_the_offer_is_not_made_to_someone_who_already_agreed(sms, menu):
    sms(ALICE, "DEALS")
    sms(ALICE, "ORDER 1 large pepperoni")
    assert "Reply DEALS" not in sms(ALICE, "YES").replies[0]


def test_staff_record_consent_with_where_and_the_words(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:campaigns_consent_add"),
        {"phone_number": "(415) 555-0199", "how": "paper form",
         "text_shown": "Yes, text me Tony's offers", "language": "en"},
    )  # fmt: skip
    assert response.status_code == 302, response.content
    consent = Consent.objects.get()
    assert (consent.phone, consent.source, consent.how) == (ALICE, "staff", "paper form")
    assert consent.recorded_by == admin_user and consent.text_shown.startswith("Yes, text me")


def test_staff_cannot_record_consent_for_something_that_is_not_a_number(admin_client):
    response = admin_client.post(
        reverse("admin:campaigns_consent_add"),
        {"phone_number": "pizza", "how": "counter", "text_shown": "x", "language": "en"},
    )
    assert response.status_code == 200 and "not a phone number" in response.content.decode()
    assert not Consent.objects.exists()


def test_the_history_exports_as_csv_with_how_it_ended(admin_client, sms):
    sms(ALICE, "DEALS")
    sms(ALICE, "NO DEALS")
    ConsentFactory(customer=CustomerFactory(), how="counter", source="staff")
    every = list(Consent.objects.values_list("pk", flat=True))
    response = admin_client.post(
        reverse("admin:campaigns_consent_changelist"),
        {"action": "export_csv", "_selected_action": every},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    alice = next(r for r in rows if r["phone"] == ALICE)
    assert alice["how"] == "DEALS" and alice["ended how"] == "NO DEALS"
    assert alice["source"] == "Texted a keyword" and "you're in" in alice["text shown"]
    assert len(rows) == 2


def test_consent_rows_cannot_be_deleted(admin_client):
    consent = ConsentFactory()
    url = reverse("admin:campaigns_consent_delete", args=[consent.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Consent.objects.exists()
