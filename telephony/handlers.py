"""The chain of inbound SMS handlers named in settings.TELEPHONY_SMS_HANDLERS, the
hooks told about texts that never reach it (TELEPHONY_OPT_OUT_HANDLERS,
TELEPHONY_UNANSWERED_HANDLERS), the sweeps named in settings.TELEPHONY_SWEEPS, and the
handlers of finished voice requests (settings.TELEPHONY_CALL_HANDLERS: each is called
with every ProviderRequest that is done or failed, and ignores what it did not ask for).

A handler is `handler(message) -> str | list[str] | None`: the reply (or
replies), an empty string or list when it handled the text but has nothing to
say, or None to pass it on to the next handler. This is how the orders and
support apps receive texts without telephony importing them.
"""

import logging
from functools import cache

from django.conf import settings
from django.db import DatabaseError, transaction
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


def report_opt_out(message, word):
    """A lone opt-out word (STOP, CANCEL, END...) opted the sender out: tell each hook in
    settings.TELEPHONY_OPT_OUT_HANDLERS, `hook(message, word)` (e.g. orders flags an
    active order: the customer may have meant to cancel it)."""
    _tell("TELEPHONY_OPT_OUT_HANDLERS", message, word)


def report_unanswered(message, reason):
    """A text from a sender we may not answer was kept, not handled: tell each hook in
    settings.TELEPHONY_UNANSWERED_HANDLERS, `hook(message, reason)`, so staff see it."""
    _tell("TELEPHONY_UNANSWERED_HANDLERS", message, reason)


def _tell(setting, *args):
    for hook in _load(tuple(getattr(settings, setting, ()))):
        try:
            with transaction.atomic():
                hook(*args)
        except DatabaseError:
            raise  # the whole turn rolls back and is tried again at the next poll
        except Exception:
            # A bug in a hook must not undo the opt-out or stop the worker.
            logger.exception("%s hook %s failed on message %s", setting, hook.__name__, args[0].pk)


def call_finished(request):
    for handler in _load(tuple(getattr(settings, "TELEPHONY_CALL_HANDLERS", ()))):
        handler(request)
