"""Who the shop may text or call, and on which channel: opt-outs and opt-ins (the STOP and
START words), the rules for withheld, premium-rate and foreign numbers, in Python
(reason_not_to_text, reason_not_to_call) and in SQL (textable), and SMS or WhatsApp."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import Message, OptOut
from .numbers import country_of, is_premium, is_withheld

logger = logging.getLogger(__name__)

OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "UNSTOP"}
# Twilio error 21610: the recipient replied STOP; nothing more may be sent to them.
UNSUBSCRIBED = 21610
Channel = Message.Channel
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
    if is_premium(number):
        return "premium-rate or shared-cost number"
    if countries and not country_allowed(number):
        return "destination country not allowed (SMS_ALLOWED_COUNTRIES)"
    return None


def reason_not_to_text(number):
    """Why `number` must not be texted, or None when it may be."""
    reason = _reason_not_to_reach(number)
    if reason is None and is_opted_out(number):
        return "recipient opted out (replied STOP)"
    return reason


def reason_not_to_call(number, *, staff=False):
    """Why `number` must not be called, or None when it may be.

    The rules of texts, but not STOP: it opts a number out of texts (Twilio blocks only
    messaging to it), and a customer we call back left us a voicemail asking for it.
    `staff=True` is an agent's own phone, set up by staff: the country list does not
    apply to it (an agent may live over the border), premium-rate numbers still do.
    """
    return _reason_not_to_reach(number, countries=not staff)


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
