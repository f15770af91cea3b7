"""Questions customers ask before they order, answered from the shop's own data.

Tried as new customers would, "are you open?", "what time do you close", "do you have
gluten free crust?", "how much is a large pepperoni", "do you deliver to 10001?" and
"¿a qué hora cierran?" used to get "Thanks for your query, we will get back to you" (or,
for the crust, "Which pizza would you like?"). `answer` reads such a text and says which
reply answers it (`Answer`: a template of orders/templates/orders/sms/ or voice/, and its
context), each made from what staff edit, never canned: the opening hours and closed
days (open now, closing time, next opening), the menu (prices of an item at a size, a
topping's or crust's price, whether we have something, and what is sold out tonight),
the delivery area, fee and minimum, and the kitchen's time for pickup and delivery.

A question is never placed as an order: "do you have..." and "how much is..." are read
as questions even where the words name a pizza; "are you open", "what time do you close",
"how long is the wait" and "do you deliver to..." are questions unless the same text
orders something (then its quote answers them: the time, the fee, the area). For what the
data cannot answer (parking, gift cards, allergies...), staff keep a list of questions
and answers in the admin (`ShopAnswer`: keywords in each language, the answer), read
before the acknowledgement. An answer never touches a quote waiting for YES: the reply
reminds the customer it still waits.
"""

import re
import time
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from . import shop
from .billing import busy_minutes, prep_minutes, zip_code
from .hours import clock, describe_opening, local, shop_hours, spoken_hours
from .models import Fulfilment, ShopAnswer
from .parser import normalize, parse


@dataclass(frozen=True)
class Answer:
    template: str
    context: dict = field(default_factory=dict)
    spanish: bool = False  # the question is worded in Spanish: answer in Spanish


