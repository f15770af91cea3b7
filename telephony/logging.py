"""Logging for on-call: phone numbers masked, the auth token never let through, one
traceback per outage, times with their offset (settings.LOGGING)."""

import logging
import re
from datetime import datetime

from django.conf import settings
from django.views.debug import SafeExceptionReporterFilter

from .numbers import mask

PHONE = re.compile(r"\+\d{8,15}")


class MaskPhoneNumbers(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        masked = PHONE.sub(lambda m: mask(m.group(0)), message)
        token = getattr(settings, "TWILIO_AUTH_TOKEN", "")
        if token:
            masked = masked.replace(token, "[auth token]")
        if masked != message:
            record.msg, record.args = masked, None
        return True


class HideAuthToken(SafeExceptionReporterFilter):
    """Django's error pages and reports, with any variable holding the auth token hidden.

    Django hides settings named like *TOKEN*, but not local variables: the Twilio SDK's
    frames hold the token (the HTTP client's `auth` tuple), and a failed provider call
    would show it on the DEBUG page or in an error e-mail.
    """

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        token = getattr(settings, "TWILIO_AUTH_TOKEN", "")
        if not token:
            return variables
        return [
            (name, self.cleansed_substitute if _holds(value, token) else value)
            for name, value in variables
        ]


def _holds(value, token):
    try:
        return token in repr(value)
    except Exception:  # a broken __repr__ shows as an error on the page; keep it out too
        return True


class QuietRepeats(logging.Filter):
    """One traceback per outage: a failure logged with its traceback again and again (the
    database or Redis down, every poll of every worker) keeps its one line each time, but
    the traceback only the first time, and again once it has not recurred for `quiet`
    seconds. Repeats say so, with the exception's type and message, on the same line."""

    def __init__(self, quiet=60.0):
        super().__init__()
        self.quiet = quiet
        self._last = {}  # (logger, message template, exception type) -> when last seen

    def filter(self, record):
        if not record.exc_info or not record.exc_info[0]:
            return True
        kind, exc = record.exc_info[0], record.exc_info[1]
        key = (record.name, str(record.msg), kind.__qualname__)
        last = self._last.get(key)
        self._last[key] = record.created
        if last is not None and record.created - last < self.quiet:
            record.msg = (
                f"{record.getMessage()} ({kind.__name__}: {exc}; repeated, traceback above)"
            )
            record.args = None
            record.exc_info = record.exc_text = None
        if len(self._last) > 1000:
            self._last.clear()
        return True


class Formatter(logging.Formatter):
    """Log lines with ISO 8601 times and their UTC offset (gunicorn's are UTC, ours are the
    server's local time: the offset says which)."""

    def formatTime(self, record, datefmt=None):
        moment = datetime.fromtimestamp(record.created).astimezone()
        return moment.isoformat(timespec="milliseconds")
