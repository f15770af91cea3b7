"""One contract for every telephony backend, and the twilio backend against Twilio's own
OpenAPI description (served by the Prism mock)."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from telephony.backends import PermanentProviderError, TransientProviderError, get_backend
from telephony.backends.base import NumberConfiguration, PlacedCall, SentMessage
from tests.conftest import run_in_an_event_loop

CALLBACK = "https://pizza.example.com/twilio/sms/status/"


@pytest.fixture
def sent(outbox, monkeypatch):
    """sent(backend) -> (call SID, Twilio's form parameters) of the last call update the
    backend made: from the HTTP request itself for twilio, from the outbox or the printout
    for the others."""
    requests = []

    def sent(backend):
        if hasattr(backend, "client"):
            method, url, data = requests[-1]
            assert method == "POST"
            return url.rsplit("/", 1)[-1].removesuffix(".json"), dict(data)
        if hasattr(backend, "stream"):
            line = backend.stream.getvalue().strip().splitlines()[-1].strip()
            sid, _, change = line.partition(": ")
            key, _, value = change.partition("=")
            form = {"Status": value} if key == "status" else {"Url": value, "Method": "POST"}
            return sid, form
        last = outbox[-1]
        form = {"Status": last.status} if "status" in last.params else {}
        if "url" in last.params:
            form.update(Url=last.url, Method="POST")
        return last.sid, form

    def recording(backend):
        http = backend.client.http_client
        original = http.request

        def request(method, url, params=None, data=None, *args, **kwargs):
            requests.append((method, url, sorted((data or {}).items())))
            return original(method, url, params, data, *args, **kwargs)

        monkeypatch.setattr(http, "request", request)

    sent.record = recording
    return sent


@pytest.fixture(params=["locmem", "console", "twilio"])
def backend(request):
    if request.param == "twilio":
        backend = request.getfixturevalue("twilio_backend")
        request.getfixturevalue("sent").record(backend)
        return backend
    if request.param == "console":
        from telephony.backends.console import Backend

        return Backend(stream=io.StringIO())
    return get_backend("locmem")


class TestEveryBackend:
    """What any backend must do (like Django's BaseEmailBackendTests)."""

    def test_send_sms_returns_a_message_sid(self, backend):
        sent = backend.send_sms(
            to="+14155550199", body="Your pizza is ready", from_="+15005550006",
            status_callback=CALLBACK,
        )  # fmt: skip
        assert isinstance(sent, SentMessage)
        assert sent.sid.startswith("SM") and len(sent.sid) == 34
        assert sent.status in {"queued", "accepted", "sent", "sending"}

    def test_send_sms_through_a_messaging_service_with_media(self, backend):
        sent = backend.send_sms(
            to="+14155550199", body="Tonight only", messaging_service_sid="MG" + "a" * 32,
            media_urls=("https://pizza.example.com/media/logo.png",),
        )  # fmt: skip
        assert sent.sid.startswith("SM")

    def test_place_call_returns_a_call_sid(self, backend):
        call = backend.place_call(
            to="+14155550199", from_="+15005550006",
            url="https://pizza.example.com/twilio/voice/agent/1/",
            status_callback="https://pizza.example.com/twilio/voice/status/", timeout=20,
            record=True, recording_status_callback="https://pizza.example.com/twilio/voice/rec/",
        )  # fmt: skip
        assert isinstance(call, PlacedCall)
        assert call.sid.startswith("CA") and len(call.sid) == 34

    def test_update_call_redirects_a_live_call(self, backend, sent):
        sid = "CA" + "b" * 32
        backend.update_call(sid, url="https://pizza.example.com/twilio/voice/voicemail/")
        assert sent(backend) == (
            sid,
            {"Url": "https://pizza.example.com/twilio/voice/voicemail/", "Method": "POST"},
        )

    def test_update_call_cancels_a_ringing_call(self, backend, sent):
        sid = "CA" + "c" * 32
        backend.update_call(sid, status="canceled")
        assert sent(backend) == (sid, {"Status": "canceled"})

    def test_find_messages_and_calls_answer_lists(self, backend):
        since = datetime.now(UTC) - timedelta(minutes=5)
        found = backend.find_messages(to="+14155550199", from_="+15005550006", sent_after=since)
        assert all(isinstance(m, SentMessage) and m.sid[:2] in ("SM", "MM") for m in found)
        calls = backend.find_calls(to="+14155550199", from_="+15005550006", started_after=since)
        assert all(isinstance(c, PlacedCall) and c.sid.startswith("CA") for c in calls)

    @pytest.mark.parametrize(
        ("method", "kwargs"),
        [
            ("send_sms", {"to": "+14155550199", "body": "x", "form_": "+15005550006"}),
            ("place_call", {"to": "+1", "from_": "+2", "url": "https://x/", "timout": 20}),
            ("update_call", {"sid": "CA" + "d" * 32, "stauts": "canceled"}),
            ("configure_number", {"phone_number": "+18089255327", "sms_ulr": "https://x/"}),
        ],
    )
    def test_a_misspelt_keyword_is_refused_before_anything_is_sent(self, backend, method, kwargs):
        with pytest.raises(TypeError):
            getattr(backend, method)(**kwargs)

    def test_configure_number_points_the_webhooks_at_us(self, backend):
        result = backend.configure_number(
            "+18089255327",
            sms_url="https://pizza.example.com/twilio/sms/",
            voice_url="https://pizza.example.com/twilio/voice/",
            status_callback="https://pizza.example.com/twilio/voice/status/",
            sms_fallback_url="https://backup.example.com/twilio/sms/#rc=3&rp=all",
            voice_fallback_url="https://backup.example.com/twilio/voice/#rc=3&rp=all",
        )
        assert isinstance(result, NumberConfiguration)
        assert result.changes["sms_fallback_url"].startswith("https://backup.example.com/")
        assert result.sid.startswith("PN")
        assert result.changes["sms_url"] == "https://pizza.example.com/twilio/sms/"


def test_the_console_backend_prints_the_text(capsys):
    from telephony.backends.console import Backend

    Backend().send_sms(to="+14155550199", body="Ciao!", from_="+15005550006")
    out = capsys.readouterr().out
    assert "+14155550199" in out and "Ciao!" in out


def test_the_locmem_backend_records_every_request(outbox):
    backend = get_backend("locmem")
    backend.send_sms(to="+14155550199", body="one", from_="+15005550006")
    backend.place_call(to="+14155550199", from_="+15005550006", url="https://x.example/")
    assert [r.kind for r in outbox] == ["sms", "call"]
    assert outbox[0].body == "one"


def test_the_backend_follows_setting_changes(settings):
    from telephony.backends.console import Backend as Console
    from telephony.backends.locmem import Backend as Locmem

    assert isinstance(get_backend(), Locmem)
    with override_settings(TELEPHONY_BACKEND="console"):
        assert isinstance(get_backend(), Console)
    assert isinstance(get_backend(), Locmem)


def test_a_changed_twilio_setting_builds_a_new_client(settings):
    settings.TELEPHONY_BACKEND = "twilio"
    first = get_backend()
    settings.TWILIO_HTTP_TIMEOUT = 3
    assert get_backend() is not first
    assert get_backend().client.http_client.timeout == 3


def test_a_dotted_path_selects_a_backend(settings):
    settings.TELEPHONY_BACKEND = "telephony.backends.locmem.Backend"
    from telephony.backends.locmem import Backend

    assert isinstance(get_backend(), Backend)


@pytest.mark.prism
class TestTwilioBackendAgainstTheSpec:
    def test_a_request_that_breaks_the_spec_is_refused(self, twilio_backend):
        with pytest.raises(PermanentProviderError) as error:
            twilio_backend.send_sms(
                to="+14155550199", body="x", from_="+15005550006", status_callback="not a url"
            )
        assert error.value.status == 422

    def test_a_send_from_a_coroutine_meets_the_spec_too(self, twilio_backend):
        # The telephony worker's senders use the SDK's asynchronous client (aiohttp).
        async def send_two():
            try:
                sent = await twilio_backend.send_sms_async(
                    to="+14155550199", body="x", from_="+15005550006", status_callback=CALLBACK
                )
                with pytest.raises(PermanentProviderError) as refused:
                    await twilio_backend.send_sms_async(
                        to="+14155550199", body="x", from_="+15005550006", status_callback="x"
                    )
                return sent, refused.value
            finally:
                await twilio_backend.close_async()

        sent, refused = run_in_an_event_loop(send_two)

        assert sent.sid == "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"  # the spec's own example
        assert refused.status == 422

    def test_a_bad_account_sid_is_refused(self, prism, settings):
        from telephony.backends.twilio import Backend

        settings.TWILIO_API_BASE_URL = prism
        settings.TWILIO_ACCOUNT_SID = "not-an-account"
        with pytest.raises(PermanentProviderError):
            Backend().send_sms(to="+14155550199", body="x", from_="+15005550006")

    def test_every_twilio_domain_is_sent_to_the_mock(self, twilio_backend, prism):
        # The SDK builds URLs for api.twilio.com; the client rewrites scheme and host.
        http = twilio_backend.client.http_client
        twilio_backend.send_sms(to="+14155550199", body="x", from_="+15005550006")
        assert http._test_only_last_request.url.startswith(prism + "/2010-04-01/Accounts/")

    def test_a_request_has_a_timeout(self, twilio_backend, settings):
        assert twilio_backend.client.http_client.timeout == settings.TWILIO_HTTP_TIMEOUT

    def test_an_unreachable_api_is_a_transient_failure(self, settings):
        from telephony.backends.twilio import Backend
        from tests.conftest import free_port

        settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{free_port()}"
        with pytest.raises(TransientProviderError):
            Backend().send_sms(to="+14155550199", body="x", from_="+15005550006")

    def test_send_sms_through_the_service_layer_is_accepted(
        self, twilio_backend, settings, db, django_capture_on_commit_callbacks
    ):
        from telephony.backends import _load
        from telephony.sms import send_sms

        settings.TELEPHONY_BACKEND = "twilio"
        _load.cache_clear()
        try:
            with django_capture_on_commit_callbacks(execute=True):
                message = send_sms("+14155550199", "Your pizza is ready")
        finally:
            _load.cache_clear()
        message.refresh_from_db()
        assert message.sid == "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"  # the spec's own example
        assert message.error_message == ""


def test_twilio_errors_are_sorted_into_transient_and_permanent():
    import requests
    from twilio.base.exceptions import TwilioRestException

    from telephony.backends.twilio import translate

    def rest(status, code):
        return TwilioRestException(status, "https://api.twilio.com/x", msg="m", code=code)

    assert translate(rest(503, None)).transient
    assert translate(rest(429, 20429)).transient
    assert translate(rest(400, 20429)).transient
    assert translate(requests.ConnectionError()).transient
    assert translate(requests.ReadTimeout()).transient
    assert not translate(rest(400, 21211)).transient
    assert not translate(rest(400, 21610)).transient
    assert not translate(rest(404, 20404)).transient


def test_an_answer_lost_after_sending_is_unclear_and_a_refused_connection_is_not():
    import json
    from types import SimpleNamespace

    import requests
    from twilio.base.exceptions import TwilioException

    from telephony.backends.twilio import translate

    assert translate(requests.ReadTimeout()).unclear
    assert translate(requests.ConnectionError("Connection aborted, reset by peer")).unclear
    assert translate(json.JSONDecodeError("Expecting value", "<html>", 0)).unclear
    assert not translate(requests.ConnectTimeout()).unclear
    page = TwilioException("Unable to fetch page", SimpleNamespace(status_code=503))
    assert translate(page).transient and not translate(page).unclear


def test_a_restarted_console_backend_does_not_repeat_sids():
    import importlib

    from telephony.backends import console

    first = console.Backend(stream=io.StringIO()).send_sms(to="+14155550199", body="a")
    importlib.reload(console)  # as after restarting scripts/run on the same database
    again = console.Backend(stream=io.StringIO()).send_sms(to="+14155550199", body="b")
    assert first.sid != again.sid
    assert all(sid.startswith("SM") and len(sid) == 34 for sid in (first.sid, again.sid))
