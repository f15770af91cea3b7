from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The staff board, inbox and reports: views over telephony, orders, support, campaigns."""

    name = "staff"
    verbose_name = "Staff"
