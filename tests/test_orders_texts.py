"""Texts as customers write them, each with what the parser must read from it: the kind, every
line (size, quantity, toppings, crust, half, note), the language and the time asked for.

A line is written "2 PEP L +XCH +MUSH /THIN ^MARG #well done": quantity, code, size, toppings,
crust, other half, kitchen note. Lines of one text are separated by " | "."""

from datetime import time

import pytest

from orders.parser import Line, Menu, parse
from orders.parser import MenuEntry as Item
from orders.parser import ModifierEntry as Mod

MENU = Menu(
    items=(
        Item("PEP", "Pepperoni", True, ("pepperoni pizza", "roni"), "pizza"),
        Item("MARG", "Margherita", True, ("margarita", "marg"), "pizza"),
        Item("HAW", "Hawaiian", True, ("hawaiana",), "pizza"),
        Item("VEG", "Veggie Supreme", True, ("veggie", "vegetarian", "vegetariana"), "pizza"),
        Item("MEAT", "Meat Feast", True, ("meat lovers", "carnes"), "pizza"),
        Item("BBQ", "BBQ Chicken", True, ("bbq", "barbecue chicken"), "pizza"),
        Item("FCH", "Four Cheese", True, ("cheese", "quattro formaggi", "cuatro quesos"), "pizza"),
        Item("GBR", "Garlic Bread", False, ("garlic knots", "pan de ajo"), "side"),
        Item("WNG", "Chicken Wings (8)", False, ("wings", "alitas"), "side"),
        Item("SAL", "Caesar Salad", False, ("salad", "ensalada"), "side"),
        Item("COKE", "Coke", False, ("coca cola", "coca", "cola", "coke zero"), "drink"),
        Item("SPR", "Sprite", False, ("7up",), "drink"),
        Item("WTR", "Water", False, ("agua", "bottled water"), "drink"),
    ),
    toppings=(
        Mod("XCH", "Extra cheese", ("cheese", "queso", "queso extra", "mozzarella")),
        Mod("MUSH", "Mushrooms", ("champinones", "hongos")),
        Mod("ONI", "Onions", ("cebolla", "red onion")),
        Mod("PEPR", "Green peppers", ("peppers", "pimiento", "bell peppers")),
        Mod("OLV", "Black olives", ("olives", "aceitunas")),
        Mod("TPEP", "Pepperoni", ()),
        Mod("HAM", "Ham", ("jamon",)),
        Mod("BAC", "Bacon", ("tocino",)),
        Mod("PINE", "Pineapple", ("pina",)),
        Mod("JAL", "Jalapenos", ("jalapeno",)),
        Mod("SAUS", "Italian sausage", ("sausage", "salchicha")),
    ),
    crusts=(
        Mod("REG", "Regular", ("hand tossed", "classic", "regular crust")),
        Mod("THIN", "Thin", ("thin crust", "delgada", "masa delgada", "fina")),
        Mod("GF", "Gluten-free", ("gluten free", "gf", "sin gluten", "celiac")),
        Mod("STUF", "Stuffed crust", ("stuffed",)),
    ),
)
PIZZAS = ("PEP", "MARG", "HAW", "VEG", "MEAT", "BBQ", "FCH")


def lines(spec):
    """Lines from "2 PEP L +XCH /THIN ^MARG #well done | 1 COKE"."""
    result = []
    for part in filter(None, (p.strip() for p in spec.split("|"))):
        part, _, note = part.partition("#")
        words = part.split()
        quantity, code, rest = int(words[0]), words[1], words[2:]
        size = next((w for w in rest if w in ("S", "M", "L")), "")
        toppings = tuple(w[1:] for w in rest if w.startswith("+"))
        crust = next((w[1:] for w in rest if w.startswith("/")), "")
        half = next((w[1:] for w in rest if w.startswith("^")), "")
        result.append(Line(code, quantity, size, toppings, crust, half, note.strip()))
    return tuple(result)


