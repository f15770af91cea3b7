"""The contract every telephony backend keeps.

A backend turns our requests into the provider's: send an SMS, place a call,
redirect or end a live call, point a phone number's webhooks at us. Every
method either returns a small result dataclass or raises one of the two
ProviderError types below, so callers never see a provider's own exceptions:

- TransientProviderError: it may work later (network, timeout, HTTP 5xx, 429 or
  Twilio's 20429). The caller retries with backoff.
- PermanentProviderError: it will not work however often it is tried (invalid
  number, unsubscribed recipient, bad request). The caller records and stops.

Both carry the provider's error `code` (e.g. 21211) and HTTP `status` when known.
"""

import secrets
from dataclasses import dataclass, field


def new_sid(prefix):
    """A SID shaped like Twilio's ("SM" + 32 hex digits), random: a counter would repeat
    after a restart and clash with the SIDs already stored (Message.sid is unique)."""
    return prefix + secrets.token_hex(16)


class ProviderError(Exception):
    transient = False

    def __init__(self, message, *, code=None, status=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class TransientProviderError(ProviderError):
    transient = True


class PermanentProviderError(ProviderError):
    transient = False


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str = "queued"
    num_segments: int | None = None


@dataclass(frozen=True)
class PlacedCall:
    sid: str
    status: str = "queued"


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

    def configure_number(self, phone_number, **webhooks) -> NumberConfiguration:
        """Point `phone_number`'s webhooks (sms_url, voice_url, status_callback...) at us."""
        raise NotImplementedError
