"""Hardening around the webhooks (issue 11.15): which media URLs are kept, how loud the
Twilio SDK logs, and the Content-Security-Policy on the pages staff and developers use."""

import logging
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse

from support.models import Voicemail
from telephony.backends.base import new_sid
from telephony.models import Message
from tests.factories import SupportCallFactory
from tests.test_reports_numbers import tuesday  # noqa: F401 (a day with orders, texts, calls)

CUSTOMER = "+14155550199"
RECORDING = f"https://api.twilio.com/2010-04-01/Accounts/{'AC' + 'a' * 32}/Recordings/RE{'1' * 32}"

TWILIO_URLS = [
    RECORDING,
    "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
    "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
    "https://media.twiliocdn.com/AC1/abc",
    "https://s3-external-1.amazonaws.com.twiliocdn.com/x",
]
OTHER_URLS = [
    "http://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",  # not https
    "https://evil.example.com/recording.mp3",
    "https://api.twilio.com.evil.example.com/x",
    "https://eviltwilio.com/x",
    "https://api.twilio.com@evil.example.com/x",
    "https://user:pass@api.twilio.com/x",
    "https://api.twilio.com:8443/x",
    "javascript:alert(1)//api.twilio.com",
    "//api.twilio.com/x",
    "https://[::1/x",
    "https://api.twilio.com/" + "x" * 500,  # cut to fit the column, it would be broken
    "",
]


@pytest.mark.parametrize("url", TWILIO_URLS)
def test_https_urls_on_twilio_s_hosts_are_media_urls(url):
    from telephony.webhooks import twilio_media_url

    assert twilio_media_url(url) == url


@pytest.mark.parametrize("url", OTHER_URLS)
def test_other_urls_are_not_media_urls(url):
    from telephony.webhooks import twilio_media_url

    assert twilio_media_url(url) == ""


def _mms(twilio, url):
    from telephony.simulator import sms_params

    params = {**sms_params(CUSTOMER, "look", sid=new_sid("MM")), "NumMedia": "1", "MediaUrl0": url}
    params["SmsSid"] = params["MessageSid"]
    return twilio.post("/twilio/sms/", params)


def test_an_mms_keeps_a_media_url_on_twilio_s_host(twilio, db):
    assert _mms(twilio, TWILIO_URLS[1]).status_code == 200
    assert Message.objects.get().media_urls == [TWILIO_URLS[1]]


@pytest.mark.parametrize("url", OTHER_URLS[:4])
def test_an_mms_drops_a_media_url_elsewhere_and_keeps_the_text(twilio, db, caplog, url):
    assert _mms(twilio, url).status_code == 200
    message = Message.objects.get()
    assert (message.body, message.media_urls) == ("look", [])
    assert "MediaUrl0" in caplog.text


def _recording(twilio, call, url, view="support:voicemail-recording"):
    return twilio.post(
        reverse(view, args=[call.pk]),
        {"CallSid": call.call_sid, "RecordingSid": "RE" + "1" * 32, "RecordingUrl": url,
         "RecordingStatus": "completed", "RecordingDuration": "9"},
    )  # fmt: skip


def test_a_voicemail_on_twilio_s_host_is_kept(twilio, db):
    call = SupportCallFactory(status="voicemail")
    assert _recording(twilio, call, RECORDING).status_code == 204
    assert Voicemail.objects.get(call=call).recording_url == RECORDING


@pytest.mark.parametrize("url", OTHER_URLS[:4] + ["javascript:alert(document.cookie)"])
def test_a_recording_url_elsewhere_is_not_kept(twilio, db, caplog, url):
    call = SupportCallFactory(status="connected")
    assert _recording(twilio, call, url, view="support:voicemail-recording").status_code == 204
    assert _recording(twilio, call, url, view="support:call-recording").status_code == 204

    assert not Voicemail.objects.filter(call=call).exclude(recording_url="").exists()
    call.refresh_from_db()
    assert call.recording_url == ""
    assert "RecordingUrl" in caplog.text


