"""The real Twilio REST API, through the official SDK.

Every request has a timeout (the SDK's default is none). TWILIO_API_BASE_URL,
when set, replaces the scheme and host of every request, whatever Twilio
domain it was for, so tests can point the SDK at a local mock.

What counts as an unclear outcome (UnclearProviderError): a read timeout or a
connection that broke after the request was sent, and a 2xx answer that is not
the JSON resource we asked for. A refused connection or a connect timeout means
Twilio never saw the request: transient.
"""

import asyncio
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from .base import (
    BaseBackend,
    NumberConfiguration,
    PermanentProviderError,
    PlacedCall,
    SentMessage,
    TransientProviderError,
    UnclearProviderError,
)

# Twilio error codes that may succeed if tried again later.
TRANSIENT_CODES = {20429, 20500, 20503, 30001, 30008}
# How far a provider's clock may be behind ours, for the look-ups after an unclear outcome.
CLOCK_SKEW = timedelta(minutes=2)


class RedirectingHttpClient(TwilioHttpClient):
    """Sends every request to `base_url` instead of Twilio's hosts."""

    def __init__(self, base_url, **kwargs):
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


class RedirectingAsyncHttpClient(AsyncTwilioHttpClient):
    """The same for the SDK's asynchronous client (aiohttp)."""

    def __init__(self, base_url, **kwargs):
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)

    async def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, ""))
        return await super().request(method, url, *args, **kwargs)


def translate_async(exc):
    """`translate` for what the asynchronous client (aiohttp) raised. A request that could
    not connect was never seen by Twilio (transient); one that timed out or broke after
    connecting may have been (unclear: looked up before it is sent again)."""
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return TransientProviderError(f"Twilio unreachable: {type(exc).__name__}")
    if isinstance(exc, (aiohttp.ClientError, TimeoutError)):
        return UnclearProviderError(f"No answer from Twilio after sending: {type(exc).__name__}")
    return translate(exc)


def translate(exc):
    """Map what the SDK or requests raised to our two ProviderError types."""
    if isinstance(exc, TwilioRestException):
        status, code = exc.status, exc.code
        message = exc.msg or str(exc)
        if status == 429 or (status and status >= 500) or code in TRANSIENT_CODES:
            return TransientProviderError(message, code=code, status=status)
        return PermanentProviderError(message, code=code, status=status)
    if isinstance(exc, TwilioException):
        # A list page Twilio refused or answered unreadably (the SDK's "Unable to fetch
        # page", with no documented way to its status): only look-ups list, and a look-up
        # that failed is tried again later, whatever the reason.
        return TransientProviderError(f"Twilio refused or garbled a list request ({exc!r})"[:500])
    if isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and _never_connected(exc)
    ):
        return TransientProviderError(f"Twilio unreachable: {type(exc).__name__}")
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return UnclearProviderError(f"No answer from Twilio after sending: {type(exc).__name__}")
    if isinstance(exc, requests.RequestException):
        return TransientProviderError(f"HTTP error talking to Twilio: {exc}")
    if isinstance(exc, ValueError):  # json.JSONDecodeError: a 2xx we cannot read
        return UnclearProviderError(f"Twilio's answer could not be read: {exc}")
    return PermanentProviderError(f"Twilio client error: {exc}")


def _never_connected(exc):
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


