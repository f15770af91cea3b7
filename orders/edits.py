"""Changes to a quote waiting for YES, said in words: the one place that holds the editing
rules, for texts and calls alike (the conversation asks `read` before anything else when a
quote waits).

After "1x Pepperoni M $13 ... Reply YES", customers write the change, not a new order:

- the quantity: "can you make that 2", "make the pepperoni 3", "que sean 2";
- an item more: "oh and garlic bread", "add a sprite", "y una coca";
- an item less: "no drink", "remove the garlic bread", "sin la coca";
- a line changed: "make the pepperoni thin crust", "with extra cheese", "make it large",
  "cámbiala a grande", "no onions";
- pickup or delivery: "switch it to delivery to 4 Pine St", "make it pickup";
- the time: "actually for 7:30", "at 8 instead", "mejor a las 8".

Each is read against the waiting quote's lines with the same parser as an order (item,
topping and crust names, sizes, times), so what a text order understands a change does too.
The result is the whole new quote (the conversation quotes it as any order, YES places
exactly it). A change that fits several lines is asked back with the choices, never guessed.
A text that is none of these is left to the conversation as before (a new ORDER replaces
the quote, as it always did).
"""

import re
from dataclasses import dataclass, replace

from .hours import local
from .parser import NUMBER_WORDS, fold, parse
from .quotes import line_of

# Words that open a change rather than an order, in English and Spanish.
FILLER = r"(?:oh|ok|okay|um|uh|actually|wait|sorry|mejor|please|hey|hi|hola)"
LEAD = re.compile(rf"^(?:{FILLER}[\s,]+)+")
ADD = re.compile(r"^(?:add|and|plus|also|y|agrega|agregale|anade|anadele|tambien|ademas)\s+(.+)$")
REMOVE = re.compile(
    r"^(?:no|remove|take off|take out|drop|without|cancel|lose|sin|quita|quitale|quitame|"
    r"elimina)\s+(?:the\s+|la\s+|el\s+|las\s+|los\s+|my\s+)?(.+?)(?:\s+please)?$"
)
QUANTITY = re.compile(
    r"^(?:can you\s+|could you\s+)?(?:make|change|hazla|hazlas|hazlo|que sean|ponle)\s+"
    r"(?:(?:that|it|them|this|those|it to|that to)\s+|(?:the|la|el|las|los)\s+(?P<item>.+?)\s+)?"
    r"(?:to\s+|a\s+)?(?P<n>\d{1,2}|[a-z]+)(?:\s+of them|\s+instead|\s+please)?$"
)
PICKUP = re.compile(
    r"^(?:(?:make|switch|change)\s+(?:it|that)\s+(?:to\s+)?|(?:i ll|ill|we ll|i will)\s+)?"
    r"(?:pickup|pick up|pick it up|collection|para recoger|recoger|paso a recoger)"
    r"(?:\s+instead)?$"
)
DELIVERY = re.compile(
    r"^(?:(?:switch|change|make)\s+(?:it|that)\s+(?:to\s+)?)?"
    r"(?:delivery|deliver it|deliver|delivered|a domicilio|llevalo|llevala|entrega)"
    r"(?:\s+(?:to|at|a|en)\s+(?P<address>.+))?(?:\s+instead)?$"
)
TIME = re.compile(
    r"^(?:(?:make it|change it to|switch it to)\s+)?(?:for|at|a las|para las|a la)\s+"
    r"(?P<time>\d{1,2}(?::\d{2})?\s*(?:am|pm|a m|p m)?)(?:\s+instead)?$"
)
MODIFY = re.compile(
    r"^(?:(?:make|change|switch|cambia|cambiala|cambialo|hazla|hazlo)\s+)?"
    r"(?:(?:it|that|them|this)\s+)?(?P<rest>.+?)(?:\s+instead)?$"
)
THE = re.compile(r"^(?:the|la|el|my|mi)\s+")
NO_BUT = re.compile(r"^no\s+(?:i said\s+)?(.+)$")
ANOTHER = re.compile(r"^(?:another|one more|an extra|otra|otro|una mas|uno mas)\s+")
DRINKS = {"drink", "drinks", "soda", "sodas", "pop", "bebida", "bebidas", "refresco", "refrescos"}
SIDES = {"side", "sides", "guarnicion", "entrada"}


