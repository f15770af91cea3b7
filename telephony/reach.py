"""Who the shop may text or call, and on which channel: opt-outs and opt-ins (the STOP and
START words), the rules for withheld, premium-rate and foreign numbers, in Python
(reason_not_to_text, reason_not_to_call) and in SQL (textable), and SMS or WhatsApp."""

import logging
import re
import unicodedata
from datetime import timedelta
from functools import cache

import phonenumbers
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Substr
from django.db.models.lookups import In
from django.utils import timezone

from .models import Message, OptOut
from .numbers import WITHHELD_IDS, country_of, is_premium, is_withheld

logger = logging.getLogger(__name__)

OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "UNSTOP"}


def keyword(text):
    """`text` as a keyword: compatibility forms folded (NFKC: fullwidth "ＳＴＯＰ" is STOP),
    upper case, letters and digits only ("Stop." is STOP)."""
    folded = unicodedata.normalize("NFKC", text or "").strip().upper()
    return "".join(ch for ch in folded if ch.isalnum())


# Twilio error 21610: the recipient replied STOP; nothing more may be sent to them.
UNSUBSCRIBED = 21610
Channel = Message.Channel
# A number as the rules read it: E.164, a plus and digits (send_sms normalises with to_e164).
NUMBER = re.compile(r"\+[0-9]+")
# WhatsApp's customer service window: a business may write freely for 24 hours after the
# customer's last message; outside it only pre-approved templates (Twilio error 63016).
WHATSAPP_SESSION = timedelta(hours=24)


# --- opt-outs and who may be texted ------------------------------------------


def is_opted_out(number):
    return OptOut.objects.filter(phone_number=number).exists()


def opt_out(number, keyword="STOP"):
    OptOut.objects.get_or_create(phone_number=number, defaults={"keyword": keyword[:20]})
    logger.info("Opt-out recorded for %s (%s)", number, keyword)


def opt_in(number):
    deleted, _ = OptOut.objects.filter(phone_number=number).delete()
    if deleted:
        logger.info("Opt-in recorded for %s", number)
    return bool(deleted)


def country_allowed(number):
    allowed = settings.SMS_ALLOWED_COUNTRIES
    return "*" in allowed or country_of(number) in allowed


def _reason_not_to_reach(number, *, countries=True):
    """What texts and calls share: a number, not withheld, not premium-rate, in a country
    we serve (SMS_ALLOWED_COUNTRIES, for calls too)."""
    if not number:
        return "not a valid phone number"
    if is_withheld(number):
        return "caller ID withheld"
    if not NUMBER.fullmatch(str(number)):
        return "not a valid phone number"
    if is_premium(number):
        return "premium-rate or shared-cost number"
    if countries and not country_allowed(number):
        return "destination country not allowed (SMS_ALLOWED_COUNTRIES)"
    return None


def reason_not_to_text(number, *, opted_out=None):
    """Why `number` must not be texted, or None when it may be. (`opted_out`: whether it
    replied STOP, when the caller has looked that up already.)"""
    reason = _reason_not_to_reach(number)
    if opted_out is None and reason is None:
        opted_out = is_opted_out(number)
    if reason is None and opted_out:
        return OPTED_OUT_REASON
    return reason


# Why a text to a number that replied STOP was not sent (Message.error_message).
OPTED_OUT_REASON = "recipient opted out (replied STOP)"


def reason_not_to_call(number, *, staff=False):
    """Why `number` must not be called, or None when it may be.

    The rules of texts, but not STOP: it opts a number out of texts (Twilio blocks only
    messaging to it), and a customer we call back left us a voicemail asking for it.
    `staff=True` is an agent's own phone, set up by staff: the country list does not
    apply to it (an agent may live over the border), premium-rate numbers still do.
    """
    return _reason_not_to_reach(number, countries=not staff)


# --- the same rule in SQL ------------------------------------------------------


def textable(field="phone"):
    """The SQL twin of reason_not_to_text: a condition (for .filter) on a model whose `field`
    holds a phone number, true for exactly the rows whose number may be texted.

    One query over a whole table (a campaign's audience and its count) instead of a
    call per row. tests/test_telephony_textable.py holds the two sides to the same
    table of numbers (US, Canada, the Caribbean, +1 900, UK and German premium-rate
    and shared-cost, withheld, opted out...)."""
    return reachable(field) & ~opted_out(field)


def opted_out(field="phone"):
    """True where `field`'s number replied STOP (an Exists, for .filter or .alias)."""
    return Exists(OptOut.objects.filter(phone_number=OuterRef(field)))


