"""A backend that keeps every request in `telephony.backends.locmem.outbox`, for tests.

The test suite empties the outbox before each test. `fail_with` holds
exceptions to raise, one per request, before anything is recorded: tests use
it to play a provider that fails or refuses. `answer_lost_with` holds exceptions
raised after the request was recorded: the provider did it, and its answer never
reached us (play it with an UnclearProviderError).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..segments import count_segments
from .base import BaseBackend, NumberConfiguration, PlacedCall, SentMessage, new_sid

outbox = []
fail_with = []
answer_lost_with = []


@dataclass
class Request:
    kind: str  # "sms", "call", "update_call", "configure_number"
    sid: str
    params: dict = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __getattr__(self, name):
        try:
            return self.params[name]
        except KeyError:
            raise AttributeError(name) from None


def reset():
    outbox.clear()
    fail_with.clear()
    answer_lost_with.clear()


class Backend(BaseBackend):
    def _record(self, kind, sid, params):
        if fail_with:
            raise fail_with.pop(0)
        outbox.append(Request(kind, sid, params))
        if answer_lost_with:
            raise answer_lost_with.pop(0)
        return sid

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
        params = {
            "to": to, "body": body, "from_": from_,
            "messaging_service_sid": messaging_service_sid, "media_urls": media_urls,
            "status_callback": status_callback,
        }  # fmt: skip
        sid = self._record("sms", new_sid("SM"), params)
        return SentMessage(sid=sid, status="queued", num_segments=count_segments(body), body=body)

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
        params = {
            "to": to, "from_": from_, "url": url, "status_callback": status_callback,
            "status_callback_events": status_callback_events, "timeout": timeout,
            "record": record, "recording_status_callback": recording_status_callback,
        }  # fmt: skip
        return PlacedCall(sid=self._record("call", new_sid("CA"), params), status="queued")

    def update_call(self, sid, *, url=None, status=None):
        params = {key: value for key, value in (("url", url), ("status", status)) if value}
        self._record("update_call", sid, params)
        return PlacedCall(sid=sid, status=status or "in-progress")

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
        webhooks = {
            "sms_url": sms_url,
            "voice_url": voice_url,
            "status_callback": status_callback,
            "sms_fallback_url": sms_fallback_url,
            "voice_fallback_url": voice_fallback_url,
        }
        webhooks = {key: value for key, value in webhooks.items() if value}
        sid = self._record(
            "configure_number", new_sid("PN"), {"phone_number": phone_number, **webhooks}
        )
        return NumberConfiguration(phone_number=phone_number, sid=sid, changes=webhooks)

    def find_messages(self, *, to, from_=None, sent_after):
        return [
            SentMessage(sid=r.sid, status="sent", body=r.body, created_at=r.at)
            for r in reversed(outbox)
            if r.kind == "sms" and r.to == to and r.at >= sent_after
            and (from_ is None or r.from_ in (None, from_))
        ]  # fmt: skip

    def find_calls(self, *, to, from_, started_after):
        return [
            PlacedCall(sid=r.sid, status="queued", created_at=r.at)
            for r in reversed(outbox)
            if r.kind == "call" and r.to == to and r.from_ == from_ and r.at >= started_after
        ]
