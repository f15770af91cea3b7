"""Shared fixtures: signed Twilio webhooks, the locmem outbox, the Prism mock."""

import asyncio
import os
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hypothesis
import pytest
from django.conf import settings
from django.utils.datastructures import MultiValueDict
from twilio.request_validator import RequestValidator

from telephony.backends import locmem

# Property-based tests explore new random inputs on every local run (that is how a
# RecordingDuration of 2**63 was found). CI (.ci/run sets CI=1) runs the same examples
# each time, seeded from each test, so a merge is not failed by an input nobody touched;
# what local runs find becomes a fixed test (tests/test_support_line.py).
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")


def pytest_configure(config):
    """Refuse to run on other settings than pizzeria/test_settings.py: an exported
    DJANGO_SETTINGS_MODULE outranks pyproject.toml's, and the project's own settings read
    .env, which may hold real Twilio credentials."""
    if settings.SETTINGS_MODULE != "pizzeria.test_settings":
        pytest.exit(
            f"The tests run on pizzeria.test_settings, not {settings.SETTINGS_MODULE} "
            "(unset DJANGO_SETTINGS_MODULE).",
            returncode=4,
        )


pytest_plugins = [
    "tests.fixtures.workers",
    "tests.fixtures.postgres",
    "tests.fixtures.redis",
    "tests.fixtures.fake_twilio",
]

ROOT = Path(__file__).resolve().parent.parent
# Twilio's OpenAPI description and TwiML XSD (MIT), copied in: see tests/contracts/README.md
CONTRACTS = ROOT / "tests" / "contracts" / "twilio-oai"


@pytest.fixture(autouse=True)
def shop_settings_read_afresh():
    """The owner's shop settings (orders.shop), staff's answers (orders.questions) and the
    kitchen's queue (orders.billing) are kept per process for a second or two: each test
    reads its own database's rows."""
    from orders import billing, questions, shop

    shop.forget(), questions.forget(), billing.forget_queue()
    yield
    shop.forget(), questions.forget(), billing.forget_queue()


@pytest.fixture(autouse=True)
def spool_folder():
    """The inbound spool (telephony/spool.py; this test process's own folder), emptied
    after each test."""
    from django.conf import settings

    from telephony.spool import database_away

    folder = Path(settings.TELEPHONY_SPOOL_DIR)
    database_away.forget()
    yield folder
    database_away.forget()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_registration_outlives_its_test():
    """This process's worker registration (telephony.processes) names a row of one test's
    database: a test that registers and does not unregister would leave every claim after
    it pointing at a row that is gone."""
    from telephony import processes

    yield
    processes._current = None


@pytest.fixture(autouse=True)
def outbox():
    """What the locmem telephony backend was asked to do in this test, in order."""
    locmem.reset()
    yield locmem.outbox
    locmem.reset()


@pytest.fixture
def provider_fails():
    """Exceptions the locmem backend raises, one per request, before recording anything."""
    return locmem.fail_with


def signature_for(url, params, token=None):
    """X-Twilio-Signature for a form POST of `params` (values may be lists: repeated keys)."""
    multi = MultiValueDict(
        {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in params.items()}
    )
    return RequestValidator(token or settings.TWILIO_AUTH_TOKEN).compute_signature(url, multi)


class TwilioClient:
    """Posts to our webhooks exactly as Twilio does: form-encoded, with X-Twilio-Signature
    computed over PUBLIC_BASE_URL + path and the parameters. Twilio sends our AccountSid
    with every request, so this does too unless `params` sets it (None leaves a key out)."""

    def __init__(self, client):
        self.client = client

    def post(self, path, params, *, signature=None, signed_url=None, **extra):
        params = {"AccountSid": settings.TWILIO_ACCOUNT_SID, **params}
        params = {key: value for key, value in params.items() if value is not None}
        url = signed_url or settings.PUBLIC_BASE_URL + path
        if signature is None:
            signature = signature_for(url, params)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        return self.client.post(path, params, headers=headers, **extra)


@pytest.fixture
def twilio(client):
    return TwilioClient(client)


def replies_to(sid):
    """What the shop texted back to the inbound message `sid` and handed to the provider."""
    from telephony.models import Message

    return list(
        Message.objects.filter(in_reply_to__sid=sid, sid__isnull=False)
        .order_by("id")
        .values_list("body", flat=True)
    )