# Said before the question and meaning nothing: "hi quick question, are you open".
_LEAD = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|yo|hola|buenas|buenos dias|buenas tardes|buenas noches|um|uh|"
    r"umm|ok|okay|so|quick question|question|excuse me|disculpa|disculpe|oye|oiga|perdon|"
    r"sorry|please|pls|una pregunta|pregunta|there|guys|y all|yall|amigo)\s+)+"
)
_YOU = r"(?:you|u|yall|y all|ya|you guys|u guys)"
_WHAT = r"(?:what|wat|wht|whut|waht)"
_DELIVERY = re.compile(
    rf"\b(?:do|does|d|can|will|would) {_YOU} (?:still )?(?:deliver|delivery|do deliver(?:y|ies)?)"
    rf"|\b(?:do|does) {_YOU} (?:do|have|offer) deliver(?:y|ies)\b|\bis there delivery\b"
    r"|\bdelivery (?:fee|charge|cost|minimum|area|zone|radius)\b|\bminimum (?:for|order|to)\b"
    r"|\bhow much (?:is|for) (?:the )?delivery\b|\bdeliver (?:to|in) (?:my )?(?:area|zip|\d{5})"
    r"|\b(?:hacen|tienen) (?:entregas?|envios?|delivery|servicio a domicilio|domicilio)\b"
    r"|\b(?:entregan|reparten|envian|llevan|mandan) (?:a|en|hasta|pizzas? a)\b"
    r"|\b(?:costo|precio|cargo) (?:de|del|por) (?:envio|entrega|delivery|domicilio)\b"
    r"|\bcobran (?:de|por|el|del) (?:envio|entrega|delivery|domicilio)\b"
    r"|\bminimo (?:para|de) (?:entrega|envio|delivery|domicilio)\b|\bservicio a domicilio\b"
    r"|\bentregan\b|\breparten\b"
)
_WAIT = re.compile(
    r"\bhow long (?:is|are|for|will|does|do|would|til|till|until|s) "
    r"|\bhow long\s*$|\bwhat(?:s| is) (?:the|your) wait\b|\bwait time\b|\bhow busy\b"
    r"|\bhow (?:quick|fast|soon) (?:is|can|could|would|will)\b"
    r"|\bcuanto (?:tiempo )?(?:tardan|tarda|se tardan|demoran|demora|hay que esperar)\b"
    r"|\btiempo de (?:espera|entrega)\b|\bcuanto (?:es|hay) (?:la|de) espera\b"
)
_CLOSE = re.compile(
    rf"\b{_WHAT} time (?:do|does|d) {_YOU} (?:guys )?close\b|\bwhen (?:do|does|d) {_YOU} close\b"
    rf"|\bclos(?:e|ing) (?:time|at)\b|\bhow late (?:are|r) {_YOU}(?: open)?\b"
    rf"|\b(?:until|till|til) what time\b|\bopen (?:until|till|til) (?:when|what)\b"
    rf"|\bwhat time (?:are|r) {_YOU} open (?:until|till|til)\b|\bwhen (?:are|r) {_YOU} closing\b"
    r"|\bcierran\b|\bhasta que hora\b|\bhora de cierre\b|\ba que hora cierra\b"
)
_OPEN = re.compile(
    rf"^(?:are|r|is) {_YOU}? ?(?:still |even )?open(?:ed)?\b|\bopen (?:now|today|tonight|rn|right"
    rf" now|on \w+|tomorrow)\b|\bwhat (?:are|r|re) (?:your|ur|the) (?:hours|opening hours)\b"
    rf"|^(?:your |ur |opening |store |business )?hours\b|\bwhen (?:do|does|d) {_YOU} open\b"
    rf"|\b{_WHAT} time (?:do|does|d) {_YOU} open\b|\bwhen (?:are|r) {_YOU} open\b|\bopening hours\b"
    rf"|\bare {_YOU} guys open\b|\bu open\b|\bis the (?:shop|store|place|restaurant) open\b"
    r"|\besta(?:n|s)? abiert[oa]s?\b|\babren\b|\bhorarios?\b|\ba que hora abre\b"
)
_PRICE = re.compile(
    r"^(?:how much|hw much|how mch|hm|what(?:s| is| does| do) (?:the )?(?:price|cost)s?"
    r"|prices? (?:of|for|on)|cost of"
    r"|cuanto (?:cuesta|cuestan|vale|valen|es|sale|salen|cobran)|que precio|precio de"
    r"|a como (?:es|esta|estan))\b"
)
_COSTS = re.compile(r"^what (?:does|do|would|will) (.+) (?:cost|costs|be)$")
_HAVE = re.compile(
    rf"^(?:(?:do|does|d) {_YOU} (?:guys )?(?:have|got|sell|make|do|carry|offer|serve)"
    rf"|{_YOU} (?:have|got|sell|make|carry)|(?:is|are) there(?: any)?|any|got any"
    r"|can i get (?:a |an )?(?=gluten|vegan|dairy|lactose)|tienen|tiene|hay|venden|manejan"
    r"|hacen|ofrecen|sirven)\b"
)
_FILLER = re.compile(
    r"\b(?:a|an|any|some|the|you|u|guys|yall|please|pls|tonight|today|now|rn|here|there|is|"
    r"are|does|do|cost|costs|would|will|be|es|son|cuesta|cuestan|vale|valen|"
    r"on the menu|on your menu|in stock|available|option|options|un|una|unos|unas|el|la|los|"
    r"las|de|del|alguna|algun|hoy|ahora|ustedes|por favor)\b"
)
# Words that make a "do you have..." about food, so "not on our menu" is a fair answer.
_FOOD = re.compile(
    r"\b(?:pizza|pizzas|crust|base|dough|cheese|topping|toppings|sauce|vegan|gluten|dairy|"
    r"lactose|keto|wings|fries|salad|dessert|desserts|drink|drinks|soda|beer|wine|juice|"
    r"calzone|pasta|bread|sandwich|sub|masa|queso|salsa|ingrediente|ingredientes|postre|"
    r"postres|bebida|bebidas|refresco|refrescos|cerveza|vino|jugo|papas|ensalada|sin gluten|"
    r"calzones|stromboli|breadsticks|knots|cookies?|brownies?|ice cream|cannoli|vegetarian|"
    r"halal|kosher|cauliflower|anchov(?:y|ies)|olives?|sausage|chicken|beef|bacon|ham|"
    r"meatballs?|pesto|ranch|buffalo|dip|dips|anchoas|aceitunas|pollo|carne|tocino|jamon|"
    r"helado|vegana|vegano|vegetariana|vegetariano|hamburguesa|hamburguesas|sopa|agua)\b"
)
# Words only a Spanish question uses: its answer is in Spanish, whoever asks.
_SPANISH = re.compile(
    r"\b(?:horario|horarios|abren|cierran|abierto|abiertos|abierta|tienen|tiene|hay|venden|"
    r"cuanto|cuanta|cuesta|cuestan|vale|valen|entregan|reparten|envio|envios|entregas|"
    r"domicilio|tardan|tarda|demoran|espera|hacen|precio|cobran|manejan|sirven|ofrecen|"
    r"ustedes|que hora)\b"
)
# Read as a status request, a question about the wait only when it says the wait, and
# not "my" order.
_THE_WAIT = re.compile(
    r"\b(?:wait|busy|delivery|deliver|pickup|pick up|take|takes|espera|entregar|entrega"
    r"|recoger|tardan|demoran|se tardan)\b"
)
_MINE = re.compile(r"\b(?:my|mine|our|mi|mis|nuestro|nuestra|nuestros|nuestras)\b")
# A day other than today: the answer is the hours, not whether we are open now.
_DAY = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur"
    r"|thurs|fri|sat|sun|weekend|weekends|tomorrow|tmrw|tmr|weekdays|lunes|martes|miercoles"
    r"|jueves|viernes|sabado|sabados|domingo|domingos|manana|fin de semana)\b"
)
# A holiday by name: nothing in the hours says, so no answer from them.
_HOLIDAY = re.compile(
    r"\b(?:christmas|xmas|thanksgiving|new year|new years|easter|holiday|holidays|july 4|4th of"
    r" july|fourth of july|memorial day|labor day|navidad|nochebuena|ano nuevo|semana santa"
    r"|pascua|feriado|feriados|dia festivo)\b"
)
_SIZES = {"S": ("small", "chica", "chico", "pequena", "pequeno"), "M": ("medium", "mediana"),
          "L": ("large", "grande", "big")}  # fmt: skip


