"""Issue 29's texts as a table: greetings and filler around an order, toppings by halves, "x"
quantities, Spanish names, a count of pizzas followed by the pizzas, read against the demo
menu (with its plain Cheese pizza and Spanish aliases)."""

import pytest

from orders import demo
from orders.parser import Menu, MenuEntry, ModifierEntry, parse


def _aliases(text):
    return tuple(a.strip() for a in text.split(",") if a.strip())


MENU = Menu(
    tuple(MenuEntry(c, n, any(p), _aliases(a), cat) for c, n, cat, a, p in demo.MENU),
    tuple(ModifierEntry(c, n, _aliases(a)) for c, n, a, *_ in demo.TOPPINGS),
    tuple(ModifierEntry(c, n, _aliases(a)) for c, n, a, *_ in demo.CRUSTS),
)


def line(spec):
    """ "2 PEP L" or "1 CHZ L left=TPEP right=MUSH half=CHZ note=well done" as a tuple."""
    parts = spec.split(" ")
    quantity, code, size = parts[:3]
    extra = dict(part.split("=", 1) for part in parts[3:])
    return (
        int(quantity), code, "" if size == "-" else size,
        tuple(filter(None, extra.get("toppings", "").split("+"))), extra.get("half", ""),
        tuple(filter(None, extra.get("left", "").split("+"))),
        tuple(filter(None, extra.get("right", "").split("+"))),
        extra.get("note", "").replace("_", " "),
    )  # fmt: skip


TABLE = [
    # the issue's own texts
    ("large pizza half pepperoni half mushroom", ["1 CHZ L left=TPEP right=MUSH"]),
    ("2 x large pep", ["2 PEP L"]),
    ("una pizza de queso grande", ["1 CHZ L"]),
    ("una hawaiana grande", ["1 HAW L"]),
    ("a large cheese pizza please", ["1 CHZ L"]),
    ("Good morning! I'd like to order a large pepperoni for pickup please. Thanks!", ["1 PEP L"]),
    ("Can I order 2 pizzas? one pepperoni and one margherita, both large",
     ["1 PEP L", "1 MARG L"]),
    ("ok large meat feast then, well done", ["1 MEAT L note=well_done"]),
    ("cn i get a lrg peperoni", ["1 PEP L"]),
    ("Heyyy \U0001f44b can i get a med margherita", ["1 MARG M"]),
    # greetings, politeness and filler
    ("hi can i get a large pepperoni", ["1 PEP L"]),
    ("hello, 2 medium margheritas please", ["2 MARG M"]),
    ("hey there can I get one large hawaiian thanks", ["1 HAW L"]),
    ("good evening, 1 large veggie for pickup", ["1 VEG L"]),
    ("Hiii could i get a small bbq chicken pls", ["1 BBQ S"]),
    ("yo lemme get 2 large pep", ["2 PEP L"]),
    ("Good afternoon! One medium meat feast please, thank you", ["1 MEAT M"]),
    ("thanks! a large cheese pizza", ["1 CHZ L"]),
    ("ok so 1 large pepperoni and a coke", ["1 PEP L", "1 COKE -"]),
    ("um can i get a med hawaiian", ["1 HAW M"]),
    ("Sorry, can I actually get 2 large pepperoni", ["2 PEP L"]),
    ("plsss 1 large pepperoni", ["1 PEP L"]),
    ("hola, una pizza grande de pepperoni por favor", ["1 PEP L"]),
    ("buenas noches, dos hawaianas medianas", ["2 HAW M"]),
    ("buenos dias me da una pizza de queso grande", ["1 CHZ L"]),
    # halves with toppings
    ("a large half pepperoni half sausage", ["1 CHZ L left=TPEP right=SAUS"]),
    ("1 L half hawaiian half mushroom", ["1 HAW L half=CHZ right=MUSH"]),
    ("large pepperoni pizza half mushroom", ["1 PEP L right=MUSH"]),
    ("medium pizza half ham half pineapple", ["1 CHZ M left=HAM right=PINE"]),
    ("half pepperoni and half margherita large", ["1 PEP L half=MARG"]),
    ("1 large cheese pizza half onion half olives", ["1 CHZ L left=ONI right=OLV"]),
    ("pizza grande mitad jamon mitad champinones", ["1 CHZ L left=HAM right=MUSH"]),
    ("a large pizza with mushrooms and onions", ["1 CHZ L toppings=MUSH+ONI"]),
    # x quantities
    ("3 x medium margherita", ["3 MARG M"]),
    ("1 x large hawaiian", ["1 HAW L"]),
    ("2 X L PEP", ["2 PEP L"]),
    ("4 x small cheese pizza", ["4 CHZ S"]),
    ("2 × large veggie", ["2 VEG L"]),
    # Spanish names
    ("una pizza de queso mediana", ["1 CHZ M"]),
    ("dos alitas y un agua", ["2 WNG -", "1 WTR -"]),
    ("una vegetariana chica", ["1 VEG S"]),
    ("una pizza de carnes grande", ["1 MEAT L"]),
    ("quiero pan de ajo y una ensalada", ["1 GBR -", "1 SAL -"]),
    ("quiero una vegetariana grande y una coca", ["1 VEG L", "1 COKE -"]),
    ("dos pizzas grandes de pepperoni", ["2 PEP L"]),
    # a count of pizzas, then the pizzas
    ("two pizzas: one hawaiian, one veggie, both medium", ["1 HAW M", "1 VEG M"]),
    ("2 large pizzas, one pepperoni one cheese", ["1 PEP L", "1 CHZ L"]),
    ("3 large pizzas: 1 pepperoni, 1 hawaiian and 1 veggie", ["1 PEP L", "1 HAW L", "1 VEG L"]),
]  # fmt: skip


@pytest.mark.parametrize("text, lines", TABLE, ids=[t for t, _ in TABLE])
def test_what_customers_write_is_read_as_they_meant(text, lines):
    command = parse(text, MENU)
    assert command.kind == "order", command
    got = [
        (x.quantity, x.code, x.size, x.toppings, x.half, x.left, x.right, x.note)
        for x in command.lines
    ]
    assert got == [line(spec) for spec in lines]
    assert command.unknown == () and command.ambiguous == (), command


def test_an_x_before_a_size_is_times_but_xl_is_a_size_we_do_not_make():
    assert parse("2 xl pep", MENU).unsupported_sizes == ("xl",)
    assert parse("2 x large pep", MENU).unsupported_sizes == ()


def test_what_is_not_on_the_menu_is_named_beside_what_is():
    command = parse("can i get 2 large pepperoni and a calzone", MENU)
    assert [(x.quantity, x.code) for x in command.lines] == [(2, "PEP")]
    assert command.unknown == ("calzone",)
