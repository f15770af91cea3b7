"""The address of an order's page (orders.pages), as the texts carry it."""

from django.conf import settings
from django.urls import reverse


def order_link(order):
    """The order page's full address for a text, or "" when PUBLIC_BASE_URL is not set (a
    bare path is no use in an SMS, so the texts leave the line out)."""
    if not settings.PUBLIC_BASE_URL or not getattr(order, "token", ""):
        return ""
    return settings.PUBLIC_BASE_URL + reverse("orders:page", args=[order.token])


def pay_link(order):
    """The address that takes the customer to the order's payment page (payments/), or ""."""
    if not settings.PUBLIC_BASE_URL or not getattr(order, "token", ""):
        return ""
    return settings.PUBLIC_BASE_URL + reverse("payments:pay", args=[order.token])
