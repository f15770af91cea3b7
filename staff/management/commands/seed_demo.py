"""Load demo data: a staff user, the menu, support agents. Running it twice changes nothing."""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from orders import demo as orders_demo
from support import demo as support_demo

STAFF_USERNAME = "staff"


def demo_password():
    """Stable for one installation (derived from SECRET_KEY), so it can be printed every run."""
    return "pizza-" + hashlib.sha256(settings.SECRET_KEY.encode() + b"demo").hexdigest()[:10]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the staff login."

    def handle(self, **options):
        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(
                username=STAFF_USERNAME,
                defaults={"is_staff": True, "is_superuser": True, "email": "staff@example.com"},
            )
            if created:
                user.set_password(demo_password())
                user.save()
            for seed in (orders_demo.seed, support_demo.seed):
                seed(self.stdout)
        if user.check_password(demo_password()):
            login = f"{STAFF_USERNAME} / {demo_password()}"
        else:
            login = f"{STAFF_USERNAME} (password changed since it was created)"
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Staff login: {login}"))
