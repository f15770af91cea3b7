"""The real Twilio REST API, through the official SDK.

Every request has a timeout (the SDK's default is none). TWILIO_API_BASE_URL,
when set, replaces the scheme and host of every request, whatever Twilio
domain it was for, so tests can point the SDK at a local mock.
"""

from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .base import (
    BaseBackend,
    NumberConfiguration,
    PermanentProviderError,
    PlacedCall,
    SentMessage,
    TransientProviderError,
)

# Twilio error codes that may succeed if tried again later.
TRANSIENT_CODES = {20429, 20500, 20503, 30001, 30008}


class RedirectingHttpClient(TwilioHttpClient):
    """Sends every request to `base_url` instead of Twilio's hosts."""

    def __init__(self, base_url, **kwargs):
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


def translate(exc):
    """Map what the SDK or requests raised to our two ProviderError types."""
    if isinstance(exc, TwilioRestException):
        status, code = exc.status, exc.code
        message = exc.msg or str(exc)
        if status == 429 or (status and status >= 500) or code in TRANSIENT_CODES:
            return TransientProviderError(message, code=code, status=status)
        return PermanentProviderError(message, code=code, status=status)
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return TransientProviderError(f"Twilio unreachable: {type(exc).__name__}")
    if isinstance(exc, requests.RequestException):
        return TransientProviderError(f"HTTP error talking to Twilio: {exc}")
    return PermanentProviderError(f"Twilio client error: {exc}")


class Backend(BaseBackend):
    def __init__(self):
        http_client_options = {"timeout": settings.TWILIO_HTTP_TIMEOUT}
        if settings.TWILIO_API_BASE_URL:
            http_client = RedirectingHttpClient(settings.TWILIO_API_BASE_URL, **http_client_options)
        else:
            http_client = TwilioHttpClient(**http_client_options)
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client
        )

    def _call(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except (TwilioException, requests.RequestException) as exc:
            raise translate(exc) from exc

    def send_sms(
        self,
        *,
        to,
        body,
        from_=None,
        messaging_service_sid=None,
        media_urls=(),
        status_callback=None,
    ):
        kwargs = {"to": to, "body": body}
        if messaging_service_sid:
            kwargs["messaging_service_sid"] = messaging_service_sid
        else:
            kwargs["from_"] = from_
        if media_urls:
            kwargs["media_url"] = list(media_urls)
        if status_callback:
            kwargs["status_callback"] = status_callback
        message = self._call(self.client.messages.create, **kwargs)
        segments = int(message.num_segments) if message.num_segments else None
        return SentMessage(
            sid=message.sid, status=message.status or "queued", num_segments=segments
        )

    def place_call(
        self,
        *,
        to,
        from_,
        url,
        status_callback=None,
        status_callback_events=("initiated", "ringing", "answered", "completed"),
        timeout=None,
        record=False,
        recording_status_callback=None,
    ):
        kwargs = {"to": to, "from_": from_, "url": url, "method": "POST"}
        if status_callback:
            kwargs["status_callback"] = status_callback
            kwargs["status_callback_method"] = "POST"
            kwargs["status_callback_event"] = list(status_callback_events)
        if timeout:
            kwargs["timeout"] = int(timeout)
        if record:
            kwargs["record"] = True
            if recording_status_callback:
                kwargs["recording_status_callback"] = recording_status_callback
        call = self._call(self.client.calls.create, **kwargs)
        return PlacedCall(sid=call.sid, status=call.status or "queued")

    def update_call(self, sid, *, url=None, status=None):
        kwargs = {}
        if url:
            kwargs.update(url=url, method="POST")
        if status:
            kwargs["status"] = status
        call = self._call(self.client.calls(sid).update, **kwargs)
        return PlacedCall(sid=call.sid or sid, status=call.status or status or "in-progress")

    def configure_number(self, phone_number, **webhooks):
        numbers = self._call(
            self.client.incoming_phone_numbers.list, phone_number=phone_number, limit=1
        )
        if not numbers:
            raise PermanentProviderError(
                f"{phone_number} is not a number of this Twilio account", code=21452
            )
        sid = numbers[0].sid
        kwargs = {}
        for key, value in webhooks.items():
            kwargs[key] = value
            if key.endswith("_url"):
                kwargs[key.removesuffix("_url") + "_method"] = "POST"
            elif key == "status_callback":
                kwargs["status_callback_method"] = "POST"
        number = self._call(self.client.incoming_phone_numbers(sid).update, **kwargs)
        return NumberConfiguration(
            phone_number=phone_number, sid=number.sid or sid, changes=webhooks
        )
