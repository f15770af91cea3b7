"""A logging filter that masks phone numbers and never lets the auth token through."""

import logging
import re

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
