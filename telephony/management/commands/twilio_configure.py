"""Point the shop's Twilio number at this app's webhooks (the console steps, done by API)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import NoReverseMatch, reverse

from telephony.backends import ProviderError, get_backend


def webhook_urls(base):
    urls = {
        "sms_url": base + reverse("telephony:sms"),
        "status_callback": None,
    }
    try:
        urls["voice_url"] = base + reverse("support:voice")
        urls["status_callback"] = base + reverse("support:call-status")
    except NoReverseMatch:
        pass
    return {key: value for key, value in urls.items() if value}


class Command(BaseCommand):
    help = "Set TWILIO_PHONE_NUMBER's SMS and voice webhooks to PUBLIC_BASE_URL."

    def handle(self, **options):
        base = settings.PUBLIC_BASE_URL
        if not base:
            raise CommandError("Set PUBLIC_BASE_URL to the https address Twilio reaches us at.")
        number = settings.TWILIO_PHONE_NUMBER
        try:
            result = get_backend().configure_number(number, **webhook_urls(base))
        except ProviderError as exc:
            raise CommandError(f"Twilio refused: {exc} (code {exc.code})") from exc
        self.stdout.write(f"Configured {result.phone_number} ({result.sid}):")
        for key, value in result.changes.items():
            self.stdout.write(f"  {key} = {value}")