@dataclass(frozen=True)
class Edit:
    """What a change makes of the quote: its new lines, address and time; or `ask`, the
    lines it could be about when it fits several (the conversation asks which)."""

    lines: tuple = ()
    address: str = ""
    when: object = None  # a time of day, or None for the earliest
    ask: tuple = ()  # the quote's line names it might mean
    gone: tuple = ()  # names of lines left out: off the menu since they were quoted


def read(text, quote, index, items):
    """The change `text` makes to `quote` (an Edit), or None when it is not a change.
    `index` and `items`: the menu's (orders.menu.Menu.index, .by_code)."""
    words = fold(text).replace("'", " ").replace(",", " ").split()  # "no, make it 3"
    said = LEAD.sub("", " ".join(words)).strip(" .!?")
    if not said:
        return None
    on_menu = [d for d in quote.lines if d["code"].upper() in items]
    gone = tuple(d["name"] for d in quote.lines if d["code"].upper() not in items)
    edit = Edit(tuple(line_of(d) for d in on_menu), quote.address, _when(quote), gone=gone)
    for rule in (_time, _pickup, _delivery, _quantity, _correction, _remove, _add, _modify):
        found = rule(said, edit, index, items) if rule is not _delivery else rule(said, edit, text)
        if found is not None:
            return found if found.ask or found.lines else None
    return None


def _when(quote):
    return local(quote.scheduled_for).time() if quote.scheduled_for else None


def _time(said, edit, index, items):
    found = TIME.match(said)
    if not found:
        return None
    command = parse(f"order 1 {edit.lines[0].code} at {found['time']}", index)
    if command.scheduled_for is None:
        return None
    return replace(edit, when=command.scheduled_for)


def _pickup(said, edit, index, items):
    return replace(edit, address="") if PICKUP.match(said) else None


def _delivery(said, edit, text):
    found = DELIVERY.match(said)
    if not found:
        return None
    address = found["address"]
    if not address:
        return replace(edit, address="?")
    # The address as written (case and all) where the folded text has it.
    raw = " ".join((text or "").replace("'", " ").split())
    at = fold(raw).rfind(address)
    if at >= 0 and len(fold(raw)) == len(raw):
        address = raw[at : at + len(address)]
    return replace(edit, address=address.strip()[:200])


def _number(word):
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word)


def _quantity(said, edit, index, items):
    found = QUANTITY.match(said)
    if not found:
        return None
    quantity = _number(found["n"])
    if not quantity:
        return None
    targets = _targets(edit, found["item"], index, items)
    if len(targets) != 1:
        return replace(edit, lines=(), ask=_names(edit, targets, items))
    (at,) = targets
    return _with_line(edit, at, replace(edit.lines[at], quantity=quantity))


def _correction(said, edit, index, items):
    """ "no, large", "no, make it 3", "no, for 8 pm": what was read back corrected, not
    something taken off (a quantity, a time, pickup, a size or crust: never a topping)."""
    found = NO_BUT.match(said)
    if not found:
        return None
    for rule in (_time, _pickup, _quantity):
        if (changed := rule(found[1], edit, index, items)) is not None:
            return changed
    changed = _modify(found[1], edit, index, items)
    if changed is None or changed.ask:
        return None
    toppings = [line.toppings for line in edit.lines]
    if changed.lines == edit.lines or [line.toppings for line in changed.lines] != toppings:
        return None  # not a size or crust said again: "no onions" takes them off (_remove)
    return changed


