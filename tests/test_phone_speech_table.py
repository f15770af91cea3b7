"""What callers say, as Twilio's recognizer writes it (no punctuation or stray, numbers as
words or digits, sound-alikes, fillers, English and Spanish), and what the ordering line
makes of it: the lines parsed (orders.phone.heard_as, then the text parser), or the
phone line's next words (a quote read back, a question, a yes)."""

import io

import pytest

from orders import demo, services
from orders.parser import parse
from orders.phone import heard_as, spoken_turn

CALLER = "+14155550123"

# (what Twilio wrote, [(quantity, item code, size)], topping and crust codes on the first line)
ORDERS = [
    ("two large pepperoni", [(2, "PEP", "L")], ()),
    ("2 large pepperoni", [(2, "PEP", "L")], ()),
    ("Two large pepperoni.", [(2, "PEP", "L")], ()),
    ("two large pepperonis", [(2, "PEP", "L")], ()),
    ("two large pepperoni pizzas", [(2, "PEP", "L")], ()),
    ("too large pepperoni", [(2, "PEP", "L")], ()),
    ("to large pepperoni pizzas", [(2, "PEP", "L")], ()),
    ("for large pepperoni", [(4, "PEP", "L")], ()),
    ("four large pepperoni", [(4, "PEP", "L")], ()),
    ("won large pepperoni", [(1, "PEP", "L")], ()),
    ("one large pepperoni", [(1, "PEP", "L")], ()),
    ("a large pepperoni", [(1, "PEP", "L")], ()),
    ("a large pepperoni pizza please", [(1, "PEP", "L")], ()),
    ("uh a large pepperoni", [(1, "PEP", "L")], ()),
    ("um can I get a large pepperoni", [(1, "PEP", "L")], ()),
    ("can I get two large pepperoni for pickup", [(2, "PEP", "L")], ()),
    ("can I get 2 large pepperoni pizzas for pick up", [(2, "PEP", "L")], ()),
    ("I'd like a large pepperoni", [(1, "PEP", "L")], ()),
    ("I would like one large pepperoni please", [(1, "PEP", "L")], ()),
    ("I want a medium margherita", [(1, "MARG", "M")], ()),
    ("I want a medium margarita", [(1, "MARG", "M")], ()),
    ("let me get a small cheese pizza", [(1, "CHZ", "S")], ()),
    ("yeah let me get a small cheese pizza", [(1, "CHZ", "S")], ()),
    ("hi can I order a large hawaiian", [(1, "HAW", "L")], ()),
    ("hello I'd like to order a medium veggie", [(1, "VEG", "M")], ()),
    ("a large meat lovers", [(1, "MEAT", "L")], ()),
    ("large meat feast", [(1, "MEAT", "L")], ()),
    ("a medium barbecue chicken", [(1, "BBQ", "M")], ()),
    ("one large bbq chicken pizza", [(1, "BBQ", "L")], ()),
    ("a large four cheese", [(1, "FCH", "L")], ()),
    ("three small cheese pizzas", [(3, "CHZ", "S")], ()),
    ("3 small cheese pizzas", [(3, "CHZ", "S")], ()),
    ("five medium pepperoni", [(5, "PEP", "M")], ()),
    ("six large pepperoni", [(6, "PEP", "L")], ()),
    ("a large pepperoni and a garlic bread", [(1, "PEP", "L"), (1, "GBR", "")], ()),
    ("a large pepperoni and garlic bread", [(1, "PEP", "L"), (1, "GBR", "")], ()),
    ("two large pepperoni and two cokes", [(2, "PEP", "L"), (2, "COKE", "")], ()),
    ("a medium margherita and a sprite", [(1, "MARG", "M"), (1, "SPR", "")], ()),
    ("one large pepperoni one medium cheese", [(1, "PEP", "L"), (1, "CHZ", "M")], ()),
    ("a large pepperoni with mushrooms", [(1, "PEP", "L")], ("MUSH",)),
    ("a large pepperoni with extra cheese", [(1, "PEP", "L")], ("XCH",)),
    ("large pepperoni with onions and peppers", [(1, "PEP", "L")], ("ONI", "PEPR")),
    ("a large cheese pizza with bacon", [(1, "CHZ", "L")], ("BAC",)),
    ("a large pepperoni thin crust", [(1, "PEP", "L")], ("THIN",)),
    ("two large pepperoni thin crust", [(2, "PEP", "L")], ("THIN",)),
    ("a large pepperoni on thin crust", [(1, "PEP", "L")], ("THIN",)),
    ("large pepperoni gluten free crust", [(1, "PEP", "L")], ("GF",)),
    ("a large pepperoni stuffed crust", [(1, "PEP", "L")], ("STUF",)),
    ("an order of wings", [(1, "WNG", "")], ()),
    ("chicken wings", [(1, "WNG", "")], ()),
    ("two orders of chicken wings", [(2, "WNG", "")], ()),
    ("a caesar salad", [(1, "SAL", "")], ()),
    ("a garlic bread", [(1, "GBR", "")], ()),
    ("garlic knots", [(1, "GBR", "")], ()),
    ("a coke", [(1, "COKE", "")], ()),
    ("two cokes", [(2, "COKE", "")], ()),
    ("a water", [(1, "WTR", "")], ()),
    ("bottled water", [(1, "WTR", "")], ()),
    ("a large pepperoni for delivery", [(1, "PEP", "L")], ()),
    ("two large pepperoni delivered", [(2, "PEP", "L")], ()),
    ("two large pepperoni delivered to 12 main street", [(2, "PEP", "L")], ()),
    ("a large pepperoni at 7 pm", [(1, "PEP", "L")], ()),
    ("a large pepperoni for 7:30", [(1, "PEP", "L")], ()),
    ("a large pepperoni at seven thirty", [(1, "PEP", "L")], ()),
    ("a large pepperoni for pickup at 6 pm", [(1, "PEP", "L")], ()),
    ("large pepperoni", [(1, "PEP", "L")], ()),
    ("pepperoni large", [(1, "PEP", "L")], ()),
    ("a large roni", [(1, "PEP", "L")], ()),
    ("a large pepperoni pizza thanks", [(1, "PEP", "L")], ()),
    ("okay a large pepperoni", [(1, "PEP", "L")], ()),
    ("good evening a large pepperoni please", [(1, "PEP", "L")], ()),
    ("hey there can I get a large pepperoni", [(1, "PEP", "L")], ()),
    ("so I'll have a large pepperoni", [(1, "PEP", "L")], ()),
    ("I'll take two medium pepperoni", [(2, "PEP", "M")], ()),
    ("give me a large cheese", [(1, "CHZ", "L")], ()),
    ("could I please get a medium hawaiian", [(1, "HAW", "M")], ()),
    ("I need three large pepperoni", [(3, "PEP", "L")], ()),
    # Spanish, as es-US recognition writes it
    ("dos pizzas grandes de pepperoni", [(2, "PEP", "L")], ()),
    ("una pizza grande de pepperoni", [(1, "PEP", "L")], ()),
    ("una pepperoni grande", [(1, "PEP", "L")], ()),
    ("quiero una pizza grande de pepperoni", [(1, "PEP", "L")], ()),
    ("quiero dos pizzas grandes de queso", [(2, "CHZ", "L")], ()),
    ("me da una hawaiana mediana", [(1, "HAW", "M")], ()),
    ("una hawaiana grande", [(1, "HAW", "L")], ()),
    ("una vegetariana mediana", [(1, "VEG", "M")], ()),
    ("tres pizzas chicas de queso", [(3, "CHZ", "S")], ()),
    ("una pizza grande de pepperoni con champiñones", [(1, "PEP", "L")], ("MUSH",)),
    ("una pizza grande de pepperoni con cebolla", [(1, "PEP", "L")], ("ONI",)),
    ("una grande de pepperoni y un pan de ajo", [(1, "PEP", "L"), (1, "GBR", "")], ()),
    ("una grande de pepperoni y unas alitas", [(1, "PEP", "L"), (1, "WNG", "")], ()),
    ("dos coca colas", [(2, "COKE", "")], ()),
    ("una ensalada", [(1, "SAL", "")], ()),
    ("hola quiero una pizza grande de pepperoni", [(1, "PEP", "L")], ()),
    ("buenas noches una pizza grande de pepperoni por favor", [(1, "PEP", "L")], ()),
]

