"""Who may be texted is decided twice: per number in Python (`reason_not_to_text`, what
send_sms asks) and over a table in SQL (`textable`, what a campaign's audience and its
preview count use). Both must keep exactly the same numbers."""

import pytest

from campaigns import services as campaigns
from campaigns.models import Campaign
from orders.models import Customer
from telephony.models import Message, OptOut
from telephony.reach import reason_not_to_text, textable
from tests.factories import ConsentFactory, MessageFactory

pytestmark = pytest.mark.django_db

OPTED_OUT = "+14155550199"
NUMBERS = [
    "+14155550101",  # US, San Francisco
    "+12125550102",  # US, New York
    "+18005550103",  # US toll-free: may be texted
    "+19005550104",  # US premium-rate (+1 900)
    "+14165550105",  # Canada, Toronto: also +1
    "+15062345678",  # Canada, New Brunswick
    "+12425550106",  # Bahamas: also +1
    "+17875550107",  # Puerto Rico: also +1
    "+447400123456",  # UK mobile
    "+449012345678",  # UK premium-rate (09)
    "+4915112345678",  # German mobile
    "+4918012345",  # German shared-cost (0180)
    "+33612345678",  # French mobile
    "+33884012345",  # French shared-cost (0884)
    "+266696687",  # Twilio's stand-in for a withheld caller ID (anonymous)
    "+8656696",  # Twilio's stand-in for a withheld caller ID (blocked)
    OPTED_OUT,  # US, replied STOP
]
ALLOWED = [["US"], ["US", "CA"], ["CA"], ["GB", "US"], ["DE", "FR"], ["*"]]


def textable_in_python():
    return {number for number in NUMBERS if reason_not_to_text(number) is None}


@pytest.mark.parametrize("allowed", ALLOWED, ids="+".join)
def test_a_campaign_reaches_exactly_the_numbers_send_sms_would_text(settings, allowed):
    settings.SMS_ALLOWED_COUNTRIES = allowed
    customers = Customer.objects.bulk_create(Customer(phone=number) for number in NUMBERS)
    for customer in Customer.objects.filter(pk__in=[c.pk for c in customers]):
        ConsentFactory(customer=customer)  # promotions go only to those who agreed
    OptOut.objects.create(phone_number=OPTED_OUT, keyword="STOP")
    campaign = Campaign.objects.create(name="Tuesday deal", body="2 for 1 pizzas tonight!")

    phones = campaigns.recipients(campaign).values_list("phone", flat=True)
    reached = {str(phone) for phone in phones}

    assert reached == textable_in_python()
    assert campaigns.preview(campaign).recipients == len(reached)


@pytest.mark.parametrize("allowed", ALLOWED, ids="+".join)
def test_textable_agrees_with_reason_not_to_text_on_any_phone_field(settings, allowed):
    settings.SMS_ALLOWED_COUNTRIES = allowed
    for number in [*NUMBERS, "withheld", "anonymous", "", "not a number"]:
        MessageFactory(to_number=number)
    OptOut.objects.create(phone_number=OPTED_OUT, keyword="STOP")

    kept = set(Message.objects.filter(textable("to_number")).values_list("to_number", flat=True))

    assert kept == textable_in_python()
