"""Read what a customer texts: a keyword (MENU, ORDER..., YES, STATUS, CANCEL ORDER, HELP) and
the items of an order. Pure Python: the menu comes in as a list of MenuEntry, so every case
is a table test.
"""

import re
from dataclasses import dataclass

PIZZA_EMOJI = "\U0001f355"
MAX_QUANTITY = 25

SIZES = {
    "s": "S", "sm": "S", "small": "S", "smal": "S",
    "m": "M", "med": "M", "medium": "M", "meduim": "M", "regular": "M", "reg": "M",
    "l": "L", "lg": "L", "lrg": "L", "large": "L", "larg": "L", "big": "L",
}  # fmt: skip
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "couple": 2, "dozen": 12,
}  # fmt: skip
YES_WORDS = {"yes", "y", "yep", "yeah", "yup", "ya", "yea", "ok", "okay", "sure", "confirm"}
NO_WORDS = {"no", "n", "nope", "nah"}
# Words around an order that carry no meaning for it ("I'd like a large pepperoni pizza please").
FILLERS = {
    "please", "pls", "plz", "thanks", "thx", "of", "the", "some", "with", "i", "id", "want",
    "would", "like", "to", "get", "me", "can", "could", "have", "we", "for", "pickup", "pick",
    "up", "collection", "my", "order", "also", "plus", "x",
}  # fmt: skip
GENERIC = {"pizza", "pizzas", "pie", "pies"}
KEYWORDS = ("menu", "order", "status", "help", "cancel")


@dataclass(frozen=True)
class MenuEntry:
    code: str
    name: str
    has_sizes: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    code: str
    quantity: int
    size: str = ""  # "S", "M", "L" or "" (unsized item, or size not given)


@dataclass(frozen=True)
class Command:
    """What a text asks for. `kind` is one of: menu, order, reorder, yes, no, status, cancel,
    help, suggest (a near-miss: `suggestion` is the keyword we think was meant), chat."""

    kind: str
    lines: tuple[Line, ...] = ()
    unknown: tuple[str, ...] = ()
    too_many: tuple[str, ...] = ()
    address: str = ""
    suggestion: str = ""


def normalize(text):
    """Lower case, punctuation to spaces, single spaces: 'Hi!!  MENU?' -> 'hi menu'."""
    text = (text or "").lower().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


def distance(a, b):
    """Edit distance counting a swap of two neighbours as one edit (STAUTS -> STATUS = 1)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _allowed_typos(word):
    return 0 if len(word) < 4 else 1 if len(word) < 9 else 2


def near(word, target):
    """`word` is `target` or a small typo of it."""
    return word == target or (
        len(word) >= 3
        and distance(word, target) <= max(_allowed_typos(target), 1 if len(target) >= 3 else 0)
    )


def _keyword_like(word):
    for keyword in KEYWORDS:
        if word != keyword and len(word) >= 3 and near(word, keyword):
            return keyword
    return None


# --- the menu index ------------------------------------------------------------------------


def _singular(word):
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _phrase_forms(words):
    base = " ".join(words)
    singular = " ".join(_singular(w) for w in words)
    forms = [base, singular]
    without_generic = [w for w in words if w not in GENERIC]
    if without_generic and without_generic != words:
        forms += [" ".join(without_generic), " ".join(_singular(w) for w in without_generic)]
    return list(dict.fromkeys(forms))


class MenuIndex:
    """Finds a menu item from what a customer calls it: its code, name, an alias, a plural
    or a small typo of any of those."""

    def __init__(self, entries):
        self.entries = {e.code.upper(): e for e in entries}
        self.keys = {}
        for entry in entries:
            names = [entry.code, entry.name, *entry.aliases]
            for name in names:
                words = normalize(name).split()
                if words:
                    for form in _phrase_forms(words):
                        self.keys.setdefault(form, entry.code.upper())

    def find(self, words):
        """The code of the item `words` name, or None."""
        if not words:
            return None
        forms = _phrase_forms(words)
        for form in forms:
            if form in self.keys:
                return self.keys[form]
        best, best_distance, tie = None, None, False
        for form in forms:
            for key, code in self.keys.items():
                if len(key) < 4 or abs(len(key) - len(form)) > 2:
                    continue
                d = distance(form, key)
                if d > _allowed_typos(key):
                    continue
                if best_distance is None or d < best_distance:
                    best, best_distance, tie = code, d, False
                elif d == best_distance and code != best:
                    tie = True
        return None if tie else best


# --- orders --------------------------------------------------------------------------------

_DELIVERY = re.compile(
    r"(?:\bfor\s+)?\b(?:deliver(?:ed|y)?|delivery)\s+(?:it\s+|them\s+)?(?:to|at|address)\b[\s:,-]*(?P<address>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_DELIVERY_ONLY = re.compile(r"(?:\bfor\s+)?\bdeliver(?:ed|y)?\W*$", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:,|;|\+|&|\n|\band\b|\bn\b)\s*", re.IGNORECASE)


def _quantity(token):
    if re.fullmatch(r"[0-9]{1,3}", token):
        return int(token)
    if re.fullmatch(r"x[0-9]{1,3}|[0-9]{1,3}x", token):
        return int(token.strip("x"))
    return NUMBER_WORDS.get(token)


def _split_items(text):
    """Chunks of one item each: on commas and 'and', and before a new quantity ('2 pep 1 coke')."""
    chunks = []
    for part in _SPLIT.split(text):
        words = normalize(part).split()
        current = []
        seen_name = False
        for word in words:
            is_number = _quantity(word) is not None and word not in ("a", "an")
            if is_number and seen_name and not re.fullmatch(r"x[0-9]{1,3}", word):
                chunks.append(current)
                current, seen_name = [], False
            current.append(word)
            if _quantity(word) is None and word not in SIZES and word not in FILLERS:
                seen_name = True
        if current:
            chunks.append(current)
    return chunks


def _read_chunk(words, index):
    """(code, quantity, size, leftover words) for one chunk."""
    quantity, size, rest = None, "", []
    for position, word in enumerate(words):
        number = _quantity(word)
        if number is not None and quantity is None and (word not in ("a", "an") or not rest):
            quantity = number
        elif word in SIZES and not size and (len(word) > 1 or position < len(words) - 1):
            size = SIZES[word]
        elif word not in FILLERS:
            rest.append(word)
    code = index.find(rest)
    if code is None and not size:
        # "l pep" read 'l' as a size above; also try a one-letter item code (rare).
        code = index.find([w for w in words if _quantity(w) is None and w not in FILLERS])
    return code, quantity or 1, size, rest


def parse_items(text, entries):
    """Lines, unknown phrases and over-large quantities of an order's text. `entries` may be
    a callable returning them (so the menu is only loaded for texts that need it)."""
    index = MenuIndex(entries() if callable(entries) else entries)
    lines, unknown, too_many, counted = [], [], [], {}
    for chunk in _split_items(text):
        code, quantity, size, rest = _read_chunk(chunk, index)
        if code is None:
            if rest:
                unknown.append(" ".join(rest))
            continue
        entry = index.entries[code]
        size = size if entry.has_sizes else ""
        if quantity > MAX_QUANTITY or quantity < 1:
            too_many.append(entry.name)
            continue
        key = (code, size)
        counted[key] = counted.get(key, 0) + quantity
    for (code, size), quantity in counted.items():
        if quantity > MAX_QUANTITY:
            too_many.append(index.entries[code].name)
        else:
            lines.append(Line(code, quantity, size))
    return tuple(lines), tuple(dict.fromkeys(unknown)), tuple(dict.fromkeys(too_many))


def _order(rest_text, entries):
    address = ""
    match = _DELIVERY.search(rest_text)
    if match:
        address = " ".join(match["address"].split()).strip(" .,!;:-")[:200]
        rest_text = rest_text[: match.start()]
        if not address:
            address = "?"
    elif match := _DELIVERY_ONLY.search(rest_text):
        address, rest_text = "?", rest_text[: match.start()]
    lines, unknown, too_many = parse_items(rest_text, entries)
    if not lines and not unknown and not too_many and not address:
        return Command("reorder")
    return Command("order", lines=lines, unknown=unknown, too_many=too_many, address=address)


def _after_first_word(text):
    """The raw text after its first word, keeping the customer's own spelling (addresses)."""
    parts = text.strip().split(None, 1)
    return parts[1] if len(parts) > 1 else ""