class Backend(BaseBackend):
    def __init__(self):
        http_client_options = {"timeout": settings.TWILIO_HTTP_TIMEOUT}
        if settings.TWILIO_API_BASE_URL:
            http_client = RedirectingHttpClient(settings.TWILIO_API_BASE_URL, **http_client_options)
        else:
            http_client = TwilioHttpClient(**http_client_options)
        # One connection kept open per thread that may send at once: the SDK keeps
        # min(32, cores + 4) to Twilio, 6 here, so the telephony worker's 32 sender
        # threads kept opening (TLS) connections and dropping them ("Connection pool is
        # full, discarding connection"): 1.3 ms of CPU a send more than with a kept one.
        size = max(settings.TELEPHONY_SEND_THREADS, 10)
        for scheme in ("https://", "http://"):
            http_client.session.mount(scheme, HTTPAdapter(pool_maxsize=size))
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client
        )

    async def send_sms_async(self, **kwargs):
        """`send_sms` from a coroutine, through the SDK's asynchronous client (aiohttp).

        The telephony worker's senders use it (telephony/outbox.py): waiting for Twilio
        on an event loop costs a third of the CPU of a thread per send waiting in
        `requests` (0.7 against 2.2 ms a send, bench/README.md), CPU its main thread,
        which answers the texts, then has. The client is made in the loop that first
        uses it and kept for that loop."""
        client = self._async_client()
        try:
            async with asyncio.timeout(settings.TWILIO_HTTP_TIMEOUT):
                message = await client.messages.create_async(**_sms_kwargs(**kwargs))
        except (TwilioException, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise translate_async(exc) from exc
        return _sent(self._created(message))

    def _async_client(self):
        loop = asyncio.get_running_loop()
        if getattr(self, "_async", (None,))[0] is not loop:
            if settings.TWILIO_API_BASE_URL:
                http_client = RedirectingAsyncHttpClient(settings.TWILIO_API_BASE_URL)
            else:
                http_client = AsyncTwilioHttpClient()
            client = Client(
                settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client
            )
            self._async = (loop, client)
        return self._async[1]

    async def close_async(self):
        """Close the asynchronous client's connections (in the loop that made it)."""
        loop, client = getattr(self, "_async", (None, None))
        if loop is asyncio.get_running_loop():
            del self._async
            await client.http_client.close()

    def _call(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except (TwilioException, requests.RequestException, ValueError) as exc:
            raise translate(exc) from exc

    def _created(self, resource):
        if not resource.sid:
            raise UnclearProviderError("Twilio answered without a SID")
        return resource

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
        kwargs = _sms_kwargs(
            to=to, body=body, from_=from_, messaging_service_sid=messaging_service_sid,
            media_urls=media_urls, status_callback=status_callback,
        )  # fmt: skip
        return _sent(self._created(self._call(self.client.messages.create, **kwargs)))

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
        call = self._created(self._call(self.client.calls.create, **kwargs))
        return PlacedCall(sid=call.sid, status=call.status or "queued")

    def update_call(self, sid, *, url=None, status=None):
        kwargs = {}
        if url:
            kwargs.update(url=url, method="POST")
        if status:
            kwargs["status"] = status
        call = self._call(self.client.calls(sid).update, **kwargs)
        return PlacedCall(sid=call.sid or sid, status=call.status or status or "in-progress")

    def configure_number(
        self,
        phone_number,
        *,
        sms_url=None,
        voice_url=None,
        status_callback=None,
        sms_fallback_url=None,
        voice_fallback_url=None,
    ):
        numbers = self._call(
            self.client.incoming_phone_numbers.list, phone_number=phone_number, limit=1
        )
        if not numbers:
            raise PermanentProviderError(
                f"{phone_number} is not a number of this Twilio account", code=21452
            )
        sid = numbers[0].sid
        webhooks = {
            "sms_url": sms_url,
            "voice_url": voice_url,
            "status_callback": status_callback,
            "sms_fallback_url": sms_fallback_url,
            "voice_fallback_url": voice_fallback_url,
        }
        webhooks = {key: value for key, value in webhooks.items() if value}
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

    def find_messages(self, *, to, from_=None, sent_after):
        # Not filtered by DateSent: a message Twilio accepted but has not sent yet (queued,
        # accepted, scheduled) has none, and such a filter hid it, so a retry after a lost
        # answer sent a second copy. The newest page of 50 to that number instead, kept
        # from `sent_after` by DateCreated (set on acceptance): a lookup covers minutes.
        kwargs = {"to": to, "page_size": 50}
        if from_:
            kwargs["from_"] = from_
        since = sent_after - CLOCK_SKEW
        found = [
            m
            for m in self._call(self.client.messages.page, **kwargs)
            if m.date_created is None or m.date_created >= since
        ]
        return [
            SentMessage(
                sid=m.sid, status=m.status or "sent", body=m.body or "",
                num_segments=int(m.num_segments) if m.num_segments else None,
                created_at=m.date_created,
            )
            for m in found
            if m.sid
        ]  # fmt: skip

    def find_calls(self, *, to, from_, started_after):
        found = list(self._call(
            self.client.calls.page,
            to=to, from_=from_, start_time_after=started_after - CLOCK_SKEW, page_size=50,
        ))  # fmt: skip
        return [
            PlacedCall(sid=c.sid, status=c.status or "queued", created_at=c.date_created)
            for c in found
            if c.sid
        ]


def _sms_kwargs(
    *, to, body, from_=None, messaging_service_sid=None, media_urls=(), status_callback=None
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
    return kwargs


def _sent(message):
    segments = int(message.num_segments) if message.num_segments else None
    return SentMessage(sid=message.sid, status=message.status or "queued", num_segments=segments)