def T(text, kind, spec="", lang="en", at=None, **more):  # noqa: N802 (a table row)
    return pytest.param(text, kind, spec, lang, at, more, id=text or "(empty)")


TEXTS = [
    # --- the examples ---
    T("can i get 2 large pepperoni pizzas please", "order", "2 PEP L"),
    T("Hi! I'd like a medium margherita and a coke", "order", "1 MARG M | 1 COKE"),
    T("ORDER 1 large pepperoni with extra cheese and mushrooms", "order", "1 PEP L +XCH +MUSH"),
    T("ORDER 1 medium veggie thin crust", "order", "1 VEG M /THIN"),
    T("ORDER 1 large pepperoni, well done please", "order", "1 PEP L #well done"),
    T("ORDER 3 xl pepperoni", "order", "3 PEP", bad=("xl",), unsized=("PEP",)),
    T("I want a pizza", "order", choice=("pizza", PIZZAS)),
    T("where is my pizza??", "status"),
    T("how long?", "status"),
    T("is my order ready", "status"),
    T("please cancel my order", "cancel"),
    T("\U0001f621 where is my pizza??", "status"),
    T("order 1 large pepperoni for pickup at 7pm", "order", "1 PEP L", at=time(19)),
    T("same as last time", "reorder"),
    T("the usual", "reorder"),
    T("quiero una pizza grande de pepperoni", "order", "1 PEP L", lang="es"),
    T("hola, cuál es el menú?", "menu", lang="es"),
    # --- plain English orders, no keyword ---
    T("2 large pepperoni", "order", "2 PEP L"),
    T("a large pepperoni please", "order", "1 PEP L"),
    T("can I get a large pepperoni and a coke", "order", "1 PEP L | 1 COKE"),
    T("could i have two medium margheritas", "order", "2 MARG M"),
    T("I'd like 3 small hawaiians", "order", "3 HAW S"),
    T("i want 1 lg bbq chicken", "order", "1 BBQ L"),
    T("Can I please get a large meat lovers", "order", "1 MEAT L"),
    T("id like a large four cheese pizza", "order", "1 FCH L"),
    T("get me 2 L pep n 2 cokes", "order", "2 PEP L | 2 COKE"),
    T("one large pepperoni, one medium veggie, and two sprites", "order",
      "1 PEP L | 1 VEG M | 2 SPR"),
    T("2 med marg + 1 garlic bread", "order", "2 MARG M | 1 GBR"),
    T("large pep and wings", "order", "1 PEP L | 1 WNG"),
    T("I'll have a small margherita", "order", "1 MARG S"),
    T("gimme 2 large pepperonis", "order", "2 PEP L"),
    T("need 4 large pepperoni for a party", "order", "4 PEP L"),
    T("a dozen wings", "order", "12 WNG"),
    T("i want a couple of large pepperonis", "order", "2 PEP L"),
    T("3 L PEP 2 M MARG 1 GBR", "order", "3 PEP L | 2 MARG M | 1 GBR"),
    T("2x large pepperoni", "order", "2 PEP L"),
    T("large pepperoni x3", "order", "3 PEP L"),
    T("can i get a large pepperoni pizza and a caesar salad", "order", "1 PEP L | 1 SAL"),
    T("i want a medium veggie and a water", "order", "1 VEG M | 1 WTR"),
    T("send me 1 large bbq chicken", "order", "1 BBQ L"),
    T("want 2 sm pep", "order", "2 PEP S"),
    T("Hey, can we get two large pepperonis and 4 cokes please", "order", "2 PEP L | 4 COKE"),
    T("1 large pepperoni\n1 medium margherita\n2 cokes", "order", "1 PEP L | 1 MARG M | 2 COKE"),
    T("i would like one large hawaiian pizza", "order", "1 HAW L"),
    T("a large pepperoni and a large pepperoni", "order", "2 PEP L"),
    T("medium margarita", "order", "1 MARG M"),
    T("S pep", "order", "1 PEP S"),
    T("M MARG", "order", "1 MARG M"),
    T("big pepperoni", "order", "1 PEP L"),
    T("1 large roni", "order", "1 PEP L"),
    # --- typos ---
    T("2 large peperoni", "order", "2 PEP L"),
    T("1 large pepperonni", "order", "1 PEP L"),
    T("a medium margerita", "order", "1 MARG M"),
    T("1 sm hawaiin", "order", "1 HAW S"),
    T("can i get a larg pepperoni", "order", "1 PEP L"),
    T("1 meduim veggie", "order", "1 VEG M"),
    T("2 garlic bred", "order", "2 GBR"),
    T("i want a large bbq chiken", "order", "1 BBQ L"),
    T("ORDER 1 large pepperoni with extra chese", "order", "1 PEP L +XCH"),
    T("1 large pepperoni with mushroms", "order", "1 PEP L +MUSH"),
    T("oder 1 large pep", "order", "1 PEP L"),
    T("ordr 2 medium margherita", "order", "2 MARG M"),
    T("i want a large margeritha", "order", "1 MARG L"),
    T("2 large peppperoni pizzas", "order", "2 PEP L"),
    T("1 lrg pep", "order", "1 PEP L"),
    # --- toppings ---
    T("1 large margherita with mushrooms", "order", "1 MARG L +MUSH"),
    T("large margherita with pepperoni", "order", "1 MARG L +TPEP"),
    T("a medium pepperoni with onions and peppers", "order", "1 PEP M +ONI +PEPR"),
    T("1 large pep w/ extra cheese", "order", "1 PEP L +XCH"),
    T("2 large margherita with olives, ham and bacon", "order", "2 MARG L +OLV +HAM +BAC"),
    T("1 medium four cheese add jalapenos", "order", "1 FCH M +JAL"),
    T("a large veggie plus extra cheese", "order", "1 VEG L +XCH"),
    T("one large pepperoni with sausage & mushrooms and a coke", "order",
      "1 PEP L +SAUS +MUSH | 1 COKE"),
    T("1 small margherita with pineapple", "order", "1 MARG S +PINE"),
    T("1 L MARG +MUSH +ONI", "order", "1 MARG L +MUSH +ONI"),
    T("order 1 large pepperoni with extra pepperoni", "order", "1 PEP L +TPEP"),
    T("1 medium margherita with green peppers", "order", "1 MARG M +PEPR"),
    T("a large pepperoni extra cheese", "order", "1 PEP L +XCH"),
    T("2 medium pepperoni with mushrooms, 1 small margherita", "order",
      "2 PEP M +MUSH | 1 MARG S"),
    T("1 large pepperoni with anchovies", "order", "1 PEP L", unknown=("anchovies",)),
    T("1 large cheese pizza", "order", "1 FCH L"),
    T("large four cheese with bacon", "order", "1 FCH L +BAC"),
    T("1 large pepperoni with black olives", "order", "1 PEP L +OLV"),
    T("1 medium margherita with red onion", "order", "1 MARG M +ONI"),
    T("a large pizza with mushrooms", "order", choice=("pizza", PIZZAS)),
    # --- crusts ---
    T("1 large pepperoni thin crust", "order", "1 PEP L /THIN"),
    T("2 medium margherita on gluten free crust", "order", "2 MARG M /GF"),
    T("1 large veggie gluten-free", "order", "1 VEG L /GF"),
    T("1 small pep gf", "order", "1 PEP S /GF"),
    T("a large pepperoni stuffed crust", "order", "1 PEP L /STUF"),
    T("1 large thin crust pepperoni", "order", "1 PEP L /THIN"),
    T("1 medium hawaiian hand tossed", "order", "1 HAW M /REG"),
    T("1 large pepperoni thin crust with extra cheese", "order", "1 PEP L +XCH /THIN"),
    T("2 large pepperoni, thin crust", "order", "2 PEP L /THIN"),
    T("1 medium margherita on thin crust, well done", "order", "1 MARG M /THIN #well done"),
    # --- half and half ---
    T("1 large half pepperoni half margherita", "order", "1 PEP L ^MARG"),
    T("large half pepperoni and half hawaiian", "order", "1 PEP L ^HAW"),
    T("order 1 medium half veggie half meat feast", "order", "1 VEG M ^MEAT"),
    T("2 large half pep half marg", "order", "2 PEP L ^MARG"),
    T("1 large half bbq chicken half four cheese thin crust", "order", "1 BBQ L /THIN ^FCH"),
    T("1 grande mitad pepperoni mitad hawaiana", "order", "1 PEP L ^HAW", lang="es"),
    # --- kitchen notes ---
    T("1 large pepperoni well done", "order", "1 PEP L #well done"),
    T("1 large pepperoni, cut in squares", "order", "1 PEP L #cut in squares"),
    T("1 large margherita extra crispy", "order", "1 MARG L #extra crispy"),
    T("1 large pepperoni no onions", "order", "1 PEP L #no onions"),
    T("1 medium veggie without olives", "order", "1 VEG M #without olives"),
    T("2 large pepperoni, well done, cut in squares", "order",
      "2 PEP L #well done; cut in squares"),
    T("1 large pepperoni light sauce", "order", "1 PEP L #light sauce"),
    T("1 large pepperoni uncut please", "order", "1 PEP L #uncut"),
    T("1 pizza grande de pepperoni bien cocida", "order", "1 PEP L #bien cocida", lang="es"),
    T("1 mediana margarita sin cebolla", "order", "1 MARG M #sin cebolla", lang="es"),
    T("1 large pep with mushrooms well done and 2 cokes", "order",
      "1 PEP L +MUSH #well done | 2 COKE"),
    # --- times ---
    T("2 large pepperoni at 7", "order", "2 PEP L", at=time(19)),
    T("ORDER 1 L PEP for 6:30pm", "order", "1 PEP L", at=time(18, 30)),
    T("1 large pepperoni for pickup at 6:45", "order", "1 PEP L", at=time(18, 45)),
    T("can i get a large pep at 8pm", "order", "1 PEP L", at=time(20)),
    T("a medium margherita for 7:15", "order", "1 MARG M", at=time(19, 15)),
    T("order 1 large pepperoni at 12", "order", "1 PEP L", at=time(12)),
    T("order 1 large pepperoni at 11am", "order", "1 PEP L", at=time(11)),
    T("order 1 large pepperoni at noon", "order", "1 PEP L", at=time(12)),
    T("order 2 large pep deliver at 6:30 to 12 Main St", "order", "2 PEP L",
      at=time(18, 30), address="12 Main St"),
    T("1 large pepperoni deliver at 6:30", "order", "1 PEP L", at=time(18, 30), address="?"),
    T("una pizza grande de pepperoni a las 7", "order", "1 PEP L", lang="es", at=time(19)),
    T("dos medianas de pepperoni para las 8:30", "order", "2 PEP M", lang="es",
      at=time(20, 30)),
    T("quiero una hawaiana grande a las 9 de la noche", "order", "1 HAW L", lang="es",
      at=time(21)),
    T("una grande de pepperoni a las 7 y media", "order", "1 PEP L", lang="es",
      at=time(19, 30)),
    T("1 large pep @ 7pm", "order", "1 PEP L", at=time(19)),
    T("order 1 large pepperoni deliver to 12 Main St", "order", "1 PEP L",
      address="12 Main St"),
    T("1 large pepperoni at 25", "order", "1 PEP L", unknown=("25",)),
    # --- Spanish orders ---
    T("quiero dos pizzas grandes de pepperoni", "order", "2 PEP L", lang="es"),
    T("una pizza mediana de margarita y una coca", "order", "1 MARG M | 1 COKE", lang="es"),
    T("me da una grande hawaiana por favor", "order", "1 HAW L", lang="es"),
    T("quisiera 3 pizzas pequeñas vegetarianas", "order", "3 VEG S", lang="es"),
    T("dame una grande de pepperoni con champiñones", "order", "1 PEP L +MUSH", lang="es"),
    T("una pizza grande de pepperoni con queso extra", "order", "1 PEP L +XCH", lang="es"),
    T("2 medianas de pepperoni masa delgada", "order", "2 PEP M /THIN", lang="es"),
    T("una grande de cuatro quesos sin gluten", "order", "1 FCH L /GF", lang="es"),
    T("quiero una pizza grande de pepperoni con jamón y aceitunas", "order",
      "1 PEP L +HAM +OLV", lang="es"),
    T("una de pepperoni grande y dos aguas", "order", "1 PEP L | 2 WTR", lang="es"),
    T("hola quiero pedir una pizza mediana de carnes", "order", "1 MEAT M", lang="es"),
    T("tres grandes de pepperoni y unas alitas", "order", "3 PEP L | 1 WNG", lang="es",
      ),
    T("una pequeña hawaiana con piña", "order", "1 HAW S +PINE", lang="es"),
    T("quiero una pizza", "order", lang="es", choice=("pizza", PIZZAS)),
    T("quiero una pizza grande", "order", lang="es", choice=("pizza", PIZZAS)),
    T("una grande de peperoni", "order", "1 PEP L", lang="es"),
    T("dos pizzas medianas de pepperoni y un pan de ajo", "order", "2 PEP M | 1 GBR",
      lang="es"),
    T("una ensalada y una coca cola", "order", "1 SAL | 1 COKE", lang="es"),
    # --- ambiguity, sizes we do not make, what we do not sell ---
    T("1 large chicken", "order", choice=("chicken", ("BBQ", "WNG"))),
    T("can i get a pizza", "order", choice=("pizza", PIZZAS)),
    T("i want a large pizza", "order", choice=("pizza", PIZZAS)),
    T("2 extra large pepperoni", "order", "2 PEP", bad=("extra large",), unsized=("PEP",)),
    T("1 family size margherita", "order", "1 MARG", bad=("family",), unsized=("MARG",)),
    T("una familiar de pepperoni", "order", "1 PEP", lang="es", bad=("familiar",),
      unsized=("PEP",)),
    T("ORDER 1 calzone", "order", unknown=("calzone",)),
    T("can i get 2 large pepperoni and a calzone", "order", "2 PEP L", unknown=("calzone",)),
    T("i want sushi", "chat"),
    T("1 pepperoni", "order", "1 PEP", unsized=("PEP",)),
    T("order 30 large pepperoni", "order", too_many=("Pepperoni",)),
    T("half pepperoni half margherita", "order", "1 PEP ^MARG", unsized=("PEP",)),
    # --- status ---
    T("STATUS", "status"),
    T("where is my order", "status"),
    T("wheres my food", "status"),
    T("how long will it be?", "status"),
    T("how much longer??", "status"),
    T("is it ready yet", "status"),
    T("ready yet?", "status"),
    T("any eta?", "status"),
    T("hey where is my order it's been an hour", "status"),
    T("¿dónde está mi pedido?", "status", lang="es"),
    T("cuánto falta?", "status", lang="es"),
    T("cuanto tarda mi pizza", "status", lang="es"),
    T("ya está listo?", "status", lang="es"),
    T("where's my pizza", "status"),
    T("are my pizzas ready", "status"),
    # --- cancel ---
    T("CANCEL ORDER", "cancel"),
    T("cancel my order please", "cancel"),
    T("can you cancel my order", "cancel"),
    T("i want to cancel my order", "cancel"),
    T("cancela mi pedido", "cancel", lang="es"),
    T("quiero cancelar mi pedido por favor", "cancel", lang="es"),
    T("hi please cancel the order", "cancel"),
    T("cancel", "suggest"),
    # --- reorder ---
    T("same again please", "reorder"),
    T("my usual please", "reorder"),
    T("same order as last time", "reorder"),
    T("lo de siempre", "reorder", lang="es"),
    T("lo mismo de la última vez", "reorder", lang="es"),
    T("repeat my last order", "reorder"),
    T("ORDER", "reorder"),
    T("\U0001f355", "reorder"),
    # --- menu ---
    T("MENU", "menu"),
    T("what do you have?", "menu"),
    T("what pizzas do you have", "menu"),
    T("can I see the menu", "menu"),
    T("menú", "menu", lang="es"),
    T("qué tienen?", "menu", lang="es"),
    T("menu por favor", "menu", lang="es"),
    T("what toppings do you have", "menu"),
    # --- yes / no ---
    T("YES", "yes"),
    T("yes please", "yes"),
    T("sí", "yes", lang="es"),
    T("si", "yes", lang="es"),
    T("Si por favor", "yes", lang="es"),
    T("claro", "yes", lang="es"),
    T("\U0001f44d", "yes"),
    T("ok", "yes"),
    T("no", "no"),
    T("no thanks", "no"),
    T("no gracias", "no", lang="es"),
    T("nope", "no"),
    # --- help, talk ---
    T("HELP", "help"),
    T("ayuda", "help", lang="es"),
    T("hello", "chat"),
    T("hola", "chat", lang="es"),
    T("thanks, it was delicious", "chat"),
    T("the cheese was cold", "chat"),
    T("my order was cold", "chat"),
    T("where is my driver??", "chat"),
    T("pizza?", "chat"),
    T("", "chat"),
    T("gracias!", "chat", lang="es"),
    T("do you deliver to Oakland?", "chat"),
]  # fmt: skip


