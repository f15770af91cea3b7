"""Telephony backends, chosen by settings.TELEPHONY_BACKEND like Django's EMAIL_BACKEND."""

from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .base import (
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    UnclearProviderError,
)

SHORT_NAMES = {
    "twilio": "telephony.backends.twilio.Backend",
    "console": "telephony.backends.console.Backend",
    "locmem": "telephony.backends.locmem.Backend",
}

__all__ = [
    "PermanentProviderError",
    "ProviderError",
    "TransientProviderError",
    "UnclearProviderError",
    "get_backend",
]


@lru_cache(maxsize=8)
def _load(path):
    return import_string(SHORT_NAMES.get(path, path))()


def get_backend(name=None):
    """The configured backend (one instance per process: the twilio client pools connections).

    The instance is built from settings, so it is dropped whenever a setting it reads
    changes (override_settings, pytest-django's `settings`)."""
    return _load(name or settings.TELEPHONY_BACKEND)


@receiver(setting_changed)
def _forget_backends(*, setting, **kwargs):
    if setting == "TELEPHONY_BACKEND" or setting.startswith("TWILIO_"):
        _load.cache_clear()


def backend_path(name=None):
    name = name or settings.TELEPHONY_BACKEND
    return SHORT_NAMES.get(name, name)