def answer(text, menu, now, command=None):
    """The Answer to the question `text` asks, or None when it asks none we can answer.
    `menu` an orders.menu.Menu, or a function returning it (read only for a question about
    the menu); `now` aware; `command` the text as orders.parser read it."""
    said = _LEAD.sub("", normalize(text) + " ").strip()
    if not said:
        return None
    if callable(menu):
        menu = _Later(menu)
    order = command or parse(text, menu.index)
    if order.kind == "status" and (_MINE.search(said) or not _THE_WAIT.search(said)):
        return None  # "how long will it be?", "¿cuánto tarda mi pizza?": their order's status
    found = _read(said, menu, now, ordering=order.kind == "order" and bool(order.lines))
    if found is None:
        return None
    spanish = order.language == "es" or bool(_SPANISH.search(said))
    return replace(found, spanish=spanish)


class _Later:
    """The menu, read on first use (a status request asks nothing of it)."""

    def __init__(self, read):
        self._read_menu, self._menu = read, None

    def __getattr__(self, name):
        if self._menu is None:
            self._menu = self._read_menu()
        return getattr(self._menu, name)


def _read(said, menu, now, ordering):
    if _DELIVERY.search(said) and not ordering:
        return _delivery(said, now)
    if m := _COSTS.match(said):
        return _price(m.group(1), menu, now)
    if m := _PRICE.match(said):
        return _price(said[m.end() :], menu, now)
    if m := _HAVE.match(said):
        return _have(said[m.end() :], menu, now)
    if ordering:
        return None  # its quote tells the time, the fee and the area
    if _HOLIDAY.search(said):
        return None  # the hours do not say: staff's list of answers, or staff, do
    for pattern, reply in ((_WAIT, _wait), (_CLOSE, _close), (_OPEN, _open)):
        if pattern.search(said):
            if _DAY.search(said) and reply is not _wait:
                return Answer("answer_hours", {**_hours(), "day": True})
            return reply(said, now)
    return None