@pytest.mark.parametrize("text, kind, spec, lang, at, more", TEXTS)
def test_a_customer_text_reads_as_what_the_customer_meant(text, kind, spec, lang, at, more):
    command = parse(text, MENU)
    assert command.kind == kind
    assert command.lines == lines(spec)
    assert command.language == lang
    assert command.scheduled_for == at
    assert command.unknown == more.get("unknown", ())
    assert command.unsupported_sizes == more.get("bad", ())
    assert command.address == more.get("address", "")
    assert command.too_many == more.get("too_many", ())
    if kind == "order":
        assert command.unsized == more.get("unsized", ())
    choices = [(c.phrase, c.options) for c in command.ambiguous]
    assert choices == ([more["choice"]] if "choice" in more else [])


def test_the_table_has_at_least_200_texts():
    assert len(TEXTS) >= 200


# --- pricing a line with modifiers (orders.menu.unit_price, pure) ---------------------------

D = __import__("decimal").Decimal
PEP = {"S": D("10"), "M": D("13"), "L": D("16")}
MARG = {"S": D("9"), "M": D("12"), "L": D("15")}
CHEESE = {"S": D("1.50"), "M": D("2"), "L": D("2.50")}
MUSHROOMS = {"S": D("1"), "M": D("1.50"), "L": D("2")}
GLUTEN_FREE = {"S": D("2"), "M": D("3"), "L": D("3")}


def test_toppings_are_priced_for_the_size_of_the_pizza():
    from orders.menu import unit_price

    assert unit_price(PEP, "L", [CHEESE, MUSHROOMS]) == ("L", D("20.50"))
    assert unit_price(PEP, "S", [CHEESE, MUSHROOMS]) == ("S", D("12.50"))


def test_a_crust_adds_its_surcharge_for_the_size():
    from orders.menu import unit_price

    assert unit_price(MARG, "M", crust=GLUTEN_FREE) == ("M", D("15"))


def test_half_and_half_costs_the_dearer_half_plus_toppings_once():
    from orders.menu import unit_price

    assert unit_price(MARG, "L", [CHEESE], half=PEP) == ("L", D("18.50"))
    assert unit_price(PEP, "L", [CHEESE], half=MARG) == ("L", D("18.50"))


def test_a_line_without_a_size_is_priced_as_a_medium_and_one_size_items_as_they_are():
    from orders.menu import unit_price

    assert unit_price(PEP, "", [MUSHROOMS]) == ("M", D("14.50"))
    assert unit_price({"": D("2.50")}, "L") == ("", D("2.50"))
    assert unit_price({}, "L") == (None, None)
