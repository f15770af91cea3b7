"""Demo data of the orders app (menu), loaded by `manage.py seed_demo`."""

from decimal import Decimal

from .menu import menu_changed
from .models import Crust, MenuItem, MenuPrice, Topping


def _sml(small, medium, large):
    return {"S": small, "M": medium, "L": large}


# code, name, category, aliases, prices ({size: price}; "" for one size)
MENU = [
    ("PEP", "Pepperoni", "pizza", "pepperoni pizza, roni", _sml("10", "13", "16")),
    ("CHZ", "Cheese", "pizza", "cheese pizza, plain, queso, pizza de queso", _sml("9", "11", "14")),
    ("MARG", "Margherita", "pizza", "margarita, marg", _sml("9", "12", "15")),
    ("HAW", "Hawaiian", "pizza", "ham and pineapple, pineapple, hawaiana", _sml("11", "14", "17")),
    ("VEG", "Veggie Supreme", "pizza", "veggie, vegetarian, vegetariana", _sml("11", "14", "17")),
    ("MEAT", "Meat Feast", "pizza", "meat lovers, meat, carnes", _sml("12", "15", "18")),
    ("BBQ", "BBQ Chicken", "pizza", "bbq, barbecue chicken, pollo bbq", _sml("12", "15", "18")),
    ("FCH", "Four Cheese", "pizza", "quattro formaggi, cuatro quesos", _sml("11", "14", "17")),
    ("GBR", "Garlic Bread", "side", "garlic, garlic knots, pan de ajo", {"": "5"}),
    ("WNG", "Chicken Wings (8)", "side", "wings, chicken wings, alitas", {"": "9"}),
    ("SAL", "Caesar Salad", "side", "salad, caesar, ensalada", {"": "7"}),
    ("COKE", "Coke", "drink", "coca cola, cola, coca, coke zero", {"": "2.50"}),
    ("SPR", "Sprite", "drink", "lemonade, 7up", {"": "2.50"}),
    ("WTR", "Water", "drink", "bottled water, agua", {"": "1.50"}),
]  # fmt: skip
# code, name, aliases, price on a small / medium / large
TOPPINGS = [
    ("XCH", "Extra cheese", "cheese, mozzarella, queso, queso extra", "1.50", "2", "2.50"),
    ("MUSH", "Mushrooms", "mushroom, champinones, hongos", "1", "1.50", "2"),
    ("ONI", "Onions", "onion, red onion, cebolla", "1", "1.50", "2"),
    ("PEPR", "Green peppers", "peppers, bell peppers, pimiento", "1", "1.50", "2"),
    ("OLV", "Black olives", "olives, olive, aceitunas", "1", "1.50", "2"),
    ("TPEP", "Pepperoni", "", "1.50", "2", "2.50"),
    ("HAM", "Ham", "jamon", "1.50", "2", "2.50"),
    ("BAC", "Bacon", "tocino", "1.50", "2", "2.50"),
    ("SAUS", "Italian sausage", "sausage, salchicha", "1.50", "2", "2.50"),
    ("PINE", "Pineapple", "pina", "1", "1.50", "2"),
    ("JAL", "Jalapenos", "jalapeno, jalapeño", "1", "1.50", "2"),
    ("SPIN", "Spinach", "espinaca, espinacas", "1", "1.50", "2"),
]  # fmt: skip
# code, name, aliases, surcharge on a small / medium / large
CRUSTS = [
    ("REG", "Regular", "hand tossed, classic, normal, regular crust", "0", "0", "0"),
    ("THIN", "Thin", "thin crust, thin and crispy, delgada, masa delgada, fina", "0", "0", "0"),
    ("GF", "Gluten-free", "gluten free, gf, sin gluten, celiac", "2", "3", "3"),
    ("STUF", "Stuffed crust", "stuffed, cheese stuffed crust, orilla rellena", "2", "2.50", "3"),
]  # fmt: skip


def seed(stdout):
    """Create the demo menu if missing. Idempotent: existing items (and prices staff may have
    changed) are left alone."""
    created = 0
    for position, (code, name, category, aliases, prices) in enumerate(MENU):
        item, new = MenuItem.objects.get_or_create(
            code=code,
            defaults={"name": name, "category": category, "aliases": aliases, "position": position},
        )
        if new:
            created += 1
            MenuPrice.objects.bulk_create(
                MenuPrice(item=item, size=size, price=Decimal(price))
                for size, price in prices.items()
            )
            menu_changed()  # bulk_create sends no post_save
    stdout.write(f"Menu: {created} item(s) added, {len(MENU) - created} already there.")
    for model, rows in ((Topping, TOPPINGS), (Crust, CRUSTS)):
        fields = ("price" if model is Topping else "surcharge") + "_{}"
        for position, (code, name, aliases, small, medium, large) in enumerate(rows):
            model.objects.get_or_create(
                code=code,
                defaults={
                    "name": name, "aliases": aliases, "position": position,
                    fields.format("small"): Decimal(small),
                    fields.format("medium"): Decimal(medium),
                    fields.format("large"): Decimal(large),
                },
            )  # fmt: skip


# 555-01xx numbers are reserved for fiction.
DEMO_DRIVERS = [{"phone": "+12025550111", "name": "Sam (demo driver)"}]


def seed_drivers(stdout):
    """A demo driver on shift, to try "Out for delivery" and DONE 1042. Idempotent."""
    from .models import Driver

    created = 0
    for fields in DEMO_DRIVERS:
        created += Driver.objects.get_or_create(phone=fields["phone"], defaults=fields)[1]
    if created:
        stdout.write(f"Orders: {created} demo driver(s) on shift.")
