"""What the shop texts customers: every reply is a template in templates/orders/sms/, and
this module turns orders, quotes and the menu into the values those templates show (money,
lines with their modifiers, times). No wording lives in Python, so the texts can be
translated."""

from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.translation import gettext, ngettext

from telephony.segments import gsm_letters
from telephony.sms import MAX_BODY

from . import shop
from .billing import busy_minutes, prep_minutes
from .billing import online as payment_online
from .hours import clock, local
from .links import order_link, pay_link
from .models import Fulfilment, Status


def money(amount):
    amount = Decimal(amount)
    return f"${amount:.0f}" if amount == amount.to_integral() else f"${amount:.2f}"


def render_sms(name, **context):
    """The text of templates/orders/sms/<name>.txt in the active language (translated through
    locale/), one line per non-empty template line, with á í ó ú written as GSM-7 has them
    (telephony.segments.gsm_letters: see README "Languages")."""
    template = get_template(f"orders/sms/{name}.txt").template
    base = {"shop_name": settings.SHOP_NAME, "shop_phone": shop_phone()}
    if "shop_address" not in context:
        base["shop_address"] = shop.address()
    text = template.render(Context({**base, **context}, autoescape=False))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return gsm_letters("\n".join(line for line in lines if line))[:MAX_BODY]


def shop_phone():
    return national_number(settings.SHOP_PHONE, settings.SHOP_COUNTRY)


@lru_cache(maxsize=4)
def national_number(phone, country):
    """ "(415) 555-0100": how a number of the shop's country is written there."""
    import phonenumbers

    try:
        number = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _render_line(context, template="orders/sms/line.txt"):
    text = get_template(template).template.render(Context(context, autoescape=False))
    return " ".join(text.split())


def line_fields(line, priced=True):
    """What a line template shows of a quote line (dict) or an OrderItem. `toppings` are
    {"name", "extra"}: lower case, read as words ("mushrooms"), `extra` when the pizza has
    it already (pepperoni on a Pepperoni: "extra pepperoni"; "Extra cheese" says so itself);
    `topping_names` as the menu writes them."""
    get = line.get if isinstance(line, dict) else lambda name, default=None: getattr(line, name)
    modifiers = get("modifiers", None) or {}
    crust = (modifiers.get("crust") or {}).get("name", "")
    quantity, unit_price = get("quantity"), get("unit_price")
    name, half = get("name"), (modifiers.get("half") or {}).get("name", "")
    has = set(f"{name} {half}".lower().split())
    toppings = [t["name"] for t in modifiers.get("toppings", [])]
    return {
        "quantity": quantity,
        "name": name,
        "size": get("size"),
        "half": half,
        "toppings": [
            {
                "name": t.lower(),
                "extra": bool(has & set(t.lower().split())) and not t.lower().startswith("extra"),
            }
            for t in toppings
        ],  # fmt: skip
        "topping_names": toppings,
        "left": [t["name"].lower() for t in modifiers.get("left", [])],
        "right": [t["name"].lower() for t in modifiers.get("right", [])],
        "crust": crust.lower(),
        "crust_says_crust": "crust" in crust.lower(),
        "note": get("note", "") or "",
        "price": money(Decimal(unit_price) * quantity) if priced else "",
    }


def line_label(line):
    """What a line is, as a card or receipt names it: "Pepperoni", or "half Pepperoni /
    half Margherita" for a half-and-half (templates/orders/sms/_label.txt)."""
    return _render_line({"line": line_fields(line, priced=False)}, "orders/sms/_label.txt")


def line_extras(line):
    """A line's toppings, halves and crust in words: "with extra pepperoni, mushrooms,
    thin crust", "half with pepperoni / half with mushrooms" ("" for none;
    templates/orders/sms/_extras.txt)."""
    text = _render_line({"line": line_fields(line, priced=False)}, "orders/sms/_extras.txt")
    return text.lstrip(", ")


def line_words(line, priced=True):
    """A quote's or an order's line as the customer reads it, with every modifier and note:
    "1x half Pepperoni / half Margherita L with extra cheese, thin crust (well done) $20.50".
    `line` is a quote line (dict) or an OrderItem."""
    return _render_line({"line": line_fields(line, priced)})


def spoken_line(line):
    """A line as the phone line says it: "2 large Pepperoni with Mushrooms, thin crust"
    (templates/orders/voice/_line.txt)."""
    return _render_line({"line": line_fields(line, priced=False)}, "orders/voice/_line.txt")


