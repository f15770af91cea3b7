"""A logging filter that masks phone numbers and never lets the auth token through."""

import logging
import re

from django.conf import settings

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
