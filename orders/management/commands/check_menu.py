"""manage.py check_menu: list every name two menu rows answer to (orders.names)."""

from django.core.management.base import BaseCommand, CommandError

from orders.names import menu_conflicts


class Command(BaseCommand):
    help = "List names, codes and aliases that mean two items, or two toppings/crusts."

    def handle(self, *args, **options):
        found = menu_conflicts()
        for name, rows in found:
            owners = ", ".join(f"{row._meta.verbose_name} {row}" for row in rows)
            self.stdout.write(f'"{name}" means {len(rows)} things: {owners}')
        if found:
            raise CommandError(
                f"{len(found)} name(s) mean more than one thing; fix them in the admin."
            )
        self.stdout.write("The menu's names each mean one thing.")
