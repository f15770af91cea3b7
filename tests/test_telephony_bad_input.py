"""Whatever arrives at the SMS webhook, the answer is never a 500."""

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from telephony.models import Message
from telephony.simulator import new_sid

CUSTOMER = "+14155550199"


@pytest.fixture
def post_and_handle(twilio, django_capture_on_commit_callbacks):
    """Post to the webhook, then let the worker handle what it recorded."""
    from telephony.inbound import answer_pending

    def post(params):
        response = twilio.post("/twilio/sms/", params)
        with django_capture_on_commit_callbacks(execute=True):
            answer_pending()
        return response

    return post


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "x" * 1601,
        "🍕" * 900,
        "Пицца пожалуйста",
        "我要一个大披萨",
        "مرحبا",
        "\x00\x01\x02",
        "line one\nline two\r\n",
        "<Response><Say>hi</Say></Response>",
        "'; DROP TABLE telephony_message; --",
    ],
    ids=[
        "empty", "spaces", "1601 chars", "emoji", "cyrillic", "chinese", "arabic", "control",
        "newlines", "xml", "sql",
    ],
)  # fmt: skip
def test_odd_bodies_are_logged_and_answered(sms, db, body):
    response = sms(CUSTOMER, body)
    assert response.status_code == 200
    assert Message.objects.filter(direction="in", from_number=CUSTOMER).count() == 1


def test_a_text_without_from_is_logged_and_not_answered(db, outbox, post_and_handle):
    response = post_and_handle({"MessageSid": new_sid("SM"), "Body": "hi"})
    assert response.status_code == 200
    assert Message.objects.filter(direction="in").count() == 1
    assert outbox == []


def test_a_text_from_an_alphanumeric_sender_is_not_answered(db, outbox, post_and_handle):
    params = {"MessageSid": new_sid("SM"), "From": "PIZZAPROMO", "Body": "hi"}
    response = post_and_handle(params)
    assert response.status_code == 200
    assert outbox == []
    assert Message.objects.get(direction="in").handled_at is not None


def test_a_text_without_a_message_sid_is_a_bad_request(twilio, db):
    response = twilio.post("/twilio/sms/", {"From": CUSTOMER, "Body": "hi"})
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_garbage_fields_are_ignored(twilio, db):
    params = {
        "MessageSid": new_sid("SM"),
        "From": CUSTOMER,
        "Body": "MENU",
        "NumMedia": "lots",
        "MediaUrl0": "x" * 5000,
        "Extra[]": ["1", "2"],
        "To": "9" * 100,
    }
    assert twilio.post("/twilio/sms/", params).status_code == 200


def test_media_urls_are_kept(twilio, db):
    params = {
        "MessageSid": new_sid("SM"),
        "From": CUSTOMER,
        "Body": "",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
    }
    twilio.post("/twilio/sms/", params)
    assert Message.objects.get(direction="in").media_urls == [params["MediaUrl0"]]


def test_a_bug_in_a_handler_still_keeps_the_message_and_answers(sms, db, settings):
    from telephony import inbound

    settings.TELEPHONY_SMS_HANDLERS = ["tests.test_telephony_bad_input.broken_handler"]
    response = sms(CUSTOMER, "ORDER 1 pep")
    assert response.status_code == 200
    assert response.replies == [inbound.SORRY]
    assert Message.objects.filter(direction="in", body="ORDER 1 pep").exists()


def broken_handler(message):
    raise KeyError("bug")


form_values = st.one_of(
    st.text(max_size=300), st.lists(st.text(max_size=30), min_size=1, max_size=3)
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            ["MessageSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "SmsSid", "Junk"]
        )
        | st.text(min_size=1, max_size=20),
        form_values,
        max_size=8,
    )
)
def test_arbitrary_form_fields_never_cause_a_server_error(twilio, db, fields):
    fields = {k.replace("\x00", ""): v for k, v in fields.items() if k.replace("\x00", "")}
    for path in ("/twilio/sms/", "/twilio/sms/status/"):
        response = twilio.post(path, fields)
        assert response.status_code < 500, (path, fields, response.content)
