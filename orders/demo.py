"""Demo data of the orders app (menu), loaded by `manage.py seed_demo`."""

from decimal import Decimal

from .models import MenuItem, MenuPrice

# code, name, category, aliases, prices ({size: price}; "" for one size)
MENU = [
    ("PEP", "Pepperoni", "pizza", "pepperoni pizza, roni", {"S": "10", "M": "13", "L": "16"}),
    ("MARG", "Margherita", "pizza", "margarita, marg", {"S": "9", "M": "12", "L": "15"}),
    ("HAW", "Hawaiian", "pizza", "ham and pineapple, pineapple", {"S": "11", "M": "14", "L": "17"}),
    ("VEG", "Veggie Supreme", "pizza", "veggie, vegetarian", {"S": "11", "M": "14", "L": "17"}),
    ("MEAT", "Meat Feast", "pizza", "meat lovers, meat", {"S": "12", "M": "15", "L": "18"}),
    ("BBQ", "BBQ Chicken", "pizza", "bbq, barbecue chicken", {"S": "12", "M": "15", "L": "18"}),
    ("FCH", "Four Cheese", "pizza", "cheese, quattro formaggi", {"S": "11", "M": "14", "L": "17"}),
    ("GBR", "Garlic Bread", "side", "garlic, garlic knots", {"": "5"}),
    ("WNG", "Chicken Wings (8)", "side", "wings, chicken wings", {"": "9"}),
    ("SAL", "Caesar Salad", "side", "salad, caesar", {"": "7"}),
    ("COKE", "Coke", "drink", "coca cola, cola", {"": "2.50"}),
    ("SPR", "Sprite", "drink", "lemonade", {"": "2.50"}),
    ("WTR", "Water", "drink", "bottled water", {"": "1.50"}),
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
    stdout.write(f"Menu: {created} item(s) added, {len(MENU) - created} already there.")
