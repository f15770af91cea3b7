"""Forged, replayed and garbage webhooks, on every URL Twilio can call.

Every URL pattern of telephony and support is tried: a missing, wrong or replayed
signature is a 403 that stores nothing; correctly signed nonsense is never a 500.
"""

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, reverse
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from support import urls as support_urls
from telephony import urls as telephony_urls
from telephony.inbound import answer_pending
from tests.conftest import signature_for
from tests.factories import AgentFactory, SupportCallFactory

pytestmark = pytest.mark.django_db


def webhook_names():
    names = []
    for module in (telephony_urls, support_urls):
        for pattern in module.urlpatterns:
            assert isinstance(pattern, URLPattern)
            if pattern.name:  # the unnamed ones are the same URLs without the trailing slash
                names.append(
                    (f"{module.app_name}:{pattern.name}", list(pattern.pattern.converters))
                )
    return names


WEBHOOKS = webhook_names()


def test_every_webhook_url_is_covered():
    assert len(WEBHOOKS) >= 18  # 2 SMS + 16 voice; a new URL lands here automatically


@pytest.fixture
def ids(db):
    """Real ids for the URLs that name a call, an offer or a notice."""
    from support.models import AgentOffer, VoiceNotice

    call = SupportCallFactory(status="waiting")
    offer = AgentOffer.objects.create(call=call, agent=AgentFactory(), sid="CA" + "1" * 32)
    notice = VoiceNotice.objects.create(to_number="+14155550123", message="Your order is ready")
    return {"call_id": call.pk, "offer_id": offer.pk, "notice_id": notice.pk}


def path_of(name, converters, ids):
    return reverse(name, kwargs={arg: ids[arg] for arg in converters})


def row_counts():
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


PLAUSIBLE = {
    "AccountSid": settings.TWILIO_ACCOUNT_SID,
    "MessageSid": "SM" + "9" * 32,
    "CallSid": "CA" + "9" * 32,
    "From": "+14155550123",
    "To": "+15005550006",
    "Body": "ORDER 1 large pepperoni",
    "CallStatus": "completed",
    "MessageStatus": "delivered",
    "Digits": "2",
    "RecordingUrl": "https://api.twilio.com/recording/RE1",
    "RecordingSid": "RE" + "9" * 32,
    "RecordingDuration": "12",
}


@pytest.mark.parametrize("forgery", ["missing", "wrong token", "other url", "body changed"])
@pytest.mark.parametrize(("name", "converters"), WEBHOOKS, ids=[n for n, _ in WEBHOOKS])
def test_a_forged_or_altered_webhook_is_refused_and_stores_nothing(
    twilio, ids, name, converters, forgery
):
    path = path_of(name, converters, ids)
    url = settings.PUBLIC_BASE_URL + path
    params = dict(PLAUSIBLE)
    signature = {
        "missing": "",
        "wrong token": signature_for(url, params, token="not-our-token"),
        "other url": signature_for(url.replace("/twilio/", "/twilio/x/"), params),
        "body changed": signature_for(url, params),
    }[forgery]
    if forgery == "body changed":  # a replay of a real request with a new body
        params["Body"] = "CANCEL ORDER"
        params["Digits"] = "1"
    before = row_counts()

    response = twilio.post(path, params, signature=signature or "")

    assert response.status_code == 403
    assert row_counts() == before
    assert answer_pending() == 0


def test_a_resplit_call_sid_is_refused_and_stores_nothing(twilio, caplog):
    from support.models import SupportCall

    url = settings.PUBLIC_BASE_URL + reverse("support:voice")
    captured = {"AccountSid": settings.TWILIO_ACCOUNT_SID, "ApiVersion": "2010-04-01",
                "CallSid": "CA" + "e" * 32, "CallStatus": "ringing", "Called": "+15005550006",
                "Caller": "+14155550123", "Direction": "inbound", "From": "+14155550123",
                "To": "+15005550006"}  # fmt: skip
    signature = signature_for(url, captured)
    # Twilio signs key + value with no separator: CallStatus moved into CallSid's value.
    resplit = {k: v for k, v in captured.items() if k != "CallStatus"}
    resplit["CallSid"] = captured["CallSid"] + "CallStatus" + captured["CallStatus"]
    assert RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, resplit, signature)

    response = twilio.post(reverse("support:voice"), resplit, signature=signature)

    assert response.status_code == 400
    assert not SupportCall.objects.exists()
    assert "CallSid 'CAeeee" in caplog.text and "is not a Twilio CA SID" in caplog.text


