from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = "Telephony (messages, opt-outs)"

    def ready(self):
        from . import (  # noqa: F401  (the outbox's two kinds register themselves)
            checks,  # noqa: F401  (registers system checks)
            sms,
            voice,
        )