# (what Twilio wrote, the parser's reading: yes, reorder, ...)
KINDS = [
    ("yes", "yes"),
    ("Yes.", "yes"),
    ("yeah", "yes"),
    ("yep", "yes"),
    ("yes please", "yes"),
    ("sure", "yes"),
    ("that's right", "yes"),
    ("sí", "yes"),
    ("si", "yes"),
    ("the usual", "reorder"),
    ("same as last time", "reorder"),
    ("lo de siempre", "reorder"),
]

# (what Twilio wrote, words the caller hears next)
PROMPTS = [
    ("a large chicken pizza", "Which chicken would you like? BBQ Chicken"),
    ("two large pepperoni delivered", "Where should we deliver?"),
    ("three extra large pepperoni", "We make small, medium and large."),
    ("a large sushi", "Sorry, I didn't catch that."),
    ("a large pepperoni and a sushi", "I left out sushi: it is not on our menu."),
    ("do you have gluten free", "Yes, we have Gluten-free crust."),  # a question (issue 25)
    ("gluten free", "Sorry, I didn't catch that."),
    ("blah blah", "Sorry, I didn't catch that."),
    ("one hundred large pepperoni", "please ask for a person"),
    ("a medium pepperoni", "You'd like 1 medium Pepperoni."),
    ("a large pepperoni with mushrooms", "You'd like 1 large Pepperoni with Mushrooms."),
    ("two large pepperoni thin crust", "You'd like 2 large Pepperoni, thin crust."),
    ("a large pepperoni and a garlic bread", "The total is 21 dollars."),
    ("a large pepperoni with extra cheese", "The total is 18 dollars and 50 cents."),
    ("a large pepperoni at 7 pm", "For pickup at 7:00 PM."),
    ("a pepperoni", "You didn't say a size for Pepperoni, so that's a medium."),
]


@pytest.fixture
def index(db, two_pm):
    demo.seed(io.StringIO())
    return services.menu().index


def lines_of(speech, index):
    command = parse(heard_as(speech, index), index)
    return command, [(line.quantity, line.code, line.size) for line in command.lines]


@pytest.mark.parametrize(("speech", "lines", "modifiers"), ORDERS)
def test_spoken_orders(index, speech, lines, modifiers):
    command, parsed = lines_of(speech, index)
    assert command.kind == "order", command
    assert parsed == lines
    first = command.lines[0]
    assert set(modifiers) <= {*first.toppings, first.crust}, first


@pytest.mark.parametrize(("speech", "kind"), KINDS)
def test_spoken_answers(index, speech, kind):
    assert parse(heard_as(speech, index), index).kind == kind


@pytest.mark.parametrize(("speech", "heard"), PROMPTS)
def test_what_the_caller_hears_next(index, settings, speech, heard):
    settings.SHOP_HOURS = "24/7"
    turn = spoken_turn(CALLER, speech)
    assert heard in turn.say


def test_the_table_is_as_long_as_the_issue_asks():
    assert len(ORDERS) + len(KINDS) + len(PROMPTS) >= 120
