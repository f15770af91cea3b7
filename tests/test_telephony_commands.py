"""Management commands and system checks of the telephony core."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from telephony.checks import check_telephony
from telephony.models import Message


def test_simulate_sms_prints_the_reply_and_logs_both_messages(db, capsys, settings):
    settings.TELEPHONY_SMS_HANDLERS = ["tests.test_telephony_webhooks.echo"]

    call_command("simulate_sms", "4155550199", "hello shop")

    out = capsys.readouterr().out
    assert "You (+14155550199): hello shop" in out
    assert "Shop: You said: hello shop" in out
    assert Message.objects.filter(direction="in", from_number="+14155550199").count() == 1


def test_simulate_sms_goes_through_signature_checks(db, settings):
    # The command signs with the same token the webhook checks; a different token is refused.
    settings.TWILIO_AUTH_TOKEN = "another-token"
    from telephony import simulator

    original = simulator.sign
    simulator.sign = lambda url, params: "forged"
    try:
        with pytest.raises(CommandError, match="403"):
            call_command("simulate_sms", "4155550199", "hi")
    finally:
        simulator.sign = original


def test_simulate_sms_refuses_a_non_number(db):
    with pytest.raises(CommandError, match="not a phone number"):
        call_command("simulate_sms", "pizza", "hi")


def test_twilio_configure_points_the_number_at_public_base_url(db, outbox, capsys, settings):
    settings.TWILIO_PHONE_NUMBER = "+18089255327"
    call_command("twilio_configure")

    assert outbox[0].kind == "configure_number"
    assert outbox[0].phone_number == "+18089255327"
    # Twilio retries a text it could not hand us, and then tries the fallback URL.
    assert outbox[0].sms_url == "https://pizza.example.com/twilio/sms/#rc=3&rp=all"
    assert outbox[0].sms_fallback_url == "https://pizza.example.com/twilio/sms/#rc=3&rp=all"
    assert outbox[0].voice_url == "https://pizza.example.com/twilio/voice/#rc=3&rp=all"
    assert outbox[0].voice_fallback_url == "https://pizza.example.com/twilio/voice/#rc=3&rp=all"
    assert outbox[0].status_callback == "https://pizza.example.com/twilio/voice/status/"
    out = capsys.readouterr().out
    assert "sms_url = https://pizza.example.com/twilio/sms/#rc=3&rp=all" in out


def test_twilio_configure_sends_fallbacks_to_a_second_host(db, outbox, settings):
    settings.TWILIO_PHONE_NUMBER = "+18089255327"
    settings.TWILIO_FALLBACK_BASE_URL = "https://backup.pizza.example.com"
    settings.TWILIO_WEBHOOK_OVERRIDES = ""
    call_command("twilio_configure")

    assert outbox[0].sms_url == "https://pizza.example.com/twilio/sms/"
    assert outbox[0].sms_fallback_url == "https://backup.pizza.example.com/twilio/sms/"


def test_a_text_signed_for_the_url_with_its_retry_overrides_is_accepted(db, client):
    """Whether Twilio signs the configured URL with or without the #overrides, we accept it."""
    from telephony.simulator import sms_params
    from telephony.webhooks import sign

    url = "https://pizza.example.com/twilio/sms/"
    for signed_url in (url, url + "#rc=3&rp=all"):
        params = sms_params("+14155550199", "MENU")
        headers = {"X-Twilio-Signature": sign(signed_url, params)}
        assert client.post("/twilio/sms/", params, headers=headers).status_code == 200
    params = sms_params("+14155550199", "MENU")
    headers = {"X-Twilio-Signature": sign(url + "#rc=5", params)}  # not what we configure
    assert client.post("/twilio/sms/", params, headers=headers).status_code == 403


def test_twilio_configure_needs_public_base_url(db, settings):
    settings.PUBLIC_BASE_URL = ""
    with pytest.raises(CommandError, match="PUBLIC_BASE_URL"):
        call_command("twilio_configure")


def test_the_twilio_backend_without_credentials_is_an_error(settings):
    settings.TELEPHONY_BACKEND = "twilio"
    settings.TWILIO_AUTH_TOKEN = ""
    assert "telephony.E001" in [p.id for p in check_telephony(None)]


def test_plain_http_public_url_outside_debug_is_a_warning(settings):
    settings.DEBUG = False
    settings.PUBLIC_BASE_URL = "http://pizza.example.com"
    assert "telephony.W002" in [p.id for p in check_telephony(None)]


def test_the_default_configuration_passes_the_checks(settings):
    assert check_telephony(None) == []


def test_seed_demo_runs_twice_without_changing_anything(db, capsys):
    from django.contrib.auth import get_user_model

    call_command("seed_demo", "--force")
    first = capsys.readouterr().out
    call_command("seed_demo", "--force")
    second = capsys.readouterr().out
    assert get_user_model().objects.filter(username="staff", is_staff=True).count() == 1
    assert "Staff login: staff / pizza-" in first
    assert first.splitlines()[-1] == second.splitlines()[-1]


SWEPT = []


def broken_sweep():
    raise RuntimeError("a bug in another app's sweep")


def counting_sweep():
    SWEPT.append(1)


@pytest.mark.django_db
def test_a_failing_sweep_is_logged_and_the_telephony_worker_goes_on(settings, caplog):
    settings.TELEPHONY_SWEEPS = [
        "tests.test_telephony_commands.broken_sweep",
        "tests.test_telephony_commands.counting_sweep",
    ]
    SWEPT.clear()
    out = io.StringIO()

    call_command("telephony_worker", "--once", stdout=out)

    assert "Handled 0 inbound message(s)." in out.getvalue()
    assert SWEPT == [1]  # the next sweep still ran
    assert "broken_sweep failed" in caplog.text
