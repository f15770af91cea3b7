"""What the shop texts customers: every reply is a template in templates/orders/sms/, and
this module turns orders, quotes and the menu into the values those templates show (money,
lines with their modifiers, times). No wording lives in Python, so the texts can be
translated."""

from decimal import Decimal

from django.conf import settings
from django.template import Context
from django.template.loader import get_template

from telephony.services import MAX_BODY

from .hours import clock
from .models import Fulfilment


def money(amount):
    amount = Decimal(amount)
    return f"${amount:.0f}" if amount == amount.to_integral() else f"${amount:.2f}"


def render_sms(name, **context):
    """The text of templates/orders/sms/<name>.txt, one line per non-empty template line."""
    template = get_template(f"orders/sms/{name}.txt").template
    base = {"shop_name": settings.SHOP_NAME, "shop_phone": shop_phone()}
    text = template.render(Context({**base, **context}, autoescape=False))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)[:MAX_BODY]


def shop_phone():
    import phonenumbers

    try:
        number = phonenumbers.parse(settings.SHOP_PHONE, settings.SHOP_COUNTRY)
    except phonenumbers.NumberParseException:
        return settings.SHOP_PHONE
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def line_text(quantity, name, size, unit_price=None):
    size = f" {size}" if size else ""
    price = f" {money(Decimal(unit_price) * quantity)}" if unit_price is not None else ""
    return f"{quantity}x {name}{size}{price}"


def menu_sections(items):
    """{"pizza": ["PEP Pepperoni $10/13/16", ...], "side": [...], "drink": [...]}."""
    sections = {"pizza": [], "side": [], "drink": []}
    for item in items:
        prices = sorted(item.prices.all(), key=lambda p: "SML".find(p.size or "S"))
        if not prices:
            continue
        if len(prices) > 1:
            amount = "$" + "/".join(money(p.price).lstrip("$") for p in prices)
        else:
            amount = money(prices[0].price)
        sections.setdefault(item.category, []).append(f"{item.code} {item.name} {amount}")
    return sections


def quote_context(quote):
    """What quote.txt and reorder.txt show of a pending quote."""
    return {
        "lines": [
            line_text(line["quantity"], line["name"], line["size"], line["unit_price"])
            for line in quote.lines
        ],
        "total": money(quote.total),
        "delivery": quote.fulfilment == Fulfilment.DELIVERY,
        "address": quote.address,
        "minutes": settings.ORDER_QUOTE_MINUTES,
    }


def placed_context(order, quote, now):
    """What placed.txt shows of an order just placed from `quote`."""
    return {
        "order": order,
        "items": [line_text(i["quantity"], i["name"], i["size"]) for i in quote.lines],
        "total": money(order.total),
        "promised": clock(order.promised_at, now),
        "delivery": order.fulfilment == Fulfilment.DELIVERY,
    }