def spoken_money(amount):
    """ "32 dollars and 40 cents", "32 dollars": a total as a listener follows it."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    dollars, cents = int(amount), int((amount - int(amount)) * 100)
    said = ngettext("%(n)s dollar", "%(n)s dollars", dollars) % {"n": dollars}
    if cents:
        said = gettext("%(dollars)s and %(cents)s cents") % {"dollars": said, "cents": cents}
    return said


def render(name, channel="sms", **context):
    """The reply `name` on `channel`: by text (render_sms), or by voice, from
    templates/orders/voice/<name>.txt where there is one (words fit to be heard: no
    keywords to text back), else the text's words."""
    if channel != "voice":
        return render_sms(name, **context)
    try:
        template = get_template(f"orders/voice/{name}.txt").template
    except TemplateDoesNotExist:
        return render_sms(name, **context).replace("\n", " ")
    base = {"shop_name": settings.SHOP_NAME, "shop_address": shop.address()}
    text = template.render(Context({**base, **context}, autoescape=False))
    return " ".join(text.split())


def money_context(bill):
    """What _money.txt shows of a quote or an order (anything with subtotal, tax,
    delivery_fee and total)."""
    return {
        "total": money(bill.total),
        "subtotal": money(bill.subtotal),
        "tax": money(bill.tax) if bill.tax else "",
        "fee": money(bill.delivery_fee) if bill.delivery_fee else "",
    }


def size_prices(item):
    """ "$10/13/16" for an item in sizes (small to large), "$5" for one in one size (`item`
    an orders.menu.Item)."""
    prices = sorted(item.prices.items(), key=lambda p: "SML".find(p[0] or "S"))
    if not prices:
        return ""
    if len(prices) > 1:
        return "$" + "/".join(money(price).lstrip("$") for _, price in prices)
    return money(prices[0][1])


def size_price(item, size):
    """The price of `item` in `size` ("$16"), or all its prices when it has no such size."""
    if size and size in item.prices:
        return money(item.prices[size])
    return size_prices(item)


def order_example(quantity, size, code):
    """How the customer would text one line: "1 L BBQ"."""
    return " ".join(str(part) for part in (quantity, size, code) if part)


def menu_sections(items):
    """{"pizza": ["PEP Pepperoni $10/13/16", ...], "side": [...], "drink": [...]}."""
    sections = {"pizza": [], "side": [], "drink": []}
    for item in items:
        if amount := size_prices(item):
            sections.setdefault(item.category, []).append(f"{item.code} {item.name} {amount}")
    return sections


def quote_context(quote, asked=None, now=None):
    """What quote.txt and reorder.txt show of a pending quote. `asked`: the time of day the
    customer asked for, to say whether the quote's time is that one or the earliest we can."""
    ready = local(quote.scheduled_for) if quote.scheduled_for else None
    busy = 0 if ready else busy_minutes(now)
    return {
        # A rush: the minutes to this order, said in the quote (orders.billing.busy_minutes).
        "busy": prep_minutes(quote.fulfilment, busy) if busy else "",
        "lines": [line_words(line) for line in quote.lines],
        "money": money_context(quote),
        "total": money(quote.total),
        "delivery": quote.fulfilment == Fulfilment.DELIVERY,
        "address": quote.address,
        "minutes": settings.ORDER_QUOTE_MINUTES,
        "assumed": list(
            dict.fromkeys(line["name"] for line in quote.lines if line.get("assumed_size"))
        ),
        "ready": clock(quote.scheduled_for, now) if ready else "",
        "deal": quote.deal,
        "discount": money(quote.discount) if quote.discount else "",
        "asked": bool(ready and asked and (ready.hour, ready.minute) == (asked.hour, asked.minute)),
    }


def waiting_context(quote):
    """What _waiting.txt says of a quote still waiting for YES (None: nothing waits)."""
    if quote is None:
        return None
    return {
        "lines": [line_words(line, priced=False) for line in quote.lines],
        "total": money(quote.total),
    }


def placed_context(order, quote, now):
    """What placed.txt shows of an order just placed from `quote`."""
    return {
        "order": order,
        "items": [line_words(line, priced=False) for line in quote.lines],
        "total": money(order.total),
        "promised": clock(order.promised_at, now),
        "scheduled": order.is_scheduled,
        "delivery": order.fulfilment == Fulfilment.DELIVERY,
        "link": order_link(order),
        # Paying by link (orders/payment.py): required first, or offered.
        "awaiting": order.status == Status.AWAITING_PAYMENT,
        "due": clock(order.payment_due_by, now),
        "window": settings.PAYMENT_WINDOW_MINUTES,
        "pay_online": payment_online(),
        "pay_link": pay_link(order),
    }


def status_rows(orders, now):
    return [
        {"order": o, "promised": clock(o.promised_at, now), "stage": o.stage_words} for o in orders
    ]
