"""Logging for on-call: phone numbers masked, the auth token never let through, one
traceback per outage, times with their offset (settings.LOGGING)."""

import contextvars
import logging
import re
from contextlib import contextmanager
from datetime import datetime

import pythonjsonlogger.json
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


# --- what a log line concerns (LOG_FORMAT=json) ---------------------------------------------

_concerns = contextvars.ContextVar("log_concerns", default=None)


@contextmanager
def concerning(**fields):
    """Every log line inside says what it concerns: request_id, message_sid, call_sid, order
    (None values are left out). Nested blocks add to the outer one's."""
    outer = _concerns.get() or {}
    token = _concerns.set({**outer, **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _concerns.reset(token)


def note(**fields):
    """Add to what the innermost `concerning` block concerns (an order found on the way);
    outside any block, nothing."""
    inner = _concerns.get()
    if inner is not None:
        inner.update({k: v for k, v in fields.items() if v})


class Concerns(logging.Filter):
    """Puts the fields of the innermost `concerning` block on each record (a JSON line shows
    them as keys of their own)."""

    def filter(self, record):
        for key, value in (_concerns.get() or {}).items():
            setattr(record, key, value)
        return True


class JsonFormatter(pythonjsonlogger.json.JsonFormatter):
    """One JSON object a line: time (ISO 8601, with its offset), level, logger, message, and
    what the line concerns."""

    def formatTime(self, record, datefmt=None):
        return Formatter.formatTime(self, record, datefmt)


# --- error reports (SENTRY_DSN) -------------------------------------------------------------

SECRET_KEYS = {"body", "speechresult", "transcriptiontext", "unstablespeechresult", "address"}
SECRET = "[removed]"


def scrub_event(event, hint=None):
    """Sentry's before_send: no phone number and no message body leaves for Sentry. Request
    data and cookies are dropped; keys that hold what a customer wrote (Body, SpeechResult,
    transcripts, addresses) are replaced; numbers anywhere else are masked."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string"):
            if key in request:
                request[key] = SECRET
        headers = request.get("headers") or {}
        for key in list(headers):
            if key.lower() in ("cookie", "authorization", "x-twilio-signature"):
                headers[key] = SECRET
    return _scrubbed(event)


def _scrubbed(value, key=""):
    if key.lower() in SECRET_KEYS and value:
        return SECRET
    if isinstance(value, dict):
        return {k: _scrubbed(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    if isinstance(value, str):
        return PHONE.sub(lambda m: mask(m.group(0)), value)
    return value
