"""Background tasks of the orders app (Django's tasks API)."""

from django.tasks import task

from . import services


@task()
def check_late_orders():
    return services.check_late_orders()