def staff_answer(text, language):
    """The answer staff wrote (ShopAnswer) whose keywords the text says, in `language`
    ("es" uses the Spanish keywords and answer when given), or None. The list is read at
    most once a second per process (an edit in the admin is seen within a second)."""
    said = f" {normalize(text)} "
    for row in _staff_answers():
        if row.says(said, language):
            return Answer("staff_answer", {"answer": row.answer_in(language)})
    return None


_answers_read = ((), 0.0)  # (the active ShopAnswer rows, time.monotonic() of the read)
REFRESH_SECONDS = 1.0


def _staff_answers():
    global _answers_read
    rows, at = _answers_read
    if time.monotonic() - at < REFRESH_SECONDS:
        return rows
    rows = tuple(ShopAnswer.objects.filter(active=True))
    _answers_read = (rows, time.monotonic())
    return rows


def forget(**kwargs):
    """Read staff's answers again at the next question (a post_save receiver; tests)."""
    global _answers_read
    _answers_read = ((), 0.0)


# --- the answers -----------------------------------------------------------------------------


def _opening_words(now):
    here = local(now)
    hours = shop_hours()
    if hours.is_open(here):
        closes = hours.closes_at(here)
        return {"open": True, "closes": clock(closes, now) if closes else ""}
    opens = hours.next_opening(here)
    return {"open": False, "opens": describe_opening(opens, here) if opens else ""}


def _hours():
    return {"hours": shop.hours_text(), "spoken_hours": spoken_hours(shop.hours_text())}


def _open(said, now):
    return Answer("answer_hours", {**_opening_words(now), **_hours()})


def _close(said, now):
    return Answer("answer_close", _opening_words(now))


def _wait(said, now):
    busy = busy_minutes(now)
    return Answer(
        "answer_wait",
        {
            **_opening_words(now),
            "pickup": prep_minutes(Fulfilment.PICKUP, busy),
            "delivery": prep_minutes(Fulfilment.DELIVERY, busy),
            "paused": clock(paused, now) if (paused := shop.paused_until(now)) else "",
        },
    )


def _delivery(said, now):
    from .texts import money

    zips = shop.zip_codes()
    asked = zip_code(" " + said)
    context = {
        "zip": asked,
        "zips": zips,
        "fee": money(shop.delivery_fee()),
        "minimum": money(shop.delivery_minimum()),
        "address": shop.address(),
    }
    if asked and zips and asked not in zips:
        return Answer("answer_delivery", {**context, "outside": True})
    return Answer("answer_delivery", {**context, "outside": False, "anywhere": not zips})


def _price(rest, menu, now):
    from .texts import money, size_price

    rest = _FILLER.sub(" ", rest)
    found = _named(rest, menu)
    if found is None:
        return _not_found(rest, menu) if rest.strip() else None
    kind, thing = found
    words = rest.split()
    size = next((code for code, names in _SIZES.items() if any(w in words for w in names)), "")
    if kind == "item":
        sized = bool(size) and size in thing.prices
        return Answer(
            "answer_price",
            {"thing": thing.name, "price": size_price(thing, size), "size": size if sized else "",
             "sold_out": thing.sold_out(now)},
        )  # fmt: skip
    prices = thing.prices
    if size:
        price = money(prices[size])
    else:
        price = "$" + "/".join(money(prices[s]).lstrip("$") for s in "SML")
    return Answer(
        "answer_extra_price",
        {"thing": thing.name, "price": price, "size": size, "sold_out": thing.sold_out(now)},
    )


