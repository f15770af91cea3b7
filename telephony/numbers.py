"""Phone numbers: parse what people type into E.164, tell withheld and premium-rate numbers
apart, and mask them for logs."""

import re
from functools import lru_cache

import phonenumbers
from django.conf import settings

# What Twilio sends in From/To: already E.164, so no parsing needed (webhook hot path).
E164 = re.compile(r"\+[1-9]\d{7,14}")


def to_e164(raw, region=None):
    """Return `raw` as an E.164 string (`+14155550199`), or None if it is no phone number.

    `4155550199`, `(415) 555-0199` and `+1 415 555 0199` are one number; a number
    without a country code is read in the shop's country.
    """
    if not raw:
        return None
    raw = str(raw).strip()
    if E164.fullmatch(raw):
        return raw
    try:
        parsed = phonenumbers.parse(raw, region or settings.SHOP_COUNTRY)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# What Twilio puts in From/Caller when the caller withheld their number: stand-ins that look
# like numbers in Lesotho, China and Uganda (anonymous, unknown, blocked, restricted), or a word.
WITHHELD_IDS = frozenset({"+266696687", "+86282452253", "+8656696", "+2562533"})
WITHHELD_WORDS = frozenset({"", "anonymous", "restricted", "unknown", "blocked", "private"})
# How a withheld caller is stored and shown (never a number: it is nobody's).
WITHHELD = "withheld"
# Numbers the caller pays extra to reach, part of which goes to whoever holds the number:
# calling or texting them is how toll fraud and SMS pumping make money.
PREMIUM_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.SHARED_COST}
)


def is_withheld(raw):
    """True when Twilio's From/Caller `raw` says the caller ID was withheld."""
    raw = str(raw or "").strip()
    return raw in WITHHELD_IDS or raw.lower() in WITHHELD_WORDS or raw == WITHHELD


SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def sender_number(stored):
    """The phone number of a stored inbound sender (Message.from_number), or None: an
    address with a scheme (`messenger:`...) or the withheld mark is nobody's number."""
    number = caller_id(stored)
    return None if number == WITHHELD else number


def caller_id(raw):
    """An inbound From as we store it: E.164, WITHHELD, or None when it is no phone number.

    An address with a scheme (`messenger:…`, `rcs:…`, `tel:…`, `sip:…`, `client:…`) is no
    phone number, whatever digits it holds: Twilio gives a WhatsApp sender's number with
    `whatsapp:`, which the caller takes off first (reach.split_channel), and SMS senders
    plainly. So a Messenger user named by digits is never taken for that phone's owner."""
    if is_withheld(raw):
        return WITHHELD
    if SCHEME.match((raw or "").strip()):
        return None
    return to_e164(raw)


def is_premium(number):
    """True for premium-rate and shared-cost numbers (+1 900, UK 09/087...), by libphonenumber."""
    return _facts(str(number or ""))[1] in PREMIUM_TYPES


def country_of(number):
    """ISO country code of an E.164 number, or None."""
    return _facts(str(number or ""))[0]


@lru_cache(maxsize=10_000)
def _facts(number):
    """(country, type) of an E.164 number by libphonenumber, or (None, None). Kept per
    number: both are asked before every reply, and each is a walk over every country that
    shares the calling code (+1: 25 of them) that cost more than the reply's queries."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None, None
    return phonenumbers.region_code_for_number(parsed), phonenumbers.number_type(parsed)


def mask(number):
    """`+14155550199` -> `+1415***0199`: enough to tell numbers apart in a log."""
    number = str(number or "")
    if len(number) <= 8:
        return number[:2] + "***" if number else number
    return number[:5] + "***" + number[-4:]
