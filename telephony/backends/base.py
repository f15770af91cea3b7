"""The contract every telephony backend keeps.

A backend turns our requests into the provider's: send an SMS, place a call,
redirect or end a live call, point a phone number's webhooks at us, and look up
messages and calls it may already have made. Every method either returns a small
result dataclass or raises one of the ProviderError types below, so callers never
see a provider's own exceptions:

- TransientProviderError: nothing happened, and it may work later (connection
  refused, connect timeout, HTTP 5xx, 429 or Twilio's 20429). The caller retries
  with backoff.
- UnclearProviderError: the request left us and we do not know what the provider
  did with it (read timeout, connection reset after sending, a 2xx answer that
  cannot be read). Before trying again the caller looks for what the first try
  made (find_messages / find_calls), so a customer is not texted or rung twice.
- PermanentProviderError: it will not work however often it is tried (invalid
  number, unsubscribed recipient, bad request). The caller records and stops.

All carry the provider's error `code` (e.g. 21211) and HTTP `status` when known.
Backends take exactly the arguments below (no **kwargs), so a misspelt keyword
fails in a test rather than at the provider.
"""

import secrets
from dataclasses import dataclass, field
from datetime import datetime


def new_sid(prefix):
    """A SID shaped like Twilio's ("SM" + 32 hex digits), random: a counter would repeat
    after a restart and clash with the SIDs already stored (Message.sid is unique)."""
    return prefix + secrets.token_hex(16)


class ProviderError(Exception):
    transient = False
    unclear = False

    def __init__(self, message, *, code=None, status=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class TransientProviderError(ProviderError):
    transient = True


class UnclearProviderError(TransientProviderError):
    """Sent, but the outcome is unknown: look it up before sending again."""

    unclear = True


class PermanentProviderError(ProviderError):
    transient = False


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str = "queued"
    num_segments: int | None = None
    body: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class PlacedCall:
    sid: str
    status: str = "queued"
    created_at: datetime | None = None


@dataclass(frozen=True)
class NumberConfiguration:
    """What a phone number's webhooks point at, after an update."""

    phone_number: str
    sid: str
    changes: dict = field(default_factory=dict)


class BaseBackend:
    """Subclasses implement every method; `fail_silently` is not a thing here."""

    def send_sms(
        self,
        *,
        to,
        body,
        from_=None,
        messaging_service_sid=None,
        media_urls=(),
        status_callback=None,
    ) -> SentMessage:
        raise NotImplementedError

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
    ) -> PlacedCall:
        raise NotImplementedError

    def update_call(self, sid, *, url=None, status=None) -> PlacedCall:
        """Redirect a live call to new TwiML (`url`), or end it (`status`: canceled/completed)."""
        raise NotImplementedError

    def configure_number(
        self,
        phone_number,
        *,
        sms_url=None,
        voice_url=None,
        status_callback=None,
        sms_fallback_url=None,
        voice_fallback_url=None,
    ) -> NumberConfiguration:
        """Point `phone_number`'s webhooks (only those given) at us: the SMS and voice
        URLs, the calls' status callback, and the URLs Twilio tries when the first fails."""
        raise NotImplementedError

    def find_messages(self, *, to, from_=None, sent_after) -> list[SentMessage]:
        """Messages to `to` (from `from_`, when given) the provider made since `sent_after`,
        newest first, with their bodies. Callers match the body themselves."""
        raise NotImplementedError

    def find_calls(self, *, to, from_, started_after) -> list[PlacedCall]:
        """Calls to `to` from `from_` the provider created since `started_after`, newest first."""
        raise NotImplementedError
