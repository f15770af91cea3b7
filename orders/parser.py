"""Read what a customer texts, in English or Spanish, with or without keywords: intents (menu,
status, cancel, reorder, yes/no, help), order lines with toppings, crust, half-and-half and
kitchen notes, a pickup/delivery time and an address. Pure Python: the menu comes in as
dataclasses (a `Menu`, or a plain list of `MenuEntry`), so every case is a table test.

What is not understood is said, never dropped: `Command.unknown` (phrases not on the menu),
`ambiguous` (a phrase that fits several items, with the candidates), `unsupported_sizes`
("xl"), `unsized` (items that come in sizes, ordered without one), `too_many`.
"""

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import time
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .language import detect_language, said_language

PIZZA_EMOJI = "\U0001f355"
THUMBS_UP = ("\U0001f44d", "\U0001f44d\U0001f3fb", "\U0001f44d\U0001f3fc", "\U0001f44c")
MAX_QUANTITY = 25
MAX_NOTE = 100

SIZES = {
    "s": "S", "sm": "S", "small": "S", "smal": "S", "pequena": "S", "pequeno": "S",
    "chica": "S", "chico": "S",
    "m": "M", "med": "M", "medium": "M", "meduim": "M", "regular": "M", "reg": "M",
    "mediana": "M", "mediano": "M",
    "l": "L", "lg": "L", "lrg": "L", "large": "L", "larg": "L", "big": "L", "grande": "L",
}  # fmt: skip
# Sizes customers name that the shop does not make: kept, so the reply can say what we make.
UNSUPPORTED_SIZES = (
    "xl", "xxl", "xlarge", "x large", "extra large", "extra grande", "family", "familiar",
    "jumbo", "personal", "individual", "mini",
)  # fmt: skip
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "couple": 2, "dozen": 12,
    "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
}  # fmt: skip
ARTICLES = {"a", "an", "un", "una"}
YES_WORDS = {
    "yes", "y", "yep", "yeah", "yup", "ya", "yea", "ok", "okay", "sure", "confirm", "si",
    "claro", "dale", "vale", "correcto", "confirmo", "perfecto", "yes please", "si por favor",
    "ok thanks", "yes thanks", "sounds good", "de acuerdo", "si gracias", "yes pls", "si porfa",
    "thats right", "that is right", "correct", "thats correct", "yes correct", "go ahead",
    "yes go ahead", "place it", "yes place it", "asi es", "esta bien",
}  # fmt: skip
NO_WORDS = {
    "no", "n", "nope", "nah", "no thanks", "no thank you", "no gracias", "nel", "no no",
}  # fmt: skip
# Words around an order that carry no meaning for it ("I'd like a large pepperoni pizza please").
FILLERS = {
    "please", "pls", "plz", "thanks", "thx", "of", "the", "some", "with", "i", "id", "want",
    "would", "like", "to", "get", "me", "can", "could", "have", "we", "for", "pickup", "pick",
    "up", "collection", "my", "order", "also", "plus", "x",
    "hi", "hello", "hey", "ill", "gimme", "give", "need", "just", "and", "w", "add", "extra",
    "today", "tonight", "now", "ok", "okay", "yo", "may", "is", "it", "be", "they", "them",
    "that", "this", "u", "you", "guys", "do", "thank", "go", "take", "out", "takeout", "on",
    "quiero", "quisiera", "queria", "dame", "deme", "pedir", "ordenar", "mandame", "traeme",
    "puedo", "podria", "gustaria", "de", "del", "la", "el", "los", "las", "por", "favor",
    "porfa", "para", "llevar", "recoger", "hola", "buenas", "buenos", "gracias", "con", "mi",
    "orden", "pedido", "tambien", "hoy", "noche", "necesito", "manda", "y", "e", "da", "das",
    "den", "send", "bring", "at", "party", "size", "unas", "unos",
    # greetings, politeness and talk around an order ("Good morning! ... then, thanks!")
    "good", "morning", "afternoon", "evening", "then", "cn", "cud", "wanna", "lemme", "let",
    "us", "um", "uh", "so", "actually", "both", "all", "each", "hiya", "yall", "sir", "maam",
    "dias", "tardes", "noches", "porfavor", "ambas", "ambos", "todas", "todos", "cada",
    "entonces", "pues", "bueno", "oye", "ordering", "ready", "there", "sorry", "oops",
}  # fmt: skip
# Words that make a size apply to every line without one: "one pep and one marg, both large".
EVERY_WORDS = {"both", "all", "each", "ambas", "ambos", "todas", "todos", "cada"}
# Item and topping words in Spanish, tried when a word is not on the menu as written (a
# shop's own aliases are matched first): "una hawaiana grande", "pizza de queso".
SPANISH_NAMES = {
    "queso": "cheese", "quesos": "cheese", "hawaiana": "hawaiian", "vegetariana": "veggie",
    "vegetal": "veggie", "carnes": "meat", "carne": "meat", "pollo": "chicken",
    "alitas": "wings", "ajo": "garlic", "pan": "bread", "ensalada": "salad", "agua": "water",
    "champinon": "mushroom", "champinones": "mushrooms", "cebolla": "onion",
    "cebollas": "onions", "jamon": "ham", "pina": "pineapple", "tocino": "bacon",
    "salchicha": "sausage", "aceitunas": "olives", "espinaca": "spinach", "refresco": "coke",
    "cuatro": "four", "margarita": "margherita", "peperoni": "pepperoni",
}  # fmt: skip
# What a plain pizza is called, the base of "a pizza half pepperoni half mushroom".
PLAIN_NAMES = {("cheese",), ("plain",), ("plain", "cheese"), ("queso",)}
PLAIN_ALIASES = {("cheese", "pizza"), ("plain",), ("plain", "cheese"), ("plain", "pizza")}
# Words that say the text is a request, so unmatched words in it are named back, not ignored.
REQUEST_WORDS = {
    "want", "like", "get", "have", "order", "need", "ill", "gimme", "give", "send", "bring",
    "quiero", "quisiera", "queria", "dame", "deme", "pedir", "ordenar", "mandame", "traeme",
    "necesito", "manda", "gustaria",
}  # fmt: skip
GENERIC = {"pizza", "pizzas", "pie", "pies", "pizzza", "piza"}
HALF_WORDS = {"half", "mitad", "halves"}
NEGATIONS = {"no", "sin", "without", "hold", "light", "less", "easy"}
# Kitchen notes kept on the line as the customer wrote them.
NOTE_PHRASES = (
    "well done", "extra crispy", "crispy", "cut in squares", "cut into squares", "square cut",
    "squares", "uncut", "not cut", "dont cut", "no cut", "double cut", "extra sauce",
    "light sauce", "light cheese", "bien cocida", "bien cocido", "bien hecha", "bien dorada",
    "crujiente", "cortada en cuadros", "en cuadros", "sin cortar", "well cooked",
    "extra well done", "cut in 8", "cut in 12", "not too crispy", "on the side",
)  # fmt: skip
KEYWORDS = ("menu", "order", "status", "help", "cancel")
CANCEL_WORDS = {"cancel", "cancela", "cancelar", "cancelen", "cancele", "cancelo"}
ORDER_WORDS = {"order", "pedido", "orden", "pizza", "pizzas", "food", "comida"}


