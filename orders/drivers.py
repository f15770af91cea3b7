"""Drivers: who takes which delivery, told by text, and DONE 1042 by text when delivered.

Staff keep drivers in the admin (name, phone, on shift). Moving a delivery to out for
delivery on the board picks one of those on shift (`advance_order(..., driver=)`): the
order keeps its driver, the customer's text and order page say "Maria is on the way", and
the driver gets a text with the order number, the items, the address, a map link and the
customer's number (`text_driver`). The driver texts `DONE 1042` (or `ENTREGADO 1042`,
`DELIVERED 1042`) from their registered phone to mark it delivered (`handle_driver_sms`,
an inbound-SMS handler like the agents' ON/OFF): the order moves through the one door and
the customer is texted as from the board. The same words from any other phone are an
ordinary customer text. The reports show each driver's deliveries and time on the road.
"""

import re
from urllib.parse import urlencode

from django.conf import settings

from .errors import OrderError
from .models import ORDER_NUMBER_OFFSET, Driver, Order, Status

DONE = re.compile(
    r"^\s*(?:done|delivered|entregado|entregada|entregue)\s*#?\s*(\d{1,9})\s*[.!]*\s*$",
    re.IGNORECASE,
)


def on_shift():
    return Driver.objects.filter(is_active=True, on_shift=True)


def map_link(address):
    """A link that opens the address in the phone's maps (Google Maps URLs, documented)."""
    return "https://www.google.com/maps/search/?" + urlencode({"api": 1, "query": address})


def text_driver(order):
    """Queue the driver's text for `order` (in the caller's transaction)."""
    from telephony.sms import send_sms

    from .texts import national_number, render_sms

    body = render_sms(
        "driver_run", order=order, number=order.number,
        items=[f"{item.quantity}x {item.label} {item.size}".strip() for item in order.items.all()],
        address=order.address, map=map_link(order.address),
        customer=national_number(str(order.customer.phone), settings.SHOP_COUNTRY),
    )  # fmt: skip
    return send_sms(order.driver.phone, body, about=order)


def handle_driver_sms(message):
    """An inbound-SMS handler (telephony.handlers): DONE 1042 from a driver's phone marks
    their delivery delivered. None for anything else, or anyone else, so it reaches the
    order conversation like any text."""
    found = DONE.match(message.body or "")
    if not found:
        return None
    driver = Driver.objects.filter(phone=message.from_number, is_active=True).first()
    if driver is None:
        return None
    from .moves import advance_order

    number = int(found.group(1))
    order = Order.objects.filter(pk=number - ORDER_NUMBER_OFFSET, driver=driver).first()
    if order is None:
        return f"Order #{number} is not one of your deliveries, {driver.name}. Check the number."
    if order.status == Status.DELIVERED:
        return f"Order #{number} is already marked delivered. Thanks, {driver.name}!"
    try:
        advance_order(order, Status.DELIVERED, reason=f"{driver.name} texted DONE")
    except OrderError:
        order.refresh_from_db()
        return f"Order #{number} is {order.stage_words}: not marked delivered. Call the shop."
    return f"Thanks {driver.name}: order #{number} is marked delivered."
