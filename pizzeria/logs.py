"""Request logging for on-call (LOG_FORMAT=json): every request gets an id (X-Request-ID when
the proxy sent a sane one, else a new one, echoed in the response), every line it logs
carries it (telephony.logging.concerning), and the request itself is one line: method,
path, status, milliseconds, and the MessageSid / CallSid of a Twilio webhook."""

import logging
import re
import time
import uuid

from django.conf import settings

from telephony.logging import concerning

logger = logging.getLogger("pizzeria.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestLog:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        started = time.monotonic()
        with concerning(request_id=request_id):
            response = self.get_response(request)
            if settings.LOG_FORMAT == "json":
                self._log(request, response, started)
        response["X-Request-ID"] = request_id
        return response

    def _log(self, request, response, started):
        sids = {}
        if request.method == "POST" and request.path.startswith("/twilio/"):
            # Read after the view (which parsed the form already): never before it.
            sids = {
                "message_sid": request.POST.get("MessageSid"),
                "call_sid": request.POST.get("CallSid"),
            }
        with concerning(**sids):
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