def reachable(field="phone"):
    """The SQL twin of what texts and calls share (_reason_not_to_reach): a number, not a
    stand-in for a withheld caller ID, not premium-rate or shared-cost, in
    SMS_ALLOWED_COUNTRIES.

    Premium-rate and shared-cost: libphonenumber's patterns for those types (the
    national number after the calling code) of every country on the calling codes we
    serve, as one regular expression. Countries: by calling code, and for +1 (the US,
    Canada, most of the Caribbean) by area code, as libphonenumber places them. Where
    the two sides could part (a number libphonenumber places in none of the countries
    sharing its code, a number matching one country's premium pattern that
    libphonenumber gives to a neighbour on the same code), the SQL side leaves the
    number out, never in; send_sms asks reason_not_to_text before every text anyway.
    Shared calling codes other than +1 (+44 with Jersey and Guernsey, +7...) are
    taken whole: send_sms refuses the numbers of a country not allowed."""
    allowed = frozenset(country.upper() for country in settings.SMS_ALLOWED_COUNTRIES)
    condition = (
        Q(**{f"{field}__regex": rf"^{NUMBER.pattern}$"})
        & ~Q(**{f"{field}__in": sorted(WITHHELD_IDS)})
        & ~Q(**{f"{field}__regex": _premium_pattern(allowed)})
    )
    if "*" not in allowed:
        condition &= _in_countries(field, allowed)
    return condition


def _calling_codes(allowed):
    if "*" in allowed:
        return set(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    return {phonenumbers.country_code_for_region(country) for country in allowed} - {0}


@cache
def _premium_pattern(allowed):
    r"""`^\+(?:1(?:900...)|44(?:...)|...)$`: premium-rate and shared-cost numbers on the
    calling codes of `allowed`, from libphonenumber's metadata."""
    by_code = []
    for code in sorted(_calling_codes(allowed)):
        patterns = set()
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
            if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
                meta = phonenumbers.PhoneMetadata.metadata_for_nongeo_region(code)
            else:
                meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
            for desc in (meta.premium_rate, meta.shared_cost) if meta else ():
                if desc and desc.national_number_pattern:
                    patterns.add(desc.national_number_pattern)
        if patterns:
            by_code.append(f"{code}(?:{'|'.join(sorted(patterns))})")
    # A pattern nothing matches when no country we serve has such numbers.
    return rf"^\+(?:{'|'.join(by_code)})$" if by_code else r"^\+$"


def _in_countries(field, allowed):
    """Numbers of the countries in `allowed`, by calling code and, on +1, area code."""
    inside = Q(pk__in=[])
    for code in sorted(_calling_codes(allowed)):
        sharing = set(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ()))
        if code == 1 and not sharing <= allowed:
            prefixes = _nanp_area_codes(frozenset(sharing & allowed))
            inside |= Q(In(Substr(field, 1, 5), prefixes))
        else:
            inside |= Q(**{f"{field}__startswith": f"+{code}"})
    return inside


@cache
def _nanp_area_codes(regions):
    """The "+1NPA" prefixes phonenumbers places in `regions` (e.g. US: "+1201", ...)."""
    return tuple(
        f"+1{area}"
        for area in range(200, 1000)
        if phonenumbers.region_code_for_number(phonenumbers.parse(f"+1{area}2345678")) in regions
    )


# --- channels ------------------------------------------------------------------


def split_channel(address):
    """`whatsapp:+14155550123` -> ("whatsapp", "+14155550123"); a plain number is SMS."""
    address = (address or "").strip()
    prefix, colon, rest = address.partition(":")
    if colon and prefix.lower() == Channel.WHATSAPP:
        return Channel.WHATSAPP, rest.strip()
    return Channel.SMS, address


def on_channel(number, channel):
    """The address Twilio wants for `number` on `channel`: `whatsapp:+1...` or `+1...`."""
    return f"whatsapp:{number}" if channel == Channel.WHATSAPP and number else number


def channel_for(number, now=None):
    """The channel to text `number` on when they did not just write (stage texts, staff).

    WhatsApp when their last text to the shop came by WhatsApp within WhatsApp's 24-hour
    session and the shop has named its WhatsApp sender (TWILIO_WHATSAPP_NUMBER); SMS
    otherwise. One query, on the inbound-by-number index."""
    if not settings.TWILIO_WHATSAPP_NUMBER:
        return Channel.SMS
    last = (
        Message.objects.filter(direction=Message.Direction.INBOUND, from_number=number)
        .order_by("-created_at")
        .values_list("channel", "created_at")
        .first()
    )
    now = now or timezone.now()
    if last and last[0] == Channel.WHATSAPP and last[1] > now - WHATSAPP_SESSION:
        return Channel.WHATSAPP
    return Channel.SMS
