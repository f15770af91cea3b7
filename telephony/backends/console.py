"""A backend that prints what it would send, for running the shop with no Twilio account."""

import sys
import threading

from ..segments import count_segments
from .base import BaseBackend, NumberConfiguration, PlacedCall, SentMessage, new_sid

_lock = threading.Lock()


class Backend(BaseBackend):
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def _write(self, title, lines):
        with _lock:
            print(f"--- [console telephony] {title}", file=self.stream)
            for line in lines:
                print(f"    {line}", file=self.stream)
            self.stream.flush()

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
        sid = new_sid("SM")
        sender = from_ or f"messaging service {messaging_service_sid}"
        lines = [f"from {sender} to {to}  ({sid})", *body.splitlines()]
        lines += [f"media: {url}" for url in media_urls]
        self._write("SMS", lines)
        return SentMessage(sid=sid, status="sent", num_segments=count_segments(body), body=body)

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
        sid = new_sid("CA")
        self._write("CALL", [f"from {from_} to {to}  ({sid})", f"answer URL: {url}"])
        return PlacedCall(sid=sid, status="queued")

    def update_call(self, sid, *, url=None, status=None):
        self._write("UPDATE CALL", [f"{sid}: " + (f"status={status}" if status else f"url={url}")])
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
        self._write("CONFIGURE NUMBER", [phone_number, *(f"{k}={v}" for k, v in webhooks.items())])
        return NumberConfiguration(phone_number=phone_number, sid=new_sid("PN"), changes=webhooks)

    def find_messages(self, *, to, from_=None, sent_after):
        return []  # nothing was sent anywhere: a repeat only prints again

    def find_calls(self, *, to, from_, started_after):
        return []
