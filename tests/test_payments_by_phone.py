"""Paying for an order placed by phone: the payment link by text ("we've texted you a payment
link"), or Twilio's <Pay> through the shop's Stripe connector (TWILIO_PAY_CONNECTOR), its
TwiML checked against Twilio's XSD with <Pay> added as Twilio's SDK writes it (the
published XSD predates <Pay>)."""

import inspect
import io
import re
import shutil

import pytest
import xmlschema
from django.urls import reverse
from twilio.twiml.voice_response import VoiceResponse

from orders import demo
from orders.models import Order
from orders.models import Status as S
from payments.models import StripeRequest

from .test_phone_orders import call, press, say, sms_to_caller
from .test_support_line import CALLER, CALLER_SID, XSD, Line, spoken, verbs


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    """Twilio's XSD, with <Pay> among a response's verbs: its attributes are the keyword
    arguments of the SDK's VoiceResponse.pay (generated from Twilio's TwiML description)."""
    folder = tmp_path_factory.mktemp("twiml-xsd")
    for path in XSD.parent.iterdir():
        shutil.copy(path, folder / path.name)
    attributes = [
        _camel(name)
        for name in inspect.signature(VoiceResponse.pay).parameters
        if name not in ("self", "kwargs")
    ]
    pay_type = (
        '<xs:complexType name="PayType"><xs:sequence>'
        '<xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>'
        + "".join(f'<xs:attribute name="{a}" type="xs:string"/>' for a in attributes)
        + "</xs:complexType>"
    )
    text = XSD.read_text()
    text = text.replace(
        '<xs:element name="Start" type="StartType"></xs:element>',
        '<xs:element name="Start" type="StartType"></xs:element>'
        '<xs:element name="Pay" type="PayType"/>',
        1,
    )
    text = text.replace("</xs:schema>", pay_type + "</xs:schema>")
    (folder / XSD.name).write_text(text)
    return xmlschema.XMLSchema10(str(folder / XSD.name))


@pytest.fixture
def line(twilio, django_capture_on_commit_callbacks, schema, outbox, db, two_pm, fake_stripe):
    demo.seed(io.StringIO())
    return Line(twilio, django_capture_on_commit_callbacks, schema, outbox)


def test_the_schema_still_refuses_what_twilio_would(schema):
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate('<Response><Pay chargeAmount="1" bogus="x"/></Response>')
    schema.validate('<Response><Pay chargeAmount="1.00" paymentConnector="Stripe"/></Response>')


def place_by_phone(line):
    line.call_in()
    say(line, "two large pepperoni for pickup", first=True)
    placed = press(line, "1")
    return Order.objects.get(), placed


def test_an_order_above_the_limit_by_phone_is_told_the_link_was_texted(line, settings, outbox):
    settings.PAYMENT_REQUIRED_ABOVE = "20"
    order, placed = place_by_phone(line)

    assert order.status == S.AWAITING_PAYMENT
    heard = spoken(placed.xml)
    assert "We've texted you a payment link. Pay by" in heard
    assert verbs(placed.xml)[-1] == "Hangup" and "Pay" not in verbs(placed.xml)
    (text,) = sms_to_caller(outbox)
    assert f"Pay here: https://pizza.example.com/o/{order.token}/pay/" in text
    assert StripeRequest.objects.get(order=order).status == "done"


def test_with_a_pay_connector_the_caller_pays_by_keypad(line, settings, outbox):
    settings.PAYMENT_REQUIRED_ABOVE = "20"
    settings.TWILIO_PAY_CONNECTOR = "Stripe_Connector"
    order, placed = place_by_phone(line)

    pay = placed.xml.find("Pay")
    assert pay is not None and verbs(placed.xml)[-1] == "Pay"
    assert pay.get("chargeAmount") == f"{order.total:.2f}" and pay.get("currency") == "usd"
    assert pay.get("paymentConnector") == "Stripe_Connector"
    assert pay.get("action").endswith(reverse("support:paid", args=[call().pk]))
    assert "enter the card number on your keypad" in spoken(placed.xml)

    done = line.post(
        reverse("support:paid", args=[call().pk]),
        CallSid=CALLER_SID, From=CALLER, Result="success", PaymentConfirmationCode="ch_test_123",
        PaymentCardNumber="xxxxxxxxxxxx1111", PaymentCardType="visa",
    )  # fmt: skip

    order.refresh_from_db()
    assert order.status == S.RECEIVED and order.paid == order.total
    assert order.payment_reference == "ch_test_123"
    assert re.search(
        r"Thank you, you've paid\. It will be ready for pickup about", spoken(done.xml)
    )
    assert verbs(done.xml)[-1] == "Hangup"


def test_a_failed_keypad_payment_leaves_the_link(line, settings):
    settings.PAYMENT_REQUIRED_ABOVE = "20"
    settings.TWILIO_PAY_CONNECTOR = "Stripe_Connector"
    order, _ = place_by_phone(line)

    done = line.post(
        reverse("support:paid", args=[call().pk]),
        CallSid=CALLER_SID, From=CALLER, Result="too-many-failed-attempts",
    )  # fmt: skip

    order.refresh_from_db()
    assert order.status == S.AWAITING_PAYMENT and not order.paid
    assert "The payment didn't go through. You can pay with the link" in spoken(done.xml)


def test_an_order_within_the_limit_by_phone_is_as_before(line, settings):
    settings.PAYMENT_REQUIRED_ABOVE = "100"
    order, placed = place_by_phone(line)

    assert order.status == S.RECEIVED
    assert "ready for pickup about" in spoken(placed.xml)
