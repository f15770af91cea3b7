"""Receiving Twilio's webhooks: signature checks and TwiML responses."""

import hashlib
import hmac
import logging
import re
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, QueryDict
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

logger = logging.getLogger(__name__)

__all__ = [
    "MessagingResponse",
    "VoiceResponse",
    "auth_token",
    "twilio_webhook",
    "twiml_response",
    "twilio_media_url",
    "webhook_paths",
]

# Every parameter of Twilio's webhooks that holds a SID, and the kinds of SID it may hold
# (OpenAPI: "^CA[0-9a-fA-F]{32}$"...). Twilio's signature joins each key to its value with
# no separator, so a captured request can be re-split ("MessageSid=SM…" + "NumMedia=0" sent
# as "MessageSid=SM…NumMedia0") and stay validly signed with a new SID: the shape check is
# what stops such a replay from passing as a new message or call.
SID_KINDS = {
    "AccountSid": ("AC",),
    "MessageSid": ("SM", "MM"),
    "SmsSid": ("SM", "MM"),
    "SmsMessageSid": ("SM", "MM"),
    "MessagingServiceSid": ("MG",),
    "CallSid": ("CA",),
    "ParentCallSid": ("CA",),
    "DialCallSid": ("CA",),
    "CallSidEndingConference": ("CA",),
    "ConferenceSid": ("CF",),
    "RecordingSid": ("RE",),
    "TranscriptionSid": ("TR",),
}
SID_SHAPE = re.compile(r"(?P<kind>[A-Z]{2})[0-9a-fA-F]{32}")
# Twilio sends the same message's SID under all three names (SmsSid is the old one).
MESSAGE_SID_NAMES = ("MessageSid", "SmsSid", "SmsMessageSid")


def auth_token():
    """The secret webhooks are signed with: the account's auth token.

    With no Twilio account configured (console backend), a local token derived
    from SECRET_KEY, so `simulate_sms` and the phone simulator can sign their
    requests and signatures are still checked. Validation is never switched off.
    """
    if settings.TWILIO_AUTH_TOKEN:
        return settings.TWILIO_AUTH_TOKEN
    return hmac.new(settings.SECRET_KEY.encode(), b"local-twilio-token", hashlib.sha256).hexdigest()


def validation_url(request):
    """The URL Twilio signed: PUBLIC_BASE_URL + path + query when set, else the absolute URL."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


def sign(url, params):
    """The X-Twilio-Signature Twilio would send for a POST of `params` to `url`."""
    return RequestValidator(auth_token()).compute_signature(url, params)


def _signed(url, params, signature):
    """Whether `signature` signs `params` posted to `url`: the URL as we see it, or as
    configured with Twilio's connection overrides after a # (twilio_configure sets them;
    Twilio documents signing the URL without them, and the fragment never reaches us)."""
    validator = RequestValidator(auth_token())
    if validator.validate(url, params, signature):
        return True
    overrides = settings.TWILIO_WEBHOOK_OVERRIDES
    return bool(overrides) and validator.validate(f"{url}#{overrides}", params, signature)


def twilio_webhook(view):
    """For views Twilio calls: POST only, no CSRF, a valid X-Twilio-Signature or 403,
    and parameters shaped as Twilio sends them (`malformed`) or 400."""

    @csrf_exempt
    @require_POST
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        url = validation_url(request)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not _signed(url, request.POST, signature):
            logger.warning(
                "Rejected a webhook with a %s Twilio signature; validated against %s. "
                "If this is Twilio, PUBLIC_BASE_URL (or the proxy's X-Forwarded-Proto and "
                "SECURE_PROXY_SSL_HEADER) does not match the URL configured at Twilio.",
                "wrong" if signature else "missing",
                url,
            )
            return HttpResponseForbidden("Invalid Twilio signature", content_type="text/plain")
        if problem := malformed(request.POST):
            logger.warning(
                "Refused a validly signed webhook to %s: %s (a re-split replay, or not Twilio)",
                request.path,
                problem,
            )
            return HttpResponseBadRequest(f"Bad request: {problem}", content_type="text/plain")
        if any("\x00" in key + "".join(values) for key, values in request.POST.lists()):
            request.POST = without_nul(request.POST)
        return view(request, *args, **kwargs)

    return wrapped


def malformed(params):
    """Why validly signed `params` are not what Twilio sends, or "" when they are.

    Every SID parameter (SID_KINDS) holds one SID of its kind; AccountSid is present and,
    when TWILIO_ACCOUNT_SID is set, ours (with no account, the console backend and the
    simulator, any AC SID); MessageSid, SmsSid and SmsMessageSid agree.
    """
    for name, kinds in SID_KINDS.items():
        values = params.getlist(name)
        if len(values) > 1:
            return f"{name} sent {len(values)} times"
        for value in values:
            shape = SID_SHAPE.fullmatch(value)
            if shape is None or shape["kind"] not in kinds:
                return f"{name} {value[:80]!r} is not a Twilio {'/'.join(kinds)} SID"
    account = params.get("AccountSid")
    if account is None:
        return "AccountSid missing"
    if settings.TWILIO_ACCOUNT_SID and account != settings.TWILIO_ACCOUNT_SID:
        return f"AccountSid {account} is not this account's"
    if len({params[name] for name in MESSAGE_SID_NAMES if name in params}) > 1:
        return "MessageSid, SmsSid and SmsMessageSid differ"
    return ""


# Where Twilio keeps recordings and MMS media: api.twilio.com (and its regional edges, such as
# api.dublin.ie1.twilio.com), which redirects to its CDN, *.twiliocdn.com.
MEDIA_DOMAINS = ("twilio.com", "twiliocdn.com")
MAX_MEDIA_URL = 500  # the columns' length; a longer URL cut to fit would be a broken link


def twilio_media_url(url):
    """`url` when it is an https URL on one of Twilio's hosts (MEDIA_DOMAINS), else "".

    RecordingUrl and MediaUrlN are shown to staff as links and fetched with our
    credentials, so only URLs where Twilio keeps media are stored.
    """
    url = url or ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname or ""
    on_twilio = any(host == domain or host.endswith("." + domain) for domain in MEDIA_DOMAINS)
    if (
        parts.scheme != "https"
        or not on_twilio
        or parts.username is not None
        or port not in (None, 443)
        or len(url) > MAX_MEDIA_URL
    ):
        return ""
    return url


def without_nul(data):
    """`data` without NUL characters: PostgreSQL text cannot hold them and no real text has them."""
    clean = QueryDict(mutable=True)
    for key, values in data.lists():
        clean.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
    return QueryDict(clean.urlencode())  # read-only, as request.POST is


def twiml_response(twiml, status=200):
    return HttpResponse(str(twiml), content_type="text/xml; charset=utf-8", status=status)


def webhook_paths(*routes):
    """URL patterns for Twilio's webhooks: each (route, view, name) answers with and without
    its trailing slash. A URL typed in Twilio's console without the slash would otherwise get
    APPEND_SLASH's 301, which Twilio does not follow with its POST: the text or call is lost.
    The named pattern has the slash, so reverse() and the URLs we give Twilio keep it."""
    patterns = []
    for route, view, name in routes:
        patterns.append(path(route, view, name=name))
        if route.endswith("/"):
            patterns.append(path(route.removesuffix("/"), view))
    return patterns
