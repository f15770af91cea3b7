"""Sold out tonight ("86"): staff mark a menu item, topping or crust sold out in one tap
from the board (or the admin's action), and back.

A sold-out thing stays on the menu the parser reads, so "with mushrooms" is still
understood, but nothing sells it: a quote asking for it is not made (the reply says what
is out and what we have instead, `SoldOut`), a quote that waited for YES is not placed
as is, "the usual" leaves it out and says so, and MENU names it. It comes back by itself
at the next opening (`until`): the opening after the service running now or, when the
shop is closed, after the one coming next (staff marking it before opening mean that
evening). A shop always open gets it back at midnight.
"""

from dataclasses import replace
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .errors import SoldOut
from .hours import local, shop_hours
from .models import Crust, MenuItem, Topping

KINDS = {"item": MenuItem, "topping": Topping, "crust": Crust}


def until(now=None):
    """When something sold out now comes back by itself (see the module's docstring)."""
    here = local(now or timezone.now())
    hours = shop_hours()
    start = here if hours.is_open(here) else (hours.next_opening(here) or here)
    back = hours.next_opening(start)
    if back is None or back <= here:
        back = (here + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return back


def mark(kind, pk, sold_out, now=None):
    """Mark the menu row of `kind` ("item", "topping", "crust") sold out until the next
    opening, or back on sale. Returns the row (None if unknown). Saved with save(): the
    menu's version changes with it (orders.menu.menu_changed)."""
    model = KINDS[kind]
    with transaction.atomic():
        row = model.objects.select_for_update().filter(pk=pk).first()
        if row is None:
            return None
        row.sold_out_until = until(now) if sold_out else None
        row.save(update_fields=["sold_out_until"])
    return row


def check(lines, menu, now):
    """Raise SoldOut when any of `lines` (parser.Line) asks for what is sold out at `now`."""
    out = [found for line in lines for found in menu.sold_out_in(line, now)]
    if out:
        names = list(dict.fromkeys(thing.name for _, thing in out))
        kind, thing = out[0]
        raise SoldOut(names, menu.instead(kind, thing, now))


def without_sold_out(lines, menu, now):
    """`lines` with what is sold out at `now` left out: a sold-out topping or crust comes off
    its line, a line of a sold-out item (either half) goes. (lines, names left out)."""
    kept, names = [], []
    for line in lines:
        out = menu.sold_out_in(line, now)
        if not out:
            kept.append(line)
            continue
        names.extend(thing.name for _, thing in out)
        if any(kind == "item" for kind, _ in out):
            continue
        gone = {thing.code.upper() for _, thing in out}
        kept.append(
            replace(
                line,
                toppings=tuple(c for c in line.toppings if c not in gone),
                left=tuple(c for c in line.left if c not in gone),
                right=tuple(c for c in line.right if c not in gone),
                crust="" if line.crust in gone else line.crust,
            )
        )
    return kept, list(dict.fromkeys(names))
