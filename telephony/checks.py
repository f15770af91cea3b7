"""System checks for the telephony configuration."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from .backends import backend_path


@register()
def check_telephony(app_configs, **kwargs):
    problems = []
    is_twilio = backend_path() == "telephony.backends.twilio.Backend"
    if is_twilio and not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
        problems.append(
            Error(
                "TELEPHONY_BACKEND is twilio but TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is empty.",
                hint="Set both (Twilio console, Account Info) or use TELEPHONY_BACKEND=console.",
                id="telephony.E001",
            )
        )
    if is_twilio and not settings.PUBLIC_BASE_URL:
        problems.append(
            Warning(
                "PUBLIC_BASE_URL is not set: Twilio cannot reach our webhooks or status callbacks.",
                hint="Set it to the https address Twilio reaches this app at.",
                id="telephony.W001",
            )
        )
    base = settings.PUBLIC_BASE_URL
    if base and not settings.DEBUG and not base.startswith("https://"):
        problems.append(
            Warning(
                f"PUBLIC_BASE_URL ({base}) is not https while DEBUG is off.",
                hint="Twilio should reach the shop over https only.",
                id="telephony.W002",
            )
        )
    return problems
