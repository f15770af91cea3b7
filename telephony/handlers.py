"""The chain of inbound SMS handlers named in settings.TELEPHONY_SMS_HANDLERS, the
sweeps named in settings.TELEPHONY_SWEEPS, and the handlers of finished voice requests
(settings.TELEPHONY_CALL_HANDLERS: each is called with every ProviderRequest that is
done or failed, and ignores what it did not ask for).

A handler is `handler(message) -> str | list[str] | None`: the reply (or
replies), an empty string or list when it handled the text but has nothing to
say, or None to pass it on to the next handler. This is how the orders and
support apps receive texts without telephony importing them.
"""

import logging
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

PLACEHOLDER = (
    "Thanks for your message! Ordering by text is coming soon. "
    "Call us on this number to speak to someone."
)

logger = logging.getLogger(__name__)


@cache
def _load(paths):
    return [import_string(path) for path in paths]


def run_sweeps():
    """The other apps' periodic clean-ups named in settings.TELEPHONY_SWEEPS.

    One that fails is logged and tried again next time; it must not stop the worker
    that answers customers' texts."""
    for sweep in _load(tuple(getattr(settings, "TELEPHONY_SWEEPS", ()))):
        try:
            sweep()
        except Exception:
            logger.exception("Sweep %s failed; it runs again at the next sweep", sweep.__name__)


def dispatch(message):
    for handler in _load(tuple(settings.TELEPHONY_SMS_HANDLERS)):
        reply = handler(message)
        if reply is None:
            continue
        return [reply] if isinstance(reply, str) else list(reply)
    return [PLACEHOLDER]


def call_finished(request):
    for handler in _load(tuple(getattr(settings, "TELEPHONY_CALL_HANDLERS", ()))):
        handler(request)
