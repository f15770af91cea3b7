"""Marketing consent: the DEALS / OFERTAS keywords, the one-time offer after an order,
consent recorded by staff, and its end (NO DEALS, STOP).

Being a customer is not consent (TCPA: a marketing text needs prior express consent).
Consent is given only by texting a keyword, by answering the one-time offer, or by staff
recording where they got it; each is a Consent row with the exact text the customer saw.
START after a STOP lets order texts through again but does not bring offers back: that
takes a new DEALS.
"""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from orders.models import Customer
from orders.parser import parse
from orders.services import customer_for, pending_quote, remember_language
from telephony.models import OptOut
from telephony.numbers import is_withheld
from telephony.segments import gsm_letters
from telephony.sms import send_sms

from .models import Consent, ConsentOffer

logger = logging.getLogger(__name__)

OPT_IN = {"DEALS": "en", "OFERTAS": "es"}
OPT_OUT = {
    "NO DEALS": "en", "STOP DEALS": "en", "NODEALS": "en",
    "NO OFERTAS": "es", "STOP OFERTAS": "es", "NOOFERTAS": "es",
}  # fmt: skip
# The wording, in English; every language's is in locale/<code>/LC_MESSAGES/django.po.
WELCOME = gettext_lazy(
    "%(shop)s: you're in for our offers, up to 4 texts a month. Msg & data rates may apply. "
    "Reply NO DEALS to stop offers, STOP to stop all texts, HELP for help."
)
ALREADY = gettext_lazy("%(shop)s: you already get our offers. Reply NO DEALS to stop them.")
GOODBYE = gettext_lazy(
    "%(shop)s: no more offers. You'll still get texts about your orders. "
    "Reply DEALS to get offers again."
)
# The offer follows the order confirmation by this much, so it arrives after it.
OFFER_DELAY = timedelta(seconds=5)
OFFER = gettext_lazy(
    "Want our weekly offers? Reply DEALS (up to 4 texts a month, msg & data rates may apply; "
    "NO DEALS or STOP ends them)."
)


def _words(body):
    return " ".join(re.sub(r"[^\w ]", " ", (body or "").upper()).split())


def _say(text, language):
    """`text` in `language`, as texted (á í ó ú as GSM-7 has them, like every order text)."""
    with translation.override(language):
        return gsm_letters(str(text) % {"shop": settings.SHOP_NAME})


def active_consent(customer):
    return Consent.objects.filter(customer=customer, ended_at__isnull=True).first()


def give_consent(customer, *, source, how, text_shown, language="en", by=None, message=None,
                 now=None):  # fmt: skip
    """Record consent; returns (consent, created). An active consent is kept as it is."""
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        current = active_consent(customer)
        if current:
            return current, False
        consent = Consent.objects.create(
            customer=customer,
            phone=str(customer.phone),
            given_at=now or timezone.now(),
            source=source,
            how=how[:100],
            text_shown=text_shown,
            language=language,
            recorded_by=by,
            message=message,
        )
    logger.info("Marketing consent from customer %s (%s)", customer.pk, how)
    return consent, True


def end_consent(customer, how, now=None):
    """End the customer's consent to offers (NO DEALS, STOP, staff). True if one ended."""
    ended = Consent.objects.filter(customer=customer, ended_at__isnull=True).update(
        ended_at=now or timezone.now(), ended_how=how[:100]
    )
    return bool(ended)


def handle_keyword_sms(message):
    """settings.TELEPHONY_SMS_HANDLERS, before the order conversation: DEALS / OFERTAS
    give consent, NO DEALS / NO OFERTAS end it; any other text is passed on (None)."""
    if not message.from_number or is_withheld(message.from_number):
        return None
    words = _words(message.body)
    if words in OPT_IN:
        language = OPT_IN[words]
        customer = customer_for(message.from_number)
        remember_language(customer, language)
        offer = ConsentOffer.objects.filter(customer=customer).first()
        source, shown = Consent.Source.KEYWORD, f"{message.body.strip()}\n{_say(WELCOME, language)}"
        if offer is not None:
            source, shown = Consent.Source.OFFER, f"{offer.text}\n{shown}"
        _, created = give_consent(
            customer, source=source, how=words, text_shown=shown, language=language,
            message=message,
        )  # fmt: skip
        return _say(WELCOME if created else ALREADY, language)
    if words in OPT_OUT:
        customer = customer_for(message.from_number)
        end_consent(customer, how=words)
        return _say(GOODBYE, OPT_OUT[words])
    return _answer_to_offer(message)


# How long after the offer a bare "yes" is read as its answer.
OFFER_ANSWER_WINDOW = timedelta(hours=24)


def _answer_to_offer(message):
    """ "sure!", "yes", "si" right after the one-time offer is its answer (what we just
    asked is the first reading of the next text), unless a quote waits for that YES."""
    body = message.body or ""
    if len(body) > 40 or parse(body, ()).kind != "yes":  # a yes is short: no parse of orders
        return None
    customer = customer_for(message.from_number)
    now = timezone.now()
    offer = ConsentOffer.objects.filter(
        customer=customer, offered_at__gt=now - OFFER_ANSWER_WINDOW
    ).first()
    if offer is None or now < offer.offered_at + OFFER_DELAY:
        return None  # not sent yet: a second YES to the order, not an answer to the offer
    if pending_quote(customer, now) is not None:
        return None
    if Consent.objects.filter(customer=customer, given_at__gte=offer.offered_at).exists():
        return None  # answered already: this yes is about something else
    language = offer.language
    shown = f"{offer.text}\n{message.body.strip()}\n{_say(WELCOME, language)}"
    _, created = give_consent(
        customer, source=Consent.Source.OFFER, how=f"{_words(message.body)} (answer to the offer)",
        text_shown=shown, language=language, message=message,
    )  # fmt: skip
    return _say(WELCOME if created else ALREADY, language)


def note_opt_out(message, word):
    """settings.TELEPHONY_OPT_OUT_HANDLERS: STOP ends consent to offers too (recorded, so
    the history says how it ended)."""
    customer = Customer.objects.filter(phone=message.from_number).first()
    if customer is not None:
        end_consent(customer, how=word)


def offer_after_order(order, message, language="en"):
    """settings.ORDER_PLACED_HOOKS: the one-time question after an order placed by text, sent
    as a text of its own after the confirmation (which stays within two segments).

    Asked once per customer, ever: not again after a no or no answer, not to someone who
    already agreed or opted out of all texts. Adds no line to the confirmation (None)."""
    customer = order.customer
    asked_or_agreed = (
        Consent.objects.filter(customer=customer, ended_at__isnull=True)
        .values("pk")
        .union(ConsentOffer.objects.filter(customer=customer).values("pk"))
        .union(OptOut.objects.filter(phone_number=str(customer.phone)).values("pk"))
    )
    if asked_or_agreed.exists():  # one query
        return None
    text = _say(OFFER, language)
    now = timezone.now()
    ConsentOffer.objects.create(customer=customer, offered_at=now, text=text, language=language)
    # A text of its own, a moment after the confirmation: the confirmation stays within two
    # segments and the question carries its own disclosures.
    send_sms(str(customer.phone), text, about=order, send_after=now + OFFER_DELAY)
    return None
