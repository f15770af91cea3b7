"""The menu as the conversation reads it, and the price of a line with its modifiers.

`current()` is the menu as plain, immutable data (`Menu`: the available items with their
prices and when a sold-out one is back, every topping and crust, the parser's menu and its
index, the MENU text's sections), kept per process under `MenuVersion`'s token. Every write
to the menu's rows changes that token in the writer's transaction (`menu_changed`, connected
to the menu models' post_save and post_delete in orders.apps; writes that send no signals,
such as bulk_create or QuerySet.update, call it themselves), so each text costs one query
for the token, and a change staff make in the admin is seen by the next text in every worker
process: the token is read before the rows, so a menu read while staff saved is kept under
the old token at worst, and read again at the next text.

`unit_price` is pure: unit price = the item's price for the size + each topping's price for
that size + the crust's surcharge for that size. A half-and-half pizza costs what the dearer
half costs, as in most pizzerias (naming a cheap half does not make a pizza cheaper), with its
toppings and crust on top once. A topping on one half only costs half its price, rounded up
to the cent ("half pepperoni, half mushroom" on a plain large: the plain's price + half of
each topping's).
"""

import uuid
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal
from functools import cached_property

from . import parser
from .models import Crust, Deal, MenuItem, MenuPrice, MenuVersion, Topping
from .texts import menu_sections

SIZE_ORDER = "SML"


@dataclass(frozen=True)
class Item:
    """An available menu item: `prices` {size: Decimal} ("" for an item in one size)."""

    pk: int
    code: str
    name: str
    category: str
    aliases: tuple[str, ...]
    prices: dict = field(hash=False)
    sold_out_until: object = field(default=None, hash=False, compare=False)

    def sold_out(self, now):
        return self.sold_out_until is not None and self.sold_out_until > now


@dataclass(frozen=True)
class Modifier:
    """A topping or a crust: `prices` {"S", "M", "L": Decimal} it adds to a pizza."""

    code: str
    name: str
    aliases: tuple[str, ...]
    available: bool
    prices: dict = field(hash=False)
    sold_out_until: object = field(default=None, hash=False, compare=False)

    def sold_out(self, now):
        return self.sold_out_until is not None and self.sold_out_until > now


@dataclass(frozen=True, eq=False)
class Menu:
    """The menu at one version: `items` available, in menu order; `toppings` and `crusts` all
    of them (a reorder prices what it had, as staff priced it), available or not."""

    version: str
    items: tuple[Item, ...]
    toppings: tuple[Modifier, ...]
    crusts: tuple[Modifier, ...]
    deals: tuple = ()  # orders.models.Deal rows marked active (their dates are checked on use)

    def deal_for(self, word):
        """The active deal whose code is `word` (any case), or None."""
        word = (word or "").upper()
        return next((deal for deal in self.deals if deal.code.upper() == word), None)

    def sold_out(self, now):
        """The names of what is sold out tonight at `now` ("86": orders/soldout.py), in menu
        order: items, then toppings, then crusts."""
        return [
            thing.name
            for thing in (*self.items, *self.toppings, *self.crusts)
            if thing.sold_out(now) and getattr(thing, "available", True)
        ]

    def sold_out_in(self, line, now):
        """What of parser.Line `line` is sold out at `now`: [(kind, thing)], kind "item",
        "topping" or "crust" (an item on either half is an "item")."""
        out = []
        for code in filter(None, (line.code, line.half)):
            if (item := self.by_code.get(code)) and item.sold_out(now):
                out.append(("item", item))
        toppings = self.modifiers.toppings
        for code in dict.fromkeys((*line.toppings, *line.left, *line.right)):
            if (topping := toppings.get(code)) and topping.sold_out(now):
                out.append(("topping", topping))
        if (crust := self.modifiers.crusts.get(line.crust)) and crust.sold_out(now):
            out.append(("crust", crust))
        return out

    def instead(self, kind, thing, now, most=2):
        """What we do have instead of sold-out `thing`: up to `most` of its kind on sale, the
        nearest in menu order first (an item: of its category)."""
        if kind == "item":
            pool = [i for i in self.items if i.category == thing.category]
        else:
            pool = [m for m in (self.toppings if kind == "topping" else self.crusts) if m.available]
        if thing not in pool:
            return []
        at = pool.index(thing)
        nearest = sorted(range(len(pool)), key=lambda i: (abs(i - at), i))
        return [pool[i].name for i in nearest if not pool[i].sold_out(now)][:most]

    @cached_property
    def by_code(self):
        return {item.code.upper(): item for item in self.items}

    @cached_property
    def modifiers(self):
        return Modifiers(
            {t.code.upper(): t for t in self.toppings}, {c.code.upper(): c for c in self.crusts}
        )

    @cached_property
    def parser(self):
        """What the parser reads: a parser.Menu of what is available."""
        return parser.Menu(
            items=tuple(
                parser.MenuEntry(
                    code=item.code,
                    name=item.name,
                    has_sizes=any(item.prices),
                    aliases=item.aliases,
                    category=item.category,
                )
                for item in self.items
            ),
            toppings=tuple(
                parser.ModifierEntry(t.code, t.name, t.aliases)
                for t in self.toppings
                if t.available
            ),
            crusts=tuple(
                parser.ModifierEntry(c.code, c.name, c.aliases) for c in self.crusts if c.available
            ),
        )

    @cached_property
    def index(self):
        return parser.index_for(self.parser)

    @cached_property
    def sections(self):
        return menu_sections(self.items)


