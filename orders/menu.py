"""The menu as the parser reads it, and the price of a line with its modifiers.

`parser_menu` turns the menu's rows into orders.parser dataclasses in a fixed number of
queries (the items come in already fetched; toppings and crusts are one query each). The
rows are read for every text that needs the menu, so a change staff make in the admin is
seen by the next text in every worker process; what is expensive, the parser's index, is
cached by the menu's value (orders.parser.index_for), so an unchanged menu is indexed once.

`unit_price` is pure: unit price = the item's price for the size + each topping's price for
that size + the crust's surcharge for that size. A half-and-half pizza costs what the dearer
half costs, as in most pizzerias (naming a cheap half does not make a pizza cheaper), with its
toppings and crust on top once.
"""

from dataclasses import dataclass
from decimal import Decimal

from . import parser
from .models import Crust, Topping

SIZE_ORDER = "SML"


def parser_menu(items):
    """A parser.Menu of `items` (MenuItem rows with their prices prefetched) and the available
    toppings and crusts (two queries)."""
    return parser.Menu(
        items=tuple(
            parser.MenuEntry(
                code=item.code,
                name=item.name,
                has_sizes=any(p.size for p in item.prices.all()),
                aliases=item.alias_list,
                category=item.category,
            )
            for item in items
        ),
        toppings=tuple(
            parser.ModifierEntry(t.code, t.name, t.alias_list)
            for t in Topping.objects.filter(available=True)
        ),
        crusts=tuple(
            parser.ModifierEntry(c.code, c.name, c.alias_list)
            for c in Crust.objects.filter(available=True)
        ),
    )


def choose_size(prices, size):
    """The size a line is priced at: the one asked for if the item comes in it; "" for an item
    in one size; else medium (or the middle size). None when the item has no price."""
    if not prices:
        return None
    if size in prices:
        return size
    if "" in prices:
        return ""
    if "M" in prices:
        return "M"
    return sorted(prices, key=SIZE_ORDER.find)[len(prices) // 2]


def unit_price(prices, size, toppings=(), crust=None, half=None):
    """(size, unit price) of one line, or (None, None) when the item has no price.

    `prices` {size: Decimal} of the item; `toppings` a list of {size: Decimal}; `crust`
    {size: Decimal} surcharges or None; `half` the other half's {size: Decimal} or None.
    Modifiers of an item in one size (size "") are priced at their medium price."""
    chosen = choose_size(prices, size)
    if chosen is None:
        return None, None
    base = prices[chosen]
    if half:
        other = half.get(chosen)
        base = max(base, other) if other is not None else base
    at = chosen or "M"
    extras = sum((t.get(at, Decimal("0")) for t in toppings), Decimal("0"))
    if crust:
        extras += crust.get(at, Decimal("0"))
    return chosen, base + extras


@dataclass
class Modifiers:
    """The toppings and crusts a quote prices lines with, by code (upper case)."""

    toppings: dict
    crusts: dict

    @classmethod
    def for_lines(cls, lines):
        """Read only when some line has modifiers (two queries), else none."""
        if not any(getattr(line, "toppings", ()) or getattr(line, "crust", "") for line in lines):
            return cls({}, {})
        return cls(
            {t.code.upper(): t for t in Topping.objects.all()},
            {c.code.upper(): c for c in Crust.objects.all()},
        )


def price_line(item, line, by_code, modifiers):
    """(size, unit price) of parser.Line `line` for MenuItem `item` (prices prefetched);
    `by_code` the menu's items by code, for the other half."""
    prices = {p.size: p.price for p in item.prices.all()}
    toppings = [modifiers.toppings[c].prices for c in line.toppings if c in modifiers.toppings]
    crust = modifiers.crusts.get(line.crust)
    half = by_code.get(line.half) if line.half else None
    half_prices = {p.size: p.price for p in half.prices.all()} if half else None
    return unit_price(
        prices, line.size, toppings, crust.prices if crust else None, half=half_prices
    )


def line_details(line, by_code, modifiers, size):
    """What a quote keeps of a line's modifiers: {"modifiers": {...}, "note": str}, in the
    shape of OrderItem.modifiers (prices as strings, at the priced size)."""
    at = size or "M"
    chosen = {}
    toppings = [modifiers.toppings[c] for c in line.toppings if c in modifiers.toppings]
    if toppings:
        chosen["toppings"] = [
            {"code": t.code, "name": t.name, "price": str(t.prices[at])} for t in toppings
        ]
    if crust := modifiers.crusts.get(line.crust):
        chosen["crust"] = {"code": crust.code, "name": crust.name, "price": str(crust.prices[at])}
    if half := by_code.get(line.half) if line.half else None:
        chosen["half"] = {"code": half.code, "name": half.name}
    return {"modifiers": chosen, "note": line.note}
