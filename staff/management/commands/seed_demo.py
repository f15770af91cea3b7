"""Load demo data: staff logins and their groups, the menu, support agents. Running it twice
changes nothing.

Demo only: it puts two agents on shift at example numbers (the support line would ring
them) and creates four logins, a superuser among them, with one shared password. With
DEBUG off it refuses unless --force: a real shop starts with `manage.py setup_shop`."""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orders import demo as orders_demo
from staff.board import access
from support import demo as support_demo

STAFF_USERNAME = "staff"
# (username, group or None for a superuser, label, what they may do); groups: board/access.py
LOGINS = [
    (STAFF_USERNAME, None, "Staff", "superuser: everything"),
    ("kitchen", "Kitchen", "Kitchen", "moves orders on the board"),
    ("frontdesk", "Front desk", "Front desk", "everything on the board"),
    ("owner", "Owner", "Owner", "the board, reports, promotions and the admin"),
]


def demo_password():
    """Stable for one installation (derived from SECRET_KEY), so it can be printed every run."""
    return "pizza-" + hashlib.sha256(settings.SECRET_KEY.encode() + b"demo").hexdigest()[:10]


def ensure_login(username, group):
    """The demo user `username` (created if missing, in `group`); an existing one is left as
    it is."""
    user, created = get_user_model().objects.get_or_create(
        username=username,
        defaults={
            "is_staff": True,
            "is_superuser": group is None,
            "email": f"{username}@example.com",
        },
    )
    if created:
        user.set_password(demo_password())
        user.save()
        if group is not None:
            user.groups.add(Group.objects.get(name=group))
    return user


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the staff logins. Demo only: see setup_shop."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="load the demo even with DEBUG off"
        )

    def handle(self, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a real shop: seed_demo would put demo "
                "agents on shift at example numbers and create demo logins with a shared "
                "password. Use `manage.py setup_shop` instead, or --force for a demo."
            )
        with transaction.atomic():
            added = access.ensure_groups()
            users = [
                (ensure_login(name, group), label, does) for name, group, label, does in LOGINS
            ]
            for seed in (orders_demo.seed, orders_demo.seed_drivers, support_demo.seed):
                seed(self.stdout)
        if added:
            self.stdout.write(f"Staff groups: {', '.join(added)} added.")
        first = True
        for user, label, does in users:
            if user.check_password(demo_password()):
                login = f"{user.username} / {demo_password()} ({does})"
            else:
                login = f"{user.username} (password changed since it was created)"
            line = f"{label} login: {login}"
            self.stdout.write(self.style.SUCCESS(f"Demo data ready. {line}") if first else line)
            first = False
