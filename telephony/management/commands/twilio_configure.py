"""Point the shop's Twilio number at this app's webhooks (the console steps, done by API).

The SMS and voice URLs carry Twilio's connection overrides (TWILIO_WEBHOOK_OVERRIDES, by
default `#rc=3&rp=all`: up to three retries, on any error or timeout), so a text Twilio
could not hand us is tried again, and the fallback URLs (TWILIO_FALLBACK_BASE_URL, by
default PUBLIC_BASE_URL) are where it turns after that. A retry of a text we stored makes
no second row (MessageSid is unique), and while the database is down the webhook keeps
texts in its spool and answers 200 (telephony/spool.py), so none is lost.

The request goes through the outbox like every provider call (logged, retried); the
command makes it at once and reports the outcome. A passing failure is left queued for
the worker to retry.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import NoReverseMatch, reverse

from telephony.models import ProviderRequest
from telephony.voice import REQUESTS, queue_number_configuration


def webhook_urls(base, fallback_base=None, overrides=""):
    """The number's webhooks under `base`; the fallbacks under `fallback_base` (default
    `base`); `overrides` (Twilio's connection overrides) after a # on the SMS and voice
    URLs and their fallbacks."""
    fallback_base = fallback_base or base
    retried = f"#{overrides}" if overrides else ""
    urls = {
        "sms_url": base + reverse("telephony:sms") + retried,
        "sms_fallback_url": fallback_base + reverse("telephony:sms") + retried,
    }
    try:
        voice = reverse("support:voice")
    except NoReverseMatch:
        return urls
    urls["voice_url"] = base + voice + retried
    urls["voice_fallback_url"] = fallback_base + voice + retried
    urls["status_callback"] = base + reverse("support:call-status")
    return urls


def base_url_problems(base):
    """What is wrong with PUBLIC_BASE_URL for Twilio: it must be https (Twilio signs the URL
    it calls, and a plain-http one leaks the texts), on a host Twilio can reach."""
    parts = urlsplit(base)
    problems = []
    if parts.scheme != "https":
        problems.append(f"{base} is not https: Twilio would send customers' texts unencrypted")
    host = (parts.hostname or "").lower()
    try:
        address = ipaddress.ip_address(host)
        local = address.is_private or address.is_loopback or address.is_link_local
    except ValueError:
        local = host in ("", "localhost") or host.endswith((".local", ".localhost", ".internal"))
    if local:
        problems.append(f"{host or base} is a local address: Twilio cannot reach it")
    return problems


class Command(BaseCommand):
    help = "Set TWILIO_PHONE_NUMBER's SMS and voice webhooks to PUBLIC_BASE_URL."

    def handle(self, **options):
        base = settings.PUBLIC_BASE_URL
        if not base:
            raise CommandError("Set PUBLIC_BASE_URL to the https address Twilio reaches us at.")
        for problem in base_url_problems(base):
            self.stderr.write(self.style.WARNING(f"Warning: PUBLIC_BASE_URL {problem}."))
        number = settings.TWILIO_PHONE_NUMBER
        webhooks = webhook_urls(
            base, settings.TWILIO_FALLBACK_BASE_URL, settings.TWILIO_WEBHOOK_OVERRIDES
        )
        request = queue_number_configuration(number, **webhooks)
        REQUESTS.send_one(request.pk)
        request.refresh_from_db()
        if request.status == ProviderRequest.Status.FAILED:
            raise CommandError(
                f"Twilio refused: {request.error_message} (code {request.error_code})"
            )
        if request.status != ProviderRequest.Status.DONE:
            raise CommandError(
                f"Twilio could not be reached ({request.error_message}); the worker will "
                f"try again (request {request.pk}, see the admin's provider requests)."
            )
        self.stdout.write(f"Configured {number} ({request.sid}):")
        for key, value in webhooks.items():
            self.stdout.write(f"  {key} = {value}")
