from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments (Stripe)"

    def ready(self):
        from . import (  # noqa: F401
            checks,  # registers system checks
            outbox,  # registers Stripe's kind of outbox row with telephony's outbox
            services,  # connects to orders' signals
        )