# --- the SDK's request logging ---


def test_the_twilio_sdk_logs_warnings_only_by_default():
    # One text sent through the SDK logged about 12 INFO lines (headers, params, response),
    # from the synchronous client and the asynchronous one the telephony worker uses.
    assert settings.LOGGING["loggers"]["twilio"]["level"] == "WARNING"
    for name in ("twilio.http_client", "twilio.async_http_client"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name


# --- Content-Security-Policy on the pages people use ---


class InlineCode(HTMLParser):
    """What in a page a strict CSP would block: inline scripts and styles without the
    nonce, event-handler and style attributes, and htmx attributes that need eval."""

    def __init__(self, nonce):
        super().__init__()
        self.nonce, self.blocked = nonce, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        data = attrs.get("type") in ("application/json", "application/ld+json")
        if tag == "script" and "src" not in attrs and not data and attrs.get("nonce") != self.nonce:
            self.blocked.append("<script> without the nonce")
        if tag == "style" and attrs.get("nonce") != self.nonce:
            self.blocked.append("<style> without the nonce")
        for name, value in attrs.items():
            if name.startswith("on") or name.startswith("hx-on") or name == "style":
                self.blocked.append(f"<{tag} {name}={value!r}>")
            if name == "hx-trigger" and "[" in value:  # a filter htmx evaluates with eval
                self.blocked.append(f"<{tag} hx-trigger={value!r}>")
            if name in ("hx-vals", "hx-vars") and value.strip().startswith(("js:", "javascript:")):
                self.blocked.append(f"<{tag} {name}={value!r}>")


@pytest.fixture
def every_page(admin_client, settings, tuesday):  # noqa: F811
    """The staff board, a report with its charts, the admin (a campaign being sent, a
    filtered list) and the phone simulator, each with something on it."""
    from campaigns.models import Campaign
    from tests.factories import OrderFactory, VoicemailFactory

    settings.PHONE_SIMULATOR_ENABLED = True
    OrderFactory()
    VoicemailFactory()
    campaign = Campaign.objects.create(name="Tuesday", body="Two for one", state="sending")
    return {
        "board": admin_client.get("/staff/"),
        "report": admin_client.get("/staff/reports/", {"day": "2026-03-10"}),
        "admin campaign": admin_client.get(
            reverse("admin:campaigns_campaign_change", args=[campaign.pk])
        ),
        "admin campaign add": admin_client.get(reverse("admin:campaigns_campaign_add")),
        "admin list": admin_client.get(reverse("admin:orders_order_changelist")),
        "phone simulator": admin_client.get("/dev/phone/"),
    }


def _directives(policy):
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_staff_admin_and_simulator_pages_carry_a_strict_content_security_policy(every_page):
    for name, response in every_page.items():
        assert response.status_code == 200, name
        policy = _directives(response["Content-Security-Policy"])
        for directive in ("script-src", "style-src"):  # no unsafe-inline, no unsafe-eval
            assert policy[directive][0] == "'self'", (name, directive)
            assert all(source.startswith("'nonce-") for source in policy[directive][1:])
        assert policy["default-src"] == ["'self'"]
        assert policy["object-src"] == policy["frame-ancestors"] == ["'none'"]


def test_no_page_has_inline_code_the_policy_would_block(every_page):
    for name, response in every_page.items():
        # The header names a nonce only when the page used it ({% csp_nonce_attr %}).
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
        page = InlineCode(nonce[1] if nonce else "no nonce")
        page.feed(response.content.decode())
        assert page.blocked == [], name


def test_the_nonce_is_new_for_every_response(admin_client):
    url = reverse("admin:orders_order_changelist")  # the admin's list uses the nonce
    first, second = admin_client.get(url), admin_client.get(url)
    assert "'nonce-" in first["Content-Security-Policy"]
    assert first["Content-Security-Policy"] != second["Content-Security-Policy"]