@pytest.fixture
def sms(twilio, django_capture_on_commit_callbacks):
    """Text the shop: `sms("+14155550199", "MENU")` -> the webhook's response, with
    `.replies`: the texts the customer got back. The worker's poll then runs, and
    after-commit work too (tasks run inline in tests), so the conversation and the
    sending happen as in production."""
    from telephony.inbound import answer_pending
    from telephony.simulator import sms_params

    def send(sender, body, sid=None, **params):
        data = sms_params(sender, body, sid=sid)
        data.update(params)
        response = twilio.post("/twilio/sms/", data)
        with django_capture_on_commit_callbacks(execute=True):
            answer_pending()
        response.replies = replies_to(data["MessageSid"])
        return response

    return send


def run_in_an_event_loop(coroutine_function):
    """Run `coroutine_function()` to its end in an event loop of its own, on a thread of
    its own, as the telephony worker's senders do (asyncio.run here would fail after a
    browser test: Playwright leaves a loop running in the main thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine_function()).result()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def prism():
    """Base URL of a Prism mock serving Twilio's OpenAPI description (skips if unavailable)."""
    binary = ROOT / ".prism" / "node_modules" / ".bin" / "prism"
    spec = CONTRACTS / "twilio_api_v2010.prism.json"
    if not binary.exists() or not shutil.which("node"):
        pytest.skip(f"Prism not installed at {binary} (scripts/test installs it with npm)")
    port = free_port()
    process = subprocess.Popen(
        [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(spec)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None:
                pytest.skip("Prism exited at start-up")
            time.sleep(0.2)
    else:
        process.kill()
        pytest.skip("Prism did not start within 60 s")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def twilio_backend(prism, settings):
    """The real twilio backend (official SDK) pointed at the Prism mock."""
    from telephony.backends.twilio import Backend

    settings.TWILIO_API_BASE_URL = prism
    settings.TWILIO_HTTP_TIMEOUT = 10
    return Backend()


def pytest_sessionfinish(session):
    """Remove what is left of this process's SQLite test database (pytest-django
    destroys the file; the engine's writer lock and stray WAL files stay beside it)."""
    for leftover in (ROOT / "var").glob(f"test-{os.getpid()}.sqlite3*"):
        leftover.unlink(missing_ok=True)


@pytest.fixture
def two_pm(monkeypatch):
    """The clock at 2 PM today in the shop: tests that order "for 7 pm" or "at 6:45" need
    that time ahead of them, whenever the suite runs."""
    from django.utils import timezone

    from orders.hours import local

    at = local(timezone.now()).replace(hour=14, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: at)
    return at


@pytest.fixture
def fake_stripe(settings):
    """A stand-in for Stripe's API on a local port (tests/fixtures/fake_stripe.py), with the
    settings that turn payments on pointed at it. Every request it was sent must keep to
    Stripe's description of its parameters."""
    from tests.fixtures.fake_stripe import FakeStripe

    fake = FakeStripe()
    settings.STRIPE_SECRET_KEY = "sk_test_standin"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_standin"
    settings.STRIPE_API_BASE = fake.url
    yield fake
    fake.stop()
    assert not fake.violations, fake.violations


class StripeClient:
    """Posts events to /stripe/webhook/ as Stripe does: a JSON body, signed in
    `Stripe-Signature` (t=<timestamp>,v1=<HMAC-SHA256 of "<t>.<body>" with the secret>)."""

    def __init__(self, client, capture_on_commit):
        self.client = client
        self.capture = capture_on_commit

    def post(self, event, *, secret=None, timestamp=None, body=None):
        """The webhook's response; what it queued (a refund, a text) is sent after commit."""
        import hashlib
        import hmac
        import json
        import time

        body = body if body is not None else json.dumps(event)
        stamp = int(timestamp or time.time())
        key = (secret or settings.STRIPE_WEBHOOK_SECRET).encode()
        digest = hmac.new(key, f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
        with self.capture(execute=True):
            return self.client.post(
                "/stripe/webhook/", body, content_type="application/json",
                headers={"Stripe-Signature": f"t={stamp},v1={digest}"},
            )  # fmt: skip


@pytest.fixture
def stripe_events(client, django_capture_on_commit_callbacks):
    return StripeClient(client, django_capture_on_commit_callbacks)
