"""A backend that keeps every request in `telephony.backends.locmem.outbox`, for tests.

The test suite empties the outbox before each test. `fail_with` holds
exceptions to raise, one per request, before anything is recorded: tests use
it to play a provider that fails or refuses.
"""

from dataclasses import dataclass, field

from .base import BaseBackend, NumberConfiguration, PlacedCall, SentMessage, new_sid

outbox = []
fail_with = []


@dataclass
class Request:
    kind: str  # "sms", "call", "update_call", "configure_number"
    sid: str
    params: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.params[name]
        except KeyError:
            raise AttributeError(name) from None


def reset():
    outbox.clear()
    fail_with.clear()


class Backend(BaseBackend):
    def _record(self, kind, sid, params):
        if fail_with:
            raise fail_with.pop(0)
        outbox.append(Request(kind, sid, params))
        return sid

    def send_sms(self, **params):
        from ..segments import count_segments

        sid = self._record("sms", new_sid("SM"), params)
        return SentMessage(sid=sid, status="queued", num_segments=count_segments(params["body"]))

    def place_call(self, **params):
        return PlacedCall(sid=self._record("call", new_sid("CA"), params), status="queued")

    def update_call(self, sid, **params):
        self._record("update_call", sid, params)
        return PlacedCall(sid=sid, status=params.get("status") or "in-progress")

    def configure_number(self, phone_number, **webhooks):
        sid = self._record(
            "configure_number", new_sid("PN"), {"phone_number": phone_number, **webhooks}
        )
        return NumberConfiguration(phone_number=phone_number, sid=sid, changes=webhooks)
