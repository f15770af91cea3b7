"""The only module that talks to Stripe (its official SDK): make the outbox's requests,
check a webhook's signature, and the webhook endpoint for `manage.py stripe_configure`.
Stripe's errors come back as telephony's provider errors, so the outbox retries what can
succeed: a lost or refused connection, a 5xx, a rate limit or a garbled answer is retried
(with the same idempotency key, so a repeat returns what the first made); a request Stripe
refuses (4xx) is failed for good and shown to staff."""

from dataclasses import dataclass, field
from functools import lru_cache

import stripe
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from telephony.backends import (
    PermanentProviderError,
    TransientProviderError,
    UnclearProviderError,
)

# A request waits this long for Stripe's answer (the SDK's default is 80 s); one that
# stalls longer is unclear, and repeated with its idempotency key.
TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Made:
    """A request Stripe made: the id of what it made, and what we keep of it."""

    sid: str
    data: dict = field(default_factory=dict)


@lru_cache(maxsize=4)
def _client(key, base):
    return stripe.StripeClient(
        key,
        base_addresses={"api": base} if base else None,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        max_network_retries=0,  # the outbox retries, later, with the same idempotency key
    )


def client():
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


@receiver(setting_changed)
def _forget_client(*, setting, **kwargs):
    if setting.startswith("STRIPE_"):
        _client.cache_clear()


def make(kind, params, idempotency_key):
    """Make one request of StripeRequest.Kind `kind`. Returns Made, or raises a
    ProviderError."""
    options = {"idempotency_key": idempotency_key}
    v1 = client().v1
    try:
        if kind == "create_session":
            session = v1.checkout.sessions.create(params=params, options=options)
            return Made(session.id, _session(session))
        if kind == "expire_session":
            session = v1.checkout.sessions.expire(params["session"], options=options)
            return Made(session.id, _session(session))
        if kind == "refund":
            refund = v1.refunds.create(params=params, options=options)
            return Made(refund.id, {"amount": refund.amount, "status": refund.status})
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    except (KeyError, AttributeError, TypeError, ValueError) as exc:  # an answer without them
        raise TransientProviderError(f"Stripe's answer was not understood: {exc!r}") from exc
    raise ValueError(f"unknown Stripe request {kind!r}")


def _session(session):
    return {
        "url": session.url or "",
        "expires_at": int(session.expires_at),
        "status": session.status or "",
        "amount_total": session.amount_total,
        "currency": session.currency,
    }


def _provider_error(exc):
    status = getattr(exc, "http_status", None)
    message = f"Stripe: {exc.user_message or str(exc) or type(exc).__name__}"[:500]
    code = (getattr(exc, "code", None) or type(exc).__name__)[:60]
    if isinstance(exc, stripe.APIConnectionError):
        return UnclearProviderError(message, code=code, status=status)
    if isinstance(exc, stripe.RateLimitError) or status is None or status >= 500:
        return TransientProviderError(message, code=code, status=status)
    if type(exc) is stripe.APIError:  # an answer that is not Stripe's (a proxy's page...)
        return TransientProviderError(message, code=code, status=status)
    if status == 409 and not isinstance(exc, stripe.IdempotencyError):
        return TransientProviderError(message, code=code, status=status)  # a concurrent request
    return PermanentProviderError(message, code=code, status=status)


def construct_event(payload, signature):
    """The event in `payload` (bytes) if `signature` (the Stripe-Signature header) is
    Stripe's for it with STRIPE_WEBHOOK_SECRET and recent; raises ValueError otherwise."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise ValueError("STRIPE_WEBHOOK_SECRET is not set")
    try:
        return stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except stripe.SignatureVerificationError as exc:
        raise ValueError(str(exc)) from exc


def configure_webhook(url, events):
    """Make sure Stripe sends `events` (the types we handle) to `url`: the endpoint found and
    its events set, or made. Returns (endpoint id, "made" / "updated" / "ok", secret or "":
    Stripe shows a signing secret only when it makes an endpoint). Raises a ProviderError."""
    v1 = client().v1
    try:
        for endpoint in v1.webhook_endpoints.list(params={"limit": 100}).auto_paging_iter():
            if endpoint.url != url:
                continue
            if set(endpoint.enabled_events or ()) >= set(events) and (endpoint.status == "enabled"):
                return endpoint.id, "ok", ""
            v1.webhook_endpoints.update(
                endpoint.id, params={"enabled_events": events, "disabled": False}
            )
            return endpoint.id, "updated", ""
        made = v1.webhook_endpoints.create(
            params={
                "url": url,
                "enabled_events": events,
                "description": f"{settings.SHOP_NAME}: orders paid by link",
            }
        )
        return made.id, "made", made.secret or ""
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