def _looks_like_items(words):
    return bool(words) and (_quantity(words[0]) is not None or words[0] in SIZES)


def parse(text, entries):
    """Read one inbound text. Never raises; anything not understood is `chat`."""
    raw = (text or "")[:2000]
    stripped = raw.replace(PIZZA_EMOJI, " ").strip()
    words = normalize(stripped).split()
    if PIZZA_EMOJI in raw and not words:
        return Command("reorder")
    if PIZZA_EMOJI in raw and words and words[0] not in ("order",):
        return _order(stripped, entries)
    if not words:
        return Command("chat")
    first, rest = words[0], words[1:]
    text_after = _after_first_word(stripped)

    if " ".join(words) in YES_WORDS or (first in YES_WORDS and rest in ([], ["please"], ["pls"])):
        return Command("yes")
    if " ".join(words) in NO_WORDS or words in (["no", "thanks"], ["no", "thank", "you"]):
        return Command("no")
    if first == "cancel" or (near(first, "cancel") and rest[:1] in (["order"], ["my"])):
        target = [w for w in rest if w not in ("my", "the", "this", "that", "please", "pls")]
        if first == "cancel" and target[:1] == ["order"] and len(target) <= 2:
            return Command("cancel")
        return Command("suggest", suggestion="CANCEL ORDER")
    if (
        first in ("status", "track", "tracking", "where")
        and (
            first != "where" or words in (["where", "is", "my", "order"], ["wheres", "my", "order"])
        )
        and len(words) <= 4
    ):
        return Command("status")
    if first == "order" and rest[:1] == ["status"]:
        return Command("status")
    if first in ("help", "info", "commands", "keywords") and len(words) <= 3:
        return Command("help")
    if "menu" in words and len(words) <= 4:
        return Command("menu")
    if first == "order" or first == "reorder":
        if first == "reorder" and not rest:
            return Command("reorder")
        command = _order(text_after, entries)
        if command.kind == "order" and _sounds_like_talk(command, rest):
            return Command("chat")
        return command

    meant = _keyword_like(first)
    if meant == "order" and rest:
        return _order(text_after, entries)
    if meant in ("status", "menu", "help") and len(words) <= 3:
        return Command(meant)
    if meant == "order" and not rest:
        return Command("reorder")
    if len(words) <= 2 and any(near(w, "yes") and len(w) >= 3 for w in words[:1]):
        return Command("suggest", suggestion="YES")
    if _looks_like_items(words):
        command = _order(stripped, entries)
        if command.kind == "order" and command.lines and not command.unknown:
            return command
    return Command("chat")


def _sounds_like_talk(command, rest):
    """'ORDER was cold and late' is a complaint, not items: nothing matched, no numbers."""
    return (
        not command.lines
        and not command.too_many
        and len(rest) >= 3
        and not any(_quantity(w) is not None or w in SIZES for w in rest)
    )
