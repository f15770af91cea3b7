"""Register (or check) the webhook endpoint Stripe sends our events to."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from payments import services, stripe_api
from telephony.backends import ProviderError

EVENTS = list(services.HANDLERS)  # the events we act on, and only those


class Command(BaseCommand):
    help = (
        "Make sure Stripe sends payment events to PUBLIC_BASE_URL/stripe/webhook/: finds the "
        "endpoint and sets its events, or makes it and prints its signing secret."
    )

    def handle(self, *args, **options):
        if not settings.STRIPE_SECRET_KEY:
            raise CommandError("Set STRIPE_SECRET_KEY first (a test key: sk_test_...).")
        if not settings.PUBLIC_BASE_URL.startswith("https://"):
            raise CommandError("Set PUBLIC_BASE_URL to the shop's https:// address first.")
        url = settings.PUBLIC_BASE_URL + reverse("payments:webhook")
        try:
            endpoint, what, secret = stripe_api.configure_webhook(url, EVENTS)
        except ProviderError as exc:
            raise CommandError(f"Stripe answered: {exc}") from exc
        events = ", ".join(EVENTS)
        if what == "made":
            self.stdout.write(f"Made webhook endpoint {endpoint} for {url} ({events}).")
            self.stdout.write("Put this in the environment, then restart the web processes:")
            self.stdout.write(f"STRIPE_WEBHOOK_SECRET={secret}")
        elif what == "updated":
            self.stdout.write(f"Webhook endpoint {endpoint} for {url} now sends: {events}.")
        else:
            self.stdout.write(f"Webhook endpoint {endpoint} for {url} is already set up.")
        if what != "made" and not settings.STRIPE_WEBHOOK_SECRET:
            self.stdout.write(
                "STRIPE_WEBHOOK_SECRET is not set: copy the endpoint's signing secret from "
                "Stripe's dashboard (Developers, Webhooks)."
            )
