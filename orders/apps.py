from decimal import Decimal, InvalidOperation

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self):
        check_shop_settings()
        connect_menu_changed()


def connect_menu_changed():
    """Every saved or deleted row of the menu changes its version (orders.menu.current)."""
    from django.db.models.signals import post_delete, post_save

    from .menu import menu_changed
    from .models import Crust, Deal, MenuItem, MenuPrice, Topping

    for model in (MenuItem, MenuPrice, Topping, Crust, Deal):
        for signal in (post_save, post_delete):
            signal.connect(menu_changed, sender=model, dispatch_uid=f"menu_{model.__name__}")
    from . import shop
    from .models import ShopSettings

    post_save.connect(shop.forget, sender=ShopSettings, dispatch_uid="shop_settings")
    from . import questions
    from .models import ShopAnswer

    for signal in (post_save, post_delete):
        signal.connect(questions.forget, sender=ShopAnswer, dispatch_uid=f"answers_{signal}")


def check_shop_settings():
    """Stop start-up with a clear message when SHOP_HOURS, SHOP_TIME_ZONE or a money setting
    is malformed."""
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
    for name in ("SHOP_TAX_RATE", "DELIVERY_FEE", "DELIVERY_MINIMUM"):
        value = getattr(settings, name)
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0:
            raise ImproperlyConfigured(f"{name} {value!r} is not an amount (e.g. 3.50).")
    if Decimal(str(settings.SHOP_TAX_RATE)) >= 1:
        raise ImproperlyConfigured(
            f"SHOP_TAX_RATE {settings.SHOP_TAX_RATE!r} is a fraction: 0.08875 for 8.875%."
        )
