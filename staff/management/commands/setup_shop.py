"""Set up a real shop: the owner's login with a password they choose, the shop's details,
an empty or a starter menu, the staff groups. No demo agents, no demo logins (seed_demo).

    manage.py setup_shop --owner maria --address "12 Main St" --hours "mon-sun 11:00-22:00"
    manage.py setup_shop --noinput  # password from SETUP_SHOP_PASSWORD (scripts, deploys)

Running it again updates the details given and leaves the rest as it is; an existing
owner's password changes only with --reset-password. The owner is a superuser (they
create the staff's logins in the admin) and in the Owner group.
"""

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orders import demo as orders_demo
from orders.models import MenuItem, ShopSettings
from staff.board import access

PASSWORD_VARIABLE = "SETUP_SHOP_PASSWORD"
DETAILS = {  # option -> ShopSettings field
    "address": "address",
    "hours": "hours",
    "closed_dates": "closed_dates",
    "tax_rate": "tax_rate",
    "delivery_fee": "delivery_fee",
    "delivery_minimum": "delivery_minimum",
    "zip_codes": "delivery_zip_codes",
}


class Command(BaseCommand):
    help = "Set up a real shop: the owner's login, the shop's details, an empty or starter menu."

    def add_arguments(self, parser):
        parser.add_argument("--owner", default="owner", help="the owner's username (owner)")
        parser.add_argument("--email", default="", help="the owner's email")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_true",
            help=f"ask nothing: the password comes from {PASSWORD_VARIABLE}",
        )
        parser.add_argument(
            "--reset-password", action="store_true", help="set an existing owner's password anew"
        )
        parser.add_argument(
            "--menu",
            choices=["empty", "starter"],
            default="empty",
            help="empty (add items in the admin), or a starter menu of 14 items, toppings "
            "and crusts at example prices to edit (a menu already there is kept)",
        )
        parser.add_argument("--address", help="the shop's address (pickup texts, order page)")
        parser.add_argument("--hours", help='opening hours, e.g. "mon-sun 11:00-22:00" or 24/7')
        parser.add_argument("--closed-dates", help="days closed, e.g. 2026-12-25, 2027-01-01")
        parser.add_argument("--tax-rate", help="sales tax on the food, a fraction: 0.08875")
        parser.add_argument("--delivery-fee", help="the delivery fee, e.g. 3.50")
        parser.add_argument("--delivery-minimum", help="the food a delivery needs, e.g. 15")
        parser.add_argument("--zip-codes", help="ZIP codes delivered to, comma-separated")

    def handle(self, owner, email, noinput, reset_password, menu, **options):
        User = get_user_model()
        user = User.objects.filter(username=owner).first()
        password = None
        if user is None or reset_password:
            password = self._password(owner, noinput)
        with transaction.atomic():
            access.ensure_groups()
            shop = self._details(options)
            if user is None:
                user = User(username=owner, email=email, is_staff=True, is_superuser=True)
                user.set_password(password)
                user.save()
                done = f"Owner login {owner!r} created"
            else:
                if password is not None:
                    user.set_password(password)
                user.is_staff = user.is_active = user.is_superuser = True
                user.email = email or user.email
                user.save()
                done = f"Owner login {owner!r} " + (
                    "updated, password changed" if password else "kept (password unchanged)"
                )
            user.groups.add(Group.objects.get(name="Owner"))
            menu_note = self._menu(menu)
        self.stdout.write(self.style.SUCCESS(f"{done}."))
        self.stdout.write(
            f"Shop: address {shop.address or '(not set)'}; hours "
            f"{shop.hours or '(SHOP_HOURS from the environment)'}."
        )
        self.stdout.write(menu_note)
        self.stdout.write(
            "Support agents: none. Add them (name, phone, on shift) in the admin, "
            "under Support > Agents. Staff logins: the admin, Users (groups Kitchen, Front desk)."
        )

    def _password(self, owner, noinput):
        if noinput:
            password = os.environ.get(PASSWORD_VARIABLE, "")
            if not password:
                raise CommandError(f"Set {PASSWORD_VARIABLE} to the owner's password.")
        else:
            password = getpass.getpass(f"Password for {owner}: ")
            if password != getpass.getpass("The same again: "):
                raise CommandError("The two passwords differ; nothing was changed.")
        try:
            validate_password(password, get_user_model()(username=owner))
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
        return password

    def _details(self, options):
        shop = ShopSettings.objects.filter(pk=1).first() or ShopSettings(pk=1)  # the one row
        for option, field in DETAILS.items():
            value = options.get(option)
            if value is not None:
                setattr(shop, field, value.strip())
        for field in ("tax_rate", "delivery_fee", "delivery_minimum"):
            if getattr(shop, field) == "":
                setattr(shop, field, None)
        try:
            shop.full_clean()
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(f"Shop details refused: {problems}") from exc
        shop.save()
        return shop

    def _menu(self, menu):
        items = MenuItem.objects.count()
        if items:
            return f"Menu: {items} item(s) already there, kept."
        if menu == "starter":
            orders_demo.seed(self.stdout)
            return "Menu: starter menu added; its prices are examples, set yours in the admin."
        return "Menu: empty. Add items, sizes and prices in the admin (Orders > Menu items)."
