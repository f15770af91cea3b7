"""Sending signed webhook requests through the whole stack in-process, as Twilio would.

Used by `manage.py simulate_sms` and the phone simulator; never by production traffic.
"""

from django.conf import settings
from django.test import Client

from .backends.base import new_sid
from .webhooks import sign


def _host():
    for host in settings.ALLOWED_HOSTS:
        host = host.lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def signed_post(path, params, client=None):
    """POST `params` to our own webhook at `path`, signed with the account's token."""
    client = client or Client()
    host = _host()
    url = (settings.PUBLIC_BASE_URL or f"http://{host}") + path
    return client.post(
        path,
        params,
        headers={"X-Twilio-Signature": sign(url, params)},
        SERVER_NAME=host,
        secure=url.startswith("https://"),
    )


def sms_params(sender, body, to=None, sid=None):
    sid = sid or new_sid("SM")
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
        "From": sender,
        "To": to or settings.TWILIO_PHONE_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }
