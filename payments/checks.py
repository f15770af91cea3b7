"""System checks: payments set up halfway are said at startup, not found by a customer."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def check_stripe_settings(app_configs, **kwargs):
    if not settings.STRIPE_SECRET_KEY:
        return []
    found = []
    if not settings.STRIPE_WEBHOOK_SECRET:
        found.append(
            checks.Warning(
                "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: Stripe's events "
                "(paid, expired, refunded) will be refused, so no order is seen paid.",
                hint="Run manage.py stripe_configure and set the secret it prints.",
                id="payments.W001",
            )
        )
    if not settings.PUBLIC_BASE_URL:
        found.append(
            checks.Warning(
                "STRIPE_SECRET_KEY is set but PUBLIC_BASE_URL is not: the texts carry no link "
                "to pay with, and Stripe sends customers back to http://localhost:8000.",
                id="payments.W002",
            )
        )
    try:
        from orders.payment import required_above

        required_above()
    except ArithmeticError:
        found.append(
            checks.Error(
                f"PAYMENT_REQUIRED_ABOVE={settings.PAYMENT_REQUIRED_ABOVE!r} is not an amount.",
                hint="Leave it empty (never required), 0 (always), or e.g. 50.00.",
                id="payments.E001",
            )
        )
    return found