def _remove(said, edit, index, items):
    found = REMOVE.match(said)
    if not found:
        return None
    what = found[1]
    words = set(what.split())
    if words & DRINKS or words & SIDES:
        category = "drink" if words & DRINKS else "side"
        kept = tuple(line for line in edit.lines if items[line.code].category != category)
        return replace(edit, lines=kept) if len(kept) < len(edit.lines) else None
    command = parse(f"order 1 {what}", index)
    codes = {line.code for line in command.lines}
    kept = tuple(line for line in edit.lines if line.code not in codes)
    if codes and len(kept) < len(edit.lines) and not command.unknown:
        return replace(edit, lines=kept)
    return _without_toppings(what, edit, index, items)


def _without_toppings(what, edit, index, items):
    """ "no onions": the topping off every line that has it."""
    pizza = next((line.code for line in edit.lines if items[line.code].prices), "")
    if not pizza:
        return None
    command = parse(f"order 1 {pizza} with {what}", index)
    if len(command.lines) != 1 or command.unknown:
        return None
    gone = set(command.lines[0].toppings)
    if not gone:
        return None
    lines = tuple(
        replace(line, toppings=tuple(t for t in line.toppings if t not in gone))
        for line in edit.lines
    )
    return replace(edit, lines=lines) if lines != edit.lines else None


def _add(said, edit, index, items):
    found = ADD.match(said)
    if not found:
        return None
    more = ANOTHER.sub("1 ", found[1])  # "another coke", "one more coke", "otra coca"
    command = parse(f"order {more}", index)
    if command.lines and not command.unknown and not command.ambiguous:
        lines = list(edit.lines)
        for new in command.lines:  # one more of a line already there adds to it
            same = [i for i, old in enumerate(lines) if replace(old, quantity=new.quantity) == new]
            if same:
                lines[same[0]] = replace(
                    lines[same[0]], quantity=lines[same[0]].quantity + new.quantity
                )
            else:
                lines.append(new)
        return replace(edit, lines=tuple(lines))
    return _modify(found[1], edit, index, items)


def _modify(said, edit, index, items):
    """A size, crust or toppings for one line: "make the pepperoni thin crust", "large"."""
    found = MODIFY.match(said)
    if not found or not found["rest"]:
        return None
    rest = THE.sub("", found["rest"])
    words = rest.split()
    for cut in range(min(3, len(words) - 1), 0, -1):  # "the pepperoni thin crust"
        item = " ".join(words[:cut])
        targets = _targets(edit, item, index, items, sized=True)
        if targets:
            changed = _modified(" ".join(words[cut:]), targets, edit, index, items)
            if changed is not None:
                return changed
    return _modified(rest, _targets(edit, None, index, items, sized=True), edit, index, items)


def _modified(rest, targets, edit, index, items):
    if not targets or not rest:
        return None
    probe = edit.lines[targets[0]].code
    command = parse(f"order 1 {probe} {rest}", index)
    if len(command.lines) != 1 or command.unknown or command.ambiguous:
        return None
    change = command.lines[0]
    sized = bool(command.lines[0].size) and probe not in command.unsized
    if not (sized or change.crust or change.toppings):
        return None
    if len(targets) > 1:
        return replace(edit, lines=(), ask=_names(edit, targets, items))
    (at,) = targets
    line = edit.lines[at]
    line = replace(
        line,
        size=change.size if sized else line.size,
        crust=change.crust or line.crust,
        toppings=line.toppings + tuple(t for t in change.toppings if t not in line.toppings),
    )
    return _with_line(edit, at, line)


def _targets(edit, item, index, items, sized=False):
    """The positions of the quote's lines `item` names, or of every line (that comes in
    sizes, with `sized`) when it names none."""
    if item:
        command = parse(f"order 1 {item}", index)
        codes = {line.code for line in command.lines}
        return [i for i, line in enumerate(edit.lines) if line.code in codes]
    return [i for i, line in enumerate(edit.lines) if not sized or items[line.code].prices.get("L")]


def _names(edit, targets, items):
    return tuple(items[edit.lines[i].code].name for i in (targets or range(len(edit.lines))))


def _with_line(edit, at, line):
    return replace(edit, lines=edit.lines[:at] + (line,) + edit.lines[at + 1 :])