_last = None  # this process's last read: a Menu


def current():
    """The menu now: one query (the version's token) when nothing changed since this process
    last read it, else six."""
    global _last
    version = read_version()
    last = _last
    if last is not None and version is not None and last.version == version:
        return last
    menu = read(version)
    if version is not None:
        _last = menu
    return menu


def read_version():
    """The version's token, or None when the row is missing."""
    return MenuVersion.objects.filter(pk=1).values_list("token", flat=True).first()


def read(version):
    """The menu's rows as a Menu (five queries whatever the menu's size)."""
    prices = {}
    for item_id, size, price in MenuPrice.objects.filter(item__available=True).values_list(
        "item_id", "size", "price"
    ):
        prices.setdefault(item_id, {})[size] = price
    items = tuple(
        Item(i.pk, i.code, i.name, i.category, i.alias_list, prices.get(i.pk, {}), i.sold_out_until)
        for i in MenuItem.objects.filter(available=True)
    )
    toppings, crusts = (
        tuple(
            Modifier(m.code, m.name, m.alias_list, m.available, m.prices, m.sold_out_until)
            for m in model.objects.all()
        )
        for model in (Topping, Crust)
    )
    deals = tuple(Deal.objects.filter(active=True))
    return Menu(version or "", items, toppings, crusts, deals)


def menu_changed(**kwargs):
    """A new token for the menu, in the caller's transaction (a signal receiver too)."""
    token = uuid.uuid4().hex
    versions = MenuVersion.objects.filter(pk=1)
    if not versions.update(token=token):
        # Only after a flush of the tables: the migration made the row.
        MenuVersion.objects.bulk_create([MenuVersion(pk=1, token=token)], ignore_conflicts=True)
        versions.update(token=token)


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


def unit_price(prices, size, toppings=(), crust=None, half=None, halves=()):
    """(size, unit price) of one line, or (None, None) when the item has no price.

    `prices` {size: Decimal} of the item; `toppings` a list of {size: Decimal}; `crust`
    {size: Decimal} surcharges or None; `half` the other half's {size: Decimal} or None;
    `halves` a list of {size: Decimal} of toppings on one half only (half price each).
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
    extras += sum((half_price(t.get(at, Decimal("0"))) for t in halves), Decimal("0"))
    if crust:
        extras += crust.get(at, Decimal("0"))
    return chosen, base + extras


def half_price(price):
    """What a topping on one half costs: half its price, rounded up to the cent."""
    return (Decimal(price) / 2).quantize(Decimal("0.01"), ROUND_UP)


@dataclass
class Modifiers:
    """The toppings and crusts a quote prices lines with, by code (upper case)."""

    toppings: dict
    crusts: dict


def price_line(item, line, by_code, modifiers):
    """(size, unit price) of parser.Line `line` for Item `item`; `by_code` the menu's items
    by code, for the other half."""
    toppings = [modifiers.toppings[c].prices for c in line.toppings if c in modifiers.toppings]
    crust = modifiers.crusts.get(line.crust)
    half = by_code.get(line.half) if line.half else None
    halves = [
        modifiers.toppings[c].prices for c in (*line.left, *line.right) if c in modifiers.toppings
    ]
    return unit_price(
        item.prices, line.size, toppings, crust.prices if crust else None,
        half=half.prices if half else None, halves=halves,
    )  # fmt: skip


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
    for side in ("left", "right"):
        on_half = [modifiers.toppings[c] for c in getattr(line, side) if c in modifiers.toppings]
        if on_half:
            chosen[side] = [
                {"code": t.code, "name": t.name, "price": str(half_price(t.prices[at]))}
                for t in on_half
            ]
    return {"modifiers": chosen, "note": line.note}
