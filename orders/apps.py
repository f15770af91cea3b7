from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self):
        check_shop_settings()


def check_shop_settings():
    """Stop start-up with a clear message when SHOP_HOURS or SHOP_TIME_ZONE is malformed."""
    from .hours import HoursError, parse_hours, parse_time_zone

    try:
        parse_hours(settings.SHOP_HOURS)
        parse_time_zone(settings.SHOP_TIME_ZONE)
    except HoursError as exc:
        raise ImproperlyConfigured(f"{exc} (see .env.example, section Orders)") from None
    from .models import Status

    unknown = set(settings.ORDER_SMS_STAGES) - set(Status.values)
    if unknown:
        raise ImproperlyConfigured(
            f"ORDER_SMS_STAGES names unknown stages: {', '.join(sorted(unknown))}."
        )