def _have(rest, menu, now):
    rest = _FILLER.sub(" ", rest)
    if not rest.strip():
        return None
    found = _named(rest, menu)
    if found is None:
        return _not_found(rest, menu)
    kind, thing = found
    if thing.sold_out(now):
        return Answer(
            "answer_have",
            {"thing": thing.name, "sold_out": True, "instead": menu.instead(kind, thing, now)},
        )
    return Answer("answer_have", {"thing": thing.name, "kind": kind, "sold_out": False})


def _not_found(rest, menu):
    asked = " ".join(rest.split())
    nearest = _nearest(asked, menu)
    if nearest is None and not _FOOD.search(f" {asked} "):
        return None  # not about food: staff's list, or staff, answer it
    return Answer("answer_not_on_menu", {"asked": asked, "nearest": nearest.name if nearest
                                         else ""})  # fmt: skip


# --- finding what they name on the menu ---------------------------------------------------


def _names(thing):
    return [normalize(thing.name), *(normalize(a) for a in thing.aliases), thing.code.lower()]


def _candidates(menu):
    yield from (("item", item) for item in menu.items)
    yield from (("topping", t) for t in menu.toppings if t.available)
    yield from (("crust", c) for c in menu.crusts if c.available)


# Words a question adds around what it names: "a large pepperoni pizza", "thin crust".
_AROUND = {
    "pizza", "pizzas", "crust", "crusts", "base", "topping", "toppings", "on", "with", "for",
    "of", "and", "or", "one", "1", "2", "3", "extra", "masa", "con", "para", "y", "o", "it",
    "that", "those", "them", "each", "per", "slice", "whole", *(w for names in _SIZES.values()
                                                                for w in names),
}  # fmt: skip


def _named(rest, menu):
    """What `rest` names on the menu, as (kind, thing): an item the parser reads there
    (plurals, typos, Spanish names), else the longest name or alias said as whole words, when
    nothing else is said ("vegan cheese" is not our cheese pizza). None when neither."""
    said = " ".join(rest.split())
    best, best_score = None, 0.0
    for kind, thing in _candidates(menu):
        for rank, name in enumerate(_names(thing)):
            if not name or f" {name} " not in f" {said} ":
                continue
            left = f" {said} ".replace(f" {name} ", " ").split()
            if any(word not in _AROUND for word in left):
                continue
            # A name before an alias ("pineapple" is the topping, not Hawaiian's alias), an
            # item before a topping of the same name ("pepperoni").
            score = len(name) + (0.5 if rank == 0 else 0) + (0.1 if kind == "item" else 0)
            if score > best_score:
                best, best_score = (kind, thing), score
    if best is None:
        command = parse(f"order {rest}", menu.index)
        if command.kind == "order" and len(command.lines) == 1 and not command.unknown:
            line = command.lines[0]
            if not (line.toppings or line.crust or line.half or line.left or line.right):
                return "item", menu.by_code[line.code]
    return best


def _nearest(asked, menu):
    """The menu's thing whose name is most like `asked` (what we do have instead), or
    None: one sharing a word with it, else one spelled much the same."""
    words = {w for w in asked.split() if len(w) > 2 and w not in _AROUND}
    best, best_score = None, 0.0
    for _, thing in _candidates(menu):
        for name in _names(thing)[:-1]:
            ratio = SequenceMatcher(None, asked, name).ratio()
            score = ratio + len(words & set(name.split())) if ratio < 0.75 else ratio + 1
            if (words & set(name.split()) or ratio >= 0.75) and score > best_score:
                best, best_score = thing, score
    return best