MALFORMED = {
    "another account": {"AccountSid": "AC" + "b" * 32},
    "no account": {"AccountSid": None},
    "CallSid": {"CallSid": "CA" + "9" * 32 + "CallStatuscompleted"},
    "MessageSid": {"MessageSid": "SM" + "9" * 31},
    "RecordingSid": {"RecordingSid": "CA" + "9" * 32},
    "ConferenceSid": {"ConferenceSid": "CF-1"},
    "ParentCallSid": {"ParentCallSid": "SM" + "9" * 32},
    "CallSid twice": {"CallSid": ["CA" + "9" * 32, "CA" + "8" * 32]},
}


@pytest.mark.parametrize("malformed", list(MALFORMED))
@pytest.mark.parametrize(("name", "converters"), WEBHOOKS, ids=[n for n, _ in WEBHOOKS])
def test_a_signed_webhook_not_shaped_as_twilio_sends_it_is_a_400_that_stores_nothing(
    twilio, ids, name, converters, malformed
):
    path = path_of(name, converters, ids)
    before = row_counts()

    response = twilio.post(path, {**PLAUSIBLE, **MALFORMED[malformed]})  # correctly signed

    assert response.status_code == 400
    assert row_counts() == before
    assert answer_pending() == 0


@pytest.mark.parametrize(("name", "converters"), WEBHOOKS, ids=[n for n, _ in WEBHOOKS])
def test_every_webhook_url_also_answers_without_its_trailing_slash(twilio, ids, name, converters):
    """A URL typed by hand in Twilio's console often lacks the slash; Twilio does not
    follow APPEND_SLASH's 301 with its POST, so the text or call would be lost."""
    path = path_of(name, converters, ids).removesuffix("/")

    response = twilio.post(path, PLAUSIBLE)  # signed for the URL without the slash

    assert response.status_code in (200, 204), (path, response.status_code)


KEYS = st.sampled_from(sorted(PLAUSIBLE) + ["NumMedia", "MediaUrl0", "ErrorCode", "Duration",
                                            "StatusCallbackEvent", "TranscriptionText",
                                            "TranscriptionStatus", "DialCallStatus"])  # fmt: skip
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
VALUES = st.one_of(
    TEXT,
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["", "+", "+1", "0", "-1", "1e400", "nan", "completed", "busy", "in-progress",
                     "+8821234567", "CA", "SM", "\x00", "ORDER 999 large pizza", "YES", "STOP"]),
)  # fmt: skip
# Mostly real field names with real or odd values, plus anything else.
FORMS = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries(
        {}, optional={key: st.one_of(st.just(value), VALUES) for key, value in PLAUSIBLE.items()}
    ),
    st.dictionaries(st.one_of(KEYS, TEXT), st.one_of(VALUES, st.lists(VALUES, max_size=3))),
)


@hypothesis_settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(webhook=st.sampled_from(WEBHOOKS), form=FORMS, other_id=st.booleans())
def test_correctly_signed_nonsense_on_any_webhook_is_never_a_server_error(
    twilio, ids, webhook, form, other_id
):
    name, converters = webhook
    where = {k: v + 1000 for k, v in ids.items()} if other_id else ids
    path = path_of(name, converters, where)

    response = twilio.post(path, form)  # the test client raises on an unhandled exception

    event(f"{name} answered {response.status_code}")
    assert response.status_code in (200, 204, 400, 403, 404), response.content[:300]
    answer_pending()  # the conversation copes with the same nonsense
