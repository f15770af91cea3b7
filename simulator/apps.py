from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    """The phone simulator (/dev/phone/): a developer's and trainer's tool, installed only
    where it may run (settings: DEBUG or PHONE_SIMULATOR_ENABLED)."""

    name = "simulator"
    verbose_name = "Phone simulator"
