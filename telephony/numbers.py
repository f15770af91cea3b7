"""Phone numbers: parse what people type into E.164, and mask them for logs."""

import re

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


def country_of(number):
    """ISO country code of an E.164 number, or None."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return None


def mask(number):
    """`+14155550199` -> `+1415***0199`: enough to tell numbers apart in a log."""
    number = str(number or "")
    if len(number) <= 8:
        return number[:2] + "***" if number else number
    return number[:5] + "***" + number[-4:]