# --- what the parser returns ---------------------------------------------------------------


@dataclass(frozen=True)
class MenuEntry:
    """An item on the menu. `category` ("pizza", "side", "drink") tells which items a bare
    "a pizza" may mean; without it, items with sizes are taken for pizzas."""

    code: str
    name: str
    has_sizes: bool = False
    aliases: tuple[str, ...] = ()
    category: str = ""


@dataclass(frozen=True)
class ModifierEntry:
    """A topping or a crust: its code, its name and what else customers call it."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Menu:
    items: tuple[MenuEntry, ...]
    toppings: tuple[ModifierEntry, ...] = ()
    crusts: tuple[ModifierEntry, ...] = ()


@dataclass(frozen=True)
class Line:
    """One line of an order. `size` is "S", "M", "L" or "" (unsized item, or size not given:
    see Command.unsized). `toppings` are topping codes in the order named; `crust` a crust
    code or "" (the house crust); `half` the code of the other half of a half-and-half pizza
    or ""; `note` the customer's own words for the kitchen ("well done; no onions");
    `left` and `right` toppings on one half only: `left` on the half that is `code`, `right`
    on the other (`half`'s, when there is one): "a pizza half pepperoni half mushroom" is
    the plain pizza with left ("TPEP",) and right ("MUSH",)."""

    code: str
    quantity: int
    size: str = ""
    toppings: tuple[str, ...] = ()
    crust: str = ""
    half: str = ""
    note: str = ""
    left: tuple[str, ...] = ()
    right: tuple[str, ...] = ()


@dataclass(frozen=True)
class Choice:
    """A phrase that fits several menu items ("chicken", "a pizza"): `options` are their
    codes, best first; `line` is what else was said about it (quantity, size, toppings...),
    with code ""."""

    phrase: str
    options: tuple[str, ...]
    line: Line


@dataclass(frozen=True)
class Command:
    """What a text asks for. `kind` is one of: menu, order, reorder, yes, no, status, cancel,
    help, suggest (a near-miss: `suggestion` is the keyword we think was meant), chat.

    For orders: `lines`; `unknown` phrases not on the menu; `too_many` names of items asked
    more than MAX_QUANTITY of; `address` ("?" when delivery was asked without one);
    `ambiguous` Choices to ask back; `unsupported_sizes` sizes named that we do not make
    (as written, "xl"); `unsized` codes of items that come in sizes, ordered without one.
    For every kind: `language` "en" or "es" (the text's likelier language); `language_said`
    the same when the text clearly says which, else "" (language.said_language);
    `scheduled_for` the time of day asked for ("for pickup at 7pm", "a las 7"), a
    datetime.time, or None."""

    kind: str
    lines: tuple[Line, ...] = ()
    unknown: tuple[str, ...] = ()
    too_many: tuple[str, ...] = ()
    address: str = ""
    suggestion: str = ""
    language: str = "en"
    language_said: str = ""
    scheduled_for: time | None = None
    ambiguous: tuple[Choice, ...] = ()
    unsupported_sizes: tuple[str, ...] = ()
    unsized: tuple[str, ...] = ()


# --- words ---------------------------------------------------------------------------------


def fold(text):
    """Lower case without accents: 'Menú Pequeña' -> 'menu pequena'."""
    text = (text or "").lower()
    if text.isascii():
        return text
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


def normalize(text):
    """Lower case, no accents, punctuation to spaces, single spaces: 'Hi!!  MENÚ?' -> 'hi menu'."""
    text = fold(text).replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


def distance(a, b):
    """Edit distance counting a swap of two neighbours as one edit (STAUTS -> STATUS = 1)."""
    return OSA.distance(a, b)


def _allowed_typos(word):
    return 0 if len(word) < 4 else 1 if len(word) < 9 else 2


def near(word, target):
    """`word` is `target` or a small typo of it."""
    return word == target or (
        len(word) >= 3
        and distance(word, target) <= max(_allowed_typos(target), 1 if len(target) >= 3 else 0)
    )


def _fuzzy_typos(word):
    """Typos allowed when matching the menu: none in words under 5 letters ('cold' is not
    'cola'), one up to 8, two beyond."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def _keyword_like(word):
    for keyword in KEYWORDS:
        if word != keyword and len(word) >= 3 and near(word, keyword):
            return keyword
    return None


def _singular(word):
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def phrase_key(name):
    """How the menu's index keys a name, code or alias as written ("Pepperoni Pizzas" ->
    ("pepperoni",)): two names with one key mean the same thing to the parser."""
    return _key(normalize(name).split())


def _key(words):
    """How a phrase is looked up: singular words, without 'pizza'."""
    return tuple(_singular(w) for w in words if w not in GENERIC)


def _quantity(token):
    if len(token) <= 4 and re.fullmatch(r"[0-9]{1,3}", token):
        return int(token)
    if len(token) <= 4 and re.fullmatch(r"x[0-9]{1,3}|[0-9]{1,3}x", token):
        return int(token.strip("x"))
    return NUMBER_WORDS.get(token)


# --- the menu index ------------------------------------------------------------------------


class MenuIndex:
    """Finds items, toppings, crusts, kitchen notes and sizes we do not make from what a
    customer calls them: a code, a name, an alias, a plural, or (rapidfuzz) a small typo.
    A phrase may mean several things ("pepperoni": a pizza or a topping); `meanings` lists
    them all and the reader picks by context."""

    def __init__(self, menu):
        self.entries = {e.code.upper(): e for e in menu.items}
        self.toppings = {t.code.upper(): t for t in menu.toppings}
        self.crusts = {c.code.upper(): c for c in menu.crusts}
        self.phrases = {}
        for entry in menu.items:
            for name in (entry.code, entry.name, *entry.aliases):
                self._add(name, ("item", entry.code.upper()))
        for topping in menu.toppings:
            for name in (topping.code, topping.name, *topping.aliases):
                self._add(name, ("topping", topping.code.upper()))
                self._add(f"extra {name}", ("topping", topping.code.upper()))
        for crust in menu.crusts:
            for name in (crust.code, crust.name, *crust.aliases):
                self._add(name, ("crust", crust.code.upper()))
                self._add(f"{name} crust", ("crust", crust.code.upper()))
        fuzzy = {k: v for k, v in self.phrases.items() if len(" ".join(k)) >= 4}
        for phrase in NOTE_PHRASES:
            self._add(phrase, ("note", phrase))
        for phrase in UNSUPPORTED_SIZES:
            self._add(phrase, ("badsize", phrase))
        self.longest = max((len(k) for k in self.phrases), default=1)
        self.fuzzy_keys = [" ".join(k) for k in fuzzy]
        self.fuzzy_meanings = list(fuzzy.values())
        self.item_words = [
            (frozenset(w for k in keys for w in k), code)
            for code, keys in self._keys_by_item().items()
        ]
        self.words_of = {code: words for words, code in self.item_words}
        self.vocabulary = sorted(set().union(*self.words_of.values())) if self.words_of else []
        self.pizzas = tuple(
            e.code.upper()
            for e in menu.items
            if e.category == "pizza" or (not e.category and e.has_sizes)
        )
        # A name or alias with "pizza" in it, as staff wrote it, wins over a shorter one
        # without it: "cheese pizza" (the plain one's alias) is not "cheese" (Four Cheese).
        self.exact = {}
        for entry in menu.items:
            for name in (entry.name, *entry.aliases):
                words = normalize(name).split()
                if GENERIC & set(words) and len(words) > 1:
                    meanings = self.exact.setdefault(tuple(_singular(w) for w in words), [])
                    if ("item", entry.code.upper()) not in meanings:
                        meanings.append(("item", entry.code.upper()))
        # The plain pizza: the base of "a pizza with mushrooms" and of toppings by halves.
        # Named Cheese or Plain, or so called by staff ("cheese pizza"); a bare alias
        # "cheese" is not enough (shops give it to their Four Cheese).
        plain = {
            e.code.upper() for e in menu.items
            if phrase_key(e.name) in PLAIN_NAMES
            or any(tuple(normalize(a).split()) in PLAIN_ALIASES for a in e.aliases)
        }  # fmt: skip
        self.plain = next((code for code in self.pizzas if code in plain), None)

    def _add(self, name, meaning):
        key = phrase_key(name)
        if key:
            meanings = self.phrases.setdefault(key, [])
            if meaning not in meanings:
                meanings.append(meaning)

    def _keys_by_item(self):
        keys = {}
        for key, meanings in self.phrases.items():
            for kind, code in meanings:
                if kind == "item":
                    keys.setdefault(code, []).append(key)
        return keys

    def at(self, words, start):
        """(meanings, words used) of the longest known phrase at words[start], or (None, 0)."""
        for length in range(min(self.longest + 1, len(words) - start), 0, -1):
            exact = tuple(_singular(w) for w in words[start : start + length])
            if len(exact) > 1 and exact in self.exact:
                return self.exact[exact], length
            key = _key(words[start : start + length])
            if key and key in self.phrases and _key(words[start : start + 1]):
                return self.phrases[key], length
        return None, 0

    def fuzzy(self, phrase):
        """Meanings of the known phrases closest to `phrase` within a small typo, or []."""
        if len(phrase) < 4:
            return []
        found = process.extract(
            phrase, self.fuzzy_keys, scorer=OSA.distance, score_cutoff=2, limit=None
        )
        best, meanings = None, []
        for key, d, position in found:
            if d > _fuzzy_typos(key) or abs(len(key) - len(phrase)) > 2:
                continue
            if best is None or d < best:
                best, meanings = d, list(self.fuzzy_meanings[position])
            elif d == best:
                meanings += [m for m in self.fuzzy_meanings[position] if m not in meanings]
        return meanings

    def correct(self, word):
        """`word`, or the word of an item's name it is a small typo of."""
        if len(word) < 5 or not self.vocabulary:
            return word
        found = process.extractOne(
            word, self.vocabulary, scorer=OSA.distance, score_cutoff=_fuzzy_typos(word)
        )
        return found[0] if found else word

    def containing(self, words):
        """Codes of the items whose names contain all of `words` ('chicken' -> BBQ, WNG)."""
        wanted = set(words)
        return [code for names, code in self.item_words if wanted <= names]

    def find(self, words):
        """The code of the one item `words` name, or None (kept for callers of the old API)."""
        key = _key(words)
        meanings = self.phrases.get(key) or self.fuzzy(" ".join(key))
        items = list(dict.fromkeys(c for kind, c in meanings if kind == "item"))
        return items[0] if len(items) == 1 else None


def as_menu(entries):
    """A Menu from a Menu, a list of MenuEntry, or a callable returning either."""
    entries = entries() if callable(entries) else entries
    return entries if isinstance(entries, Menu) else Menu(tuple(entries))


@lru_cache(maxsize=8)
def index_for(menu):
    """The index of a menu, built once per distinct menu (dataclasses compare by value, so a
    menu read again from the database with nothing changed reuses its index)."""
    return MenuIndex(menu)


# --- times ---------------------------------------------------------------------------------

_TIME = re.compile(
    r"(?P<lead>\b(?:at|by|around|about|@|for|a\s+las|a\s+la|para\s+las|para\s+la|tipo|las)\s*)?"
    r"(?<![\d:])(?P<hour>\d{1,2})(?:\s*[:.h]\s*(?P<minute>\d{2}))?"
    r"(?:\s*(?P<ampm>a\.?\s?m\.?|p\.?\s?m\.?)(?![a-z]))?"
    r"(?P<half>\s+y\s+media|\s+y\s+cuarto)?"
    r"(?P<evening>\s+de\s+la\s+(?:noche|tarde)|\s+tonight|\s+in\s+the\s+evening)?"
    r"(?P<morning>\s+de\s+la\s+ma(?:n|ñ)ana|\s+in\s+the\s+morning)?",
    re.IGNORECASE,
)
_NOON = re.compile(r"\b(?:at\s+|a\s+)?(?:noon|mediod[ií]a|midday)\b", re.IGNORECASE)
# Words that may follow a bare "at 7" (anything else, "at 12 Main St", is not a time).
_AFTER_TIME = {
    "", "please", "pls", "tonight", "today", "hoy", "por", "and", "y", "for", "para", "pickup",
    "delivery", "oclock", "o", "thanks", "thx", "gracias", "sharp", "ish", "if", "then",
}  # fmt: skip


def read_time(raw):
    """(the time of day asked for or None, `raw` without it). Hours 1-10 without am/pm are
    evening hours (nobody orders pizza for 7 in the morning); 11 and 12 are as written."""
    if match := _NOON.search(raw):
        return time(12, 0), raw[: match.start()] + " " + raw[match.end() :]
    for match in _TIME.finditer(raw):
        hour = int(match["hour"])
        minute = int(match["minute"]) if match["minute"] else 0
        ampm = (match["ampm"] or "").lower().replace(".", "").replace(" ", "")
        if not (match["minute"] or ampm or match["half"] or match["evening"]):
            lead = (match["lead"] or "").strip().lower()
            if not lead or lead == "for":
                continue
            following = normalize(raw[match.end() :]).split()[:1]
            if (following[0] if following else "") not in _AFTER_TIME:
                continue
        if match["half"]:
            minute = 30 if "media" in match["half"].lower() else 15
        if ampm == "pm" or match["evening"]:
            hour = hour + 12 if hour < 12 else hour
        elif ampm == "am" or match["morning"]:
            hour = 0 if hour == 12 else hour
        elif 1 <= hour <= 10:
            hour += 12
        if hour > 23 or minute > 59 or (ampm and int(match["hour"]) > 12):
            continue
        return time(hour, minute), raw[: match.start()] + " " + raw[match.end() :]
    return None, raw


# --- orders --------------------------------------------------------------------------------

_DELIVERY = re.compile(
    r"(?:(?:\bfor\s+)?\b(?:deliver(?:ed|y)?|delivery)\s+(?:it\s+|them\s+)?(?:to|at|address)"
    r"|\b(?:entregar|entregame|enviar|a domicilio)\s+(?:en|a)\b)[\s:,-]*(?P<address>.*)$",
    re.IGNORECASE | re.DOTALL,
)
DELIVER_TO = _DELIVERY  # "deliver to <address>", for readers of an answer to "where?"
_DELIVERY_ONLY = re.compile(
    r"(?:\bfor\s+)?\b(?:deliver(?:ed|y)?|a domicilio|para entregar)\b", re.IGNORECASE
)
_SPLIT = re.compile(r"\s*(?:,|;|\+|&|\n|\band\b|\bn\b|\by\b)\s*", re.IGNORECASE)


def _split_items(text, index):
    """Chunks of one item each: on commas and 'and', and before a new quantity ('2 pep 1 coke'),
    unless the number starts a name ('four cheese')."""
    chunks = []
    for part in _halves_together(_SPLIT.split(text)):
        words = _times_dropped([_tidy(w) for w in normalize(part).split()])
        current = []
        seen_name = False
        for position, word in enumerate(words):
            is_number = _quantity(word) is not None and word not in ARTICLES
            if is_number and not word.isdigit() and index.at(words, position)[1] > 1:
                is_number = False
            if is_number and seen_name and not re.fullmatch(r"x[0-9]{1,3}", word):
                chunks.append(current)
                current, seen_name = [], False
            current.append(word)
            if _quantity(word) is None and word not in SIZES and word not in FILLERS:
                seen_name = True
        if current:
            chunks.append(current)
    return chunks


def _tidy(word):
    """A word typed long ("heyyy", "pleasee", "thxxx") as the word it stands for, when that
    is one the reader knows; else `word`."""
    if word in FILLERS or not re.search(r"(.)\1", word):
        return word
    for short in (re.sub(r"(.)\1{2,}", r"\1", word), re.sub(r"(.)\1+$", r"\1", word)):
        if short in FILLERS:
            return short
    return word


def _times_dropped(words):
    """ "2 x large pep" is two large ones: an "x" after a number means "times", not extra."""
    return [
        w for i, w in enumerate(words)
        if not (w in ("x", "por") and i and _quantity(words[i - 1]) is not None
                and words[i - 1] not in ARTICLES)
    ]  # fmt: skip


def _halves_together(parts):
    """ "half pepperoni and half mushroom" is one pizza: a part that starts with "half"
    joins the part before it when that one named a half too."""
    joined = []
    for part in parts:
        words = normalize(part).split()
        if (
            joined
            and words[:1]
            and words[0] in HALF_WORDS
            and HALF_WORDS & set(normalize(joined[-1]).split())
        ):
            joined[-1] = f"{joined[-1]} {part}"
        else:
            joined.append(part)
    return joined


@dataclass
class _Chunk:
    """What one chunk of an order's text said."""

    quantity: int | None = None
    size: str = ""
    items: list = field(default_factory=list)  # codes, or Choice options (tuples)
    phrases: list = field(default_factory=list)  # the words each item was named with
    halves: int = 0
    toppings: list = field(default_factory=list)
    crust: str = ""
    notes: list = field(default_factory=list)
    unknown: list = field(default_factory=list)
    bad_sizes: list = field(default_factory=list)
    generic: bool = False
    by_article: bool = False  # "a dozen": the quantity was "a", a number word may follow
    text: str = ""
    # What each "half ..." named: (meanings by kind, words), settled by _settle_halves.
    half_phrases: list = field(default_factory=list)
    sides: tuple = ((), ())  # toppings on the first half and on the second

    @property
    def has_modifiers(self):
        return bool(self.toppings or self.crust or self.notes)


def _take(chunk, meanings, words, index):
    """Record what a phrase means here: a topping once the chunk has its item, else an item."""
    kinds = {}
    for kind, value in meanings:
        kinds.setdefault(kind, []).append(value)
    if chunk.halves > len(chunk.half_phrases) and ("item" in kinds or "topping" in kinds):
        chunk.half_phrases.append((kinds, " ".join(words)))
        return
    if "badsize" in kinds:
        chunk.bad_sizes.append(" ".join(words))
    elif "note" in kinds:
        chunk.notes.append(" ".join(words))
    elif "crust" in kinds and not ("item" in kinds and not chunk.items):
        chunk.crust = kinds["crust"][0]
    elif "topping" in kinds and (
        (chunk.items and chunk.halves != len(chunk.items)) or "item" not in kinds
    ):
        chunk.toppings += [c for c in kinds["topping"][:1] if c not in chunk.toppings]
    elif "item" in kinds:
        items = list(dict.fromkeys(kinds["item"]))
        chunk.items.append(items[0] if len(items) == 1 else tuple(items))
        chunk.phrases.append(" ".join(words))


def _resolve(chunk, leftover, index):
    """Words no phrase matched exactly: a typo of one (rapidfuzz), part of item names
    ('chicken'), or unknown."""
    if not leftover:
        return
    key = _key(leftover)
    if not key:
        return
    meanings = index.fuzzy(" ".join(key))
    english = _key([SPANISH_NAMES.get(w, w) for w in leftover])
    if not meanings and english != key:
        meanings = index.phrases.get(english) or index.fuzzy(" ".join(english))
    if meanings:
        _take(chunk, meanings, leftover, index)
        return
    key = tuple(index.correct(w) for w in key)
    last = chunk.items[-1] if chunk.items and isinstance(chunk.items[-1], str) else None
    if last and set(key) <= index.words_of.get(last, frozenset()):
        return  # 'bbq chiken': the rest of the name just read
    codes = index.containing(key)
    if codes:
        _take(chunk, [("item", c) for c in codes], leftover, index)
        return
    if len(leftover) > 1:
        for word in leftover:
            _resolve(chunk, [word], index)
        return
    chunk.unknown.append(leftover[0])


def _read_chunk(words, index):
    chunk, leftover = _Chunk(text=" ".join(words)), []
    position = 0
    while position < len(words):
        word = words[position]
        meanings, used = index.at(words, position)
        if word in FILLERS and used < 2:
            meanings, used = None, 0
        if meanings and used > 1:
            _resolve(chunk, leftover, index)
            leftover = []
            _take(chunk, meanings, words[position : position + used], index)
            position += used
            continue
        number = _quantity(word)
        if number is not None and (
            (chunk.quantity is None and (word not in ARTICLES or not leftover))
            or (chunk.by_article and word not in ARTICLES)
        ):
            chunk.quantity, chunk.by_article = number, word in ARTICLES
        elif chunk.halves > len(chunk.half_phrases) and word in GENERIC:
            pass  # "half a pizza with ham": the half's own words follow
        elif (
            (word in SIZES or _singular(word) in SIZES)
            and not chunk.size
            and (len(word) > 1 or position < len(words) - 1)
        ):
            chunk.size = SIZES.get(word) or SIZES[_singular(word)]
        elif word in HALF_WORDS:
            _resolve(chunk, leftover, index)
            leftover = []
            chunk.halves += 1
        elif word in NEGATIONS and position + 1 < len(words):
            _resolve(chunk, leftover, index)
            leftover = []
            end = position + 1
            while end < len(words) and end - position <= 3 and words[end] not in FILLERS:
                end += 1
            if end == position + 1 and words[end : end + 1] == ["the"]:
                end = min(len(words), end + 2)
            chunk.notes.append(" ".join(words[position:end]))
            position = end
            continue
        elif meanings:
            _resolve(chunk, leftover, index)
            leftover = []
            _take(chunk, meanings, [word], index)
        elif word in GENERIC:
            chunk.generic = True
        elif word in FILLERS or word in ARTICLES or number is not None:
            _resolve(chunk, leftover, index)
            leftover = []
        else:
            leftover.append(word)
        position += 1
    _resolve(chunk, leftover, index)
    _settle_halves(chunk, index)
    return chunk


def _settle_halves(chunk, index):
    """What "half X half Y" meant, now that the whole chunk is read.

    - After a named pizza, a half's topping goes on that half: "pepperoni pizza, half
      mushroom"; "cheese pizza half pepperoni half mushroom".
    - Halves that all name toppings top the plain pizza: "a large pizza half pepperoni half
      mushroom" (pepperoni is a pizza too; as a half of a plain pizza it is the topping).
    - Else each half names a pizza, and a half that names only a topping is the plain pizza
      with it: "half hawaiian half mushroom" is Hawaiian / Cheese with mushrooms."""
    phrases, chunk.half_phrases = chunk.half_phrases, []
    if not phrases:
        return
    named_before = bool(chunk.items)
    sides = [[], []]

    def item_of(kinds):
        items = list(dict.fromkeys(kinds.get("item", [])))
        return items[0] if len(items) == 1 else tuple(items) if items else None

    if named_before or (
        len(phrases) > 1 and all("topping" in kinds for kinds, _ in phrases) and index.plain
    ):
        if not named_before:
            chunk.items.append(index.plain)
            chunk.phrases.append("pizza")
        for number, (kinds, words) in enumerate(phrases[:2]):
            if "topping" in kinds:
                sides[number if len(phrases) > 1 else 1].append(kinds["topping"][0])
            elif item := item_of(kinds):
                chunk.items.append(item)
                chunk.phrases.append(words)
        chunk.halves = 2 if len(chunk.items) > 1 else 0  # a second item: the other half
    else:
        for number, (kinds, words) in enumerate(phrases[:2]):
            item = item_of(kinds)
            if item is None and index.plain:
                item = index.plain
                sides[number].append(kinds["topping"][0])
            elif item is None:
                chunk.toppings.append(kinds["topping"][0])
                continue
            chunk.items.append(item)
            chunk.phrases.append(words)
        if len(chunk.items) == 2 and sides[0] and not sides[1]:
            # the plain half was named first: it is the other half
            chunk.items.reverse()
            chunk.phrases.reverse()
            sides = [sides[1], sides[0]]
        chunk.halves = len(chunk.items)
    chunk.sides = (tuple(dict.fromkeys(sides[0])), tuple(dict.fromkeys(sides[1])))


class _Lines:
    """The lines of an order as they are read, merged at the end."""

    def __init__(self, index):
        self.index = index
        self.lines = []  # dicts, in order
        self.choices, self.unknown, self.too_many, self.bad_sizes = [], [], [], []
        self.half_pending = False

    def add(self, chunk):
        self.unknown += chunk.unknown
        entries = self.index.entries
        if chunk.bad_sizes and (
            not chunk.items
            or any(not isinstance(c, str) or entries[c].has_sizes for c in chunk.items)
        ):
            self.bad_sizes += chunk.bad_sizes
        if not chunk.items:
            return self._add_without_item(chunk)
        items, phrases = list(chunk.items), list(chunk.phrases)
        if self.half_pending and chunk.halves and chunk.quantity is None and self.lines:
            first = items.pop(0)
            phrases.pop(0)
            if isinstance(first, str):
                self.lines[-1]["half"] = first
            self._modify(self.lines[-1], chunk)
            self.half_pending = False
            if not items:
                return
        quantity = chunk.quantity or 1
        code, phrase = items.pop(0), phrases.pop(0)
        half = ""
        if chunk.halves and items and isinstance(items[0], str):
            half = items.pop(0)
            phrases.pop(0)
        line = {"code": "", "quantity": quantity, "size": chunk.size, "toppings": [],
                "crust": "", "half": half, "note": [], "left": chunk.sides[0],
                "right": chunk.sides[1]}  # fmt: skip
        self._modify(line, chunk)
        self._place(line, code, phrase)
        self.half_pending = bool(chunk.halves) and not half
        for code, phrase in zip(items, phrases, strict=True):
            extra = {**line, "code": "", "quantity": 1, "half": "", "toppings": [], "note": [],
                     "left": (), "right": ()}  # fmt: skip
            self._place(extra, code, phrase)

    def _place(self, line, code, phrase):
        if isinstance(code, str):
            line["code"] = code
            self.lines.append(line)
        else:
            self.choices.append((phrase, code, line))

    def _add_without_item(self, chunk):
        if chunk.size and not chunk.has_modifiers and chunk.quantity is None and self.lines:
            # "..., both large": the size of every line without one; "..., large": the last's
            every = EVERY_WORDS & set(chunk.text.split())
            for line in self.lines if every else self.lines[-1:]:
                line["size"] = line["size"] or chunk.size
            for _, _, line in self.choices if every else ():
                line["size"] = line["size"] or chunk.size
            return
        if chunk.has_modifiers and chunk.quantity is None and not chunk.generic and self.lines:
            self._modify(self.lines[-1], chunk)
            return
        if chunk.quantity is not None and not (chunk.generic or chunk.has_modifiers):
            if not chunk.unknown and not chunk.bad_sizes:
                self.unknown.append(chunk.text)
            return
        if chunk.generic or chunk.has_modifiers:
            line = {"code": "", "quantity": chunk.quantity or 1, "size": chunk.size,
                    "toppings": [], "crust": "", "half": "", "note": []}  # fmt: skip
            self._modify(line, chunk)
            if chunk.generic and chunk.toppings and self.index.plain:
                # "a large pizza with mushrooms": the plain pizza, topped
                line["code"] = self.index.plain
                self.lines.append(line)
                return
            self.choices.append(("pizza", self.index.pizzas, line))

    @staticmethod
    def _modify(line, chunk):
        line["toppings"] += [t for t in chunk.toppings if t not in line["toppings"]]
        line["crust"] = chunk.crust or line["crust"]
        line["note"] += chunk.notes
        if chunk.size and not line["size"]:
            line["size"] = chunk.size

    def _drop_headers(self):
        """ "2 large pizzas: one pepperoni, one margherita": a bare count of pizzas followed by
        the pizzas themselves is not a pizza more; its size goes to the ones without one."""
        pizzas = set(self.index.pizzas)
        named = [line for line in self.lines if line["code"] in pizzas]
        if not named:
            return
        kept = []
        for phrase, options, line in self.choices:
            bare = not (line["toppings"] or line["crust"] or line["note"])
            if phrase == "pizza" and tuple(options) == self.index.pizzas and bare:
                for other in named:
                    other["size"] = other["size"] or line["size"]
            else:
                kept.append((phrase, options, line))
        self.choices = kept

    def result(self):
        self._drop_headers()
        entries, counted, unsized = self.index.entries, {}, []
        for line in self.lines:
            entry = entries[line["code"]]
            sized = entry.has_sizes
            key = (
                line["code"], line["size"] if sized else "",
                tuple(line["toppings"]) if sized else (), line["crust"] if sized else "",
                line["half"] if sized else "",
                "; ".join(dict.fromkeys(line["note"]))[:MAX_NOTE],
                tuple(line.get("left", ())) if sized else (),
                tuple(line.get("right", ())) if sized else (),
            )  # fmt: skip
            if line["quantity"] > MAX_QUANTITY or line["quantity"] < 1:
                self.too_many.append(entry.name)
                continue
            counted[key] = counted.get(key, 0) + line["quantity"]
            if sized and not line["size"]:
                unsized.append(line["code"])
        lines = []
        for (code, size, toppings, crust, half, note, left, right), quantity in counted.items():
            if quantity > MAX_QUANTITY:
                self.too_many.append(entries[code].name)
            else:
                lines.append(Line(code, quantity, size, toppings, crust, half, note, left, right))
        choices = tuple(
            Choice(
                phrase, tuple(options),
                Line("", min(max(line["quantity"], 1), MAX_QUANTITY), line["size"],
                     tuple(line["toppings"]), line["crust"], "", "; ".join(line["note"])),
            )
            for phrase, options, line in self.choices
        )  # fmt: skip
        return {
            "lines": tuple(lines),
            "unknown": tuple(dict.fromkeys(self.unknown)),
            "too_many": tuple(dict.fromkeys(self.too_many)),
            "ambiguous": choices,
            "unsupported_sizes": tuple(dict.fromkeys(self.bad_sizes)),
            "unsized": tuple(dict.fromkeys(unsized)),
        }


def parse_items(text, entries):
    """The order fields (lines, unknown, too_many, ambiguous, unsupported_sizes, unsized) of
    an order's text. `entries` is a Menu, a list of MenuEntry or a MenuIndex, or a callable
    returning one (so the menu is only loaded for texts that need it)."""
    entries = entries() if callable(entries) else entries
    index = entries if isinstance(entries, MenuIndex) else index_for(as_menu(entries))
    lines = _Lines(index)
    for words in _split_items(text, index):
        lines.add(_read_chunk(words, index))
    return lines.result()


def _order(rest_text, entries, scheduled_for=None):
    address = ""
    match = _DELIVERY.search(rest_text)
    if match:
        address = " ".join(match["address"].split()).strip(" .,!;:-")[:200]
        rest_text = rest_text[: match.start()]
        if not address:
            address = "?"
    elif match := _DELIVERY_ONLY.search(rest_text):
        address = "?"
        rest_text = rest_text[: match.start()] + " " + rest_text[match.end() :]
    found = parse_items(rest_text, entries)
    if not any(found.values()) and not address:
        return Command("reorder", scheduled_for=scheduled_for)
    return Command("order", address=address, scheduled_for=scheduled_for, **found)


def _after_first_word(text):
    """The raw text after its first word, keeping the customer's own spelling (addresses)."""
    parts = text.strip().split(None, 1)
    return parts[1] if len(parts) > 1 else ""


# --- intents in words ----------------------------------------------------------------------

_STATUS = re.compile(
    r"\bwhere(?:s| s| is| are)? (?:is |are )?(?:my|our|the) (?:order|pizza|pizzas|food|pie|pies"
    r"|delivery|stuff)\b|\bhow (?:long|much longer)\b|\b(?:is|are) (?:it|they|my order|the order"
    r"|my pizza|my pizzas|my food|the pizza|our order|our pizza) (?:ready|done|on (?:its|the) way"
    r"|coming)\b|\bready yet\b|\b(?:any )?eta\b|\border status\b|\bstatus of my order\b"
    r"|\bdonde (?:esta|estan|anda|viene) (?:mi|mis|el|la|los|nuestro|nuestra) (?:pedido|pizza"
    r"|pizzas|orden|comida)\b|\bcuanto (?:falta|tarda|tardan|demora|le falta|mas)\b"
    r"|\bya (?:esta|estan|viene) (?:listo|lista|listos|listas|mi pedido|mi pizza|en camino)?\b"
    r"|\besta listo (?:mi|el) pedido\b|\bestado de mi (?:pedido|orden)\b|\bcomo va mi pedido\b"
)
_REORDER = re.compile(
    r"\bsame (?:as|like) (?:last time|before|usual|always|my last order)\b|\bsame again\b"
    r"|\b(?:the|my) usual\b|\busual please\b|^usual$|\brepeat (?:my |the )?(?:last )?order\b"
    r"|\bsame order(?: as (?:last time|before))?\b|\blo de siempre\b|\blo mismo(?: de| que)?"
    r"(?: la ultima vez| siempre| del otro dia)?\b|\brepet(?:ir|ime|i) (?:mi |el )?(?:ultimo )?"
    r"pedido\b|\bel pedido de siempre\b|\blo usual\b"
)
_MENU = re.compile(
    r"\bmenu\b|\bla carta\b|^carta$|\bwhat (?:do|does) (?:you|u|yall) (?:have|got|sell|serve)\b"
    r"|\bwhat (?:pizzas|kinds?|sorts?|types?|toppings|flavors|flavours|sizes|drinks)"
    r"(?: of (?:pizza|pizzas|toppings))? (?:do|does|have|are|can)\b|\bwhat have you got\b"
    r"|\bque (?:tienen|hay|pizzas tienen|pizzas hay|venden|ingredientes)\b|\bwhats available\b"
    r"|\bprices\b|\bprecios\b"
)
_HELP = re.compile(r"^(?:help|info|commands|keywords|ayuda|como pido|how do i order)\b")
# Said before a request and carrying no meaning: "hi, please cancel my order".
_POLITE = re.compile(
    r"^(?:(?:hi|hello|hey|hola|buenas|buenos dias|buenas tardes|buenas noches|please|pls|plz"
    r"|por favor|porfa|can you|could you|can u|would you|i want to|i d like to|id like to"
    r"|i need to|i would like to|i wanna|quiero|necesito|quisiera|puedes|puede|pueden|podrian"
    r"|ok|okay|um|uh|sorry|oops|hmm)\s+)+"
)
_POLITE_END = re.compile(r"(?:\s+(?:please|pls|plz|por favor|porfa|thanks|thx|thank you|gracias"
                         r"|asap|now|ahora|ya))+$")  # fmt: skip


def _core(words):
    joined = " ".join(words)
    joined = _POLITE_END.sub("", _POLITE.sub("", joined + " ").strip())
    return joined.split() or words


def _is_cancel(core):
    first, rest = core[0], core[1:]
    target = [w for w in rest if w not in ("my", "the", "this", "that", "mi", "el", "la", "este")]
    if first in CANCEL_WORDS and target[:1] and target[0] in ("order", "pedido", "orden"):
        return len(target) <= 2
    return False


def parse(text, entries):
    """Read one inbound text. Never raises; anything not understood is `chat`."""
    raw = (text or "")[:2000]
    words = normalize(raw.replace(PIZZA_EMOJI, " ")).split()
    command = _parse(raw, entries)
    return replace(
        command, language=detect_language(words, raw), language_said=said_language(words, raw)
    )


def _parse(raw, entries):
    if raw.strip() in THUMBS_UP:
        return Command("yes")
    scheduled_for, timed = read_time(raw)
    stripped = timed.replace(PIZZA_EMOJI, " ").strip()
    words = normalize(stripped).split()
    if PIZZA_EMOJI in raw and not words:
        return Command("reorder", scheduled_for=scheduled_for)
    if PIZZA_EMOJI in raw and words and words[0] not in ("order",):
        return _order(stripped, entries, scheduled_for)
    if not words:
        return (
            Command("chat", scheduled_for=scheduled_for)
            if not scheduled_for
            else Command("reorder", scheduled_for=scheduled_for)
        )
    first, rest = words[0], words[1:]
    joined = " ".join(words)
    core = _core(words)
    text_after = _after_first_word(stripped)

    if (
        joined in YES_WORDS
        or " ".join(core) in YES_WORDS
        or (first in YES_WORDS and rest in ([], ["please"], ["pls"]))
    ):
        return Command("yes")
    if joined in NO_WORDS or " ".join(core) in NO_WORDS or words == ["no", "thank", "you"]:
        return Command("no")
    if _is_cancel(core):
        return Command("cancel")
    if core[0] in CANCEL_WORDS or (near(core[0], "cancel") and core[1:2] in (["order"], ["my"])):
        return Command("suggest", suggestion="CANCEL ORDER")
    if first in ("status", "track", "tracking", "estado") and len(words) <= 4:
        return Command("status")
    if first not in ("order", "reorder") and _STATUS.search(joined):
        return Command("status")
    if first == "order" and rest[:1] == ["status"]:
        return Command("status")
    if (first in ("help", "info", "commands", "keywords", "ayuda") and len(words) <= 3) or (
        _HELP.match(" ".join(core)) and len(core) <= 4
    ):
        return Command("help")
    if len(words) <= 10 and _REORDER.search(joined):
        return Command("reorder", scheduled_for=scheduled_for)
    if len(words) <= 7 and first not in ("order",) and _MENU.search(joined):
        return Command("menu")
    if words in (["pedido"], ["pedir"]):  # Spanish texts say PEDIDO where English says ORDER
        return Command("reorder", scheduled_for=scheduled_for)
    if first == "order" or first == "reorder":
        if first == "reorder" and not rest:
            return Command("reorder", scheduled_for=scheduled_for)
        command = _order(text_after, entries, scheduled_for)
        if command.kind == "order" and _sounds_like_talk(command, rest):
            return Command("chat")
        return command

    meant = _keyword_like(first)
    if meant == "order" and rest:
        return _order(text_after, entries, scheduled_for)
    if meant in ("status", "menu", "help") and len(words) <= 3:
        return Command(meant)
    if meant == "order" and not rest:
        return Command("reorder", scheduled_for=scheduled_for)
    if len(words) <= 2 and any(near(w, "yes") and len(w) >= 3 for w in words[:1]):
        return Command("suggest", suggestion="YES")
    if _may_be_items(words):
        command = _order(stripped, entries, scheduled_for)
        if command.kind == "order" and _reads_as_order(command, words):
            return command
    return Command("chat", scheduled_for=scheduled_for)


def _may_be_items(words):
    """Worth reading against the menu (which costs queries): the text asks for something, or
    has a number, a size or 'half' in it: not 'pizza?' alone, not 'where is my driver'."""
    return words[0] in ARTICLES or any(
        w in REQUEST_WORDS
        or (_quantity(w) is not None and w not in ARTICLES)
        or w in SIZES
        or _singular(w) in SIZES
        or w in HALF_WORDS
        for w in words
    )


def _reads_as_order(command, words):
    """Without the ORDER keyword, a text is an order when it names menu items and either asks
    ('I want', 'quiero', a number, a size) or says nothing else: 'the cheese was cold' is not."""
    asks = any(
        w in REQUEST_WORDS
        or (_quantity(w) is not None and w not in ARTICLES)
        or w in SIZES
        or _singular(w) in SIZES
        for w in words
    )
    if command.lines:
        return asks or not command.unknown
    return bool(command.ambiguous or command.unsupported_sizes) and asks


def _sounds_like_talk(command, rest):
    """'ORDER was cold and late' is a complaint, not items: nothing matched, no numbers."""
    return (
        not command.lines
        and not command.too_many
        and not command.ambiguous
        and len(rest) >= 3
        and not any(_quantity(w) is not None or w in SIZES for w in rest)
    )
