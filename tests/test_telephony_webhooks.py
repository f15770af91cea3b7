"""The SMS webhooks as Twilio meets them: signatures, proxies, replays and races."""

import threading

import pytest
from django.conf import settings
from django.test import Client
from twilio.request_validator import RequestValidator

from telephony.inbound import answer_pending
from telephony.models import Message, OptOut

from .conftest import TwilioClient, signature_for

CUSTOMER = "+14155550199"


def echo(message):
    """A stand-in conversation: these tests are about the telephony core, not the orders app."""
    return f"You said: {message.body}"


@pytest.fixture(autouse=True)
def echo_conversation(settings):
    settings.TELEPHONY_SMS_HANDLERS = ["tests.test_telephony_webhooks.echo"]


def test_a_validly_signed_text_is_acknowledged_logged_and_answered(sms, db, outbox):
    response = sms(CUSTOMER, "hello", sid="SM" + "1" * 32)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content == b'<?xml version="1.0" encoding="UTF-8"?><Response />'
    inbound = Message.objects.get(sid="SM" + "1" * 32)
    assert (inbound.direction, inbound.from_number, inbound.body) == ("in", CUSTOMER, "hello")
    assert inbound.handled_at is not None
    assert response.replies == ["You said: hello"]
    assert [(r.to, r.body, r.from_) for r in outbox] == [
        (CUSTOMER, "You said: hello", "+15005550006")
    ]
    reply = inbound.replies.get()
    assert (reply.direction, reply.to_number, reply.sid) == ("out", CUSTOMER, outbox[0].sid)


def test_a_text_without_a_signature_is_refused_and_not_stored(twilio, db):
    response = twilio.post("/twilio/sms/", {"MessageSid": "SMx", "From": CUSTOMER}, signature="")

    assert response.status_code == 403
    assert not Message.objects.exists()


def test_a_text_with_a_wrong_signature_is_refused_and_logged_with_the_url(twilio, db, caplog):
    params = {"MessageSid": "SMx", "From": CUSTOMER, "Body": "MENU"}
    forged = signature_for("https://pizza.example.com/twilio/sms/", params, token="not-the-token")

    response = twilio.post("/twilio/sms/", params, signature=forged)

    assert response.status_code == 403
    assert not Message.objects.exists()
    assert "validated against https://pizza.example.com/twilio/sms/" in caplog.text
    assert "PUBLIC_BASE_URL" in caplog.text


def test_a_body_changed_after_signing_is_refused(twilio, db):
    params = {"MessageSid": "SMx", "From": CUSTOMER, "Body": "MENU"}
    signature = signature_for("https://pizza.example.com/twilio/sms/", params)

    response = twilio.post(
        "/twilio/sms/", {**params, "Body": "ORDER 50 large"}, signature=signature
    )

    assert response.status_code == 403
    assert not Message.objects.exists()


def test_a_signature_for_another_url_is_refused(twilio, db):
    params = {"MessageSid": "SMx", "From": CUSTOMER, "Body": "MENU"}
    response = twilio.post(
        "/twilio/sms/", params, signed_url="https://evil.example.com/twilio/sms/"
    )
    assert response.status_code == 403


def test_the_webhook_itself_writes_one_row_in_a_fixed_few_queries(
    twilio, db, django_assert_num_queries
):
    from telephony.simulator import sms_params

    # One INSERT ... ON CONFLICT DO NOTHING: the conversation runs in the worker.
    with django_assert_num_queries(1):
        twilio.post("/twilio/sms/", sms_params(CUSTOMER, "ORDER 2 large pepperoni"))


def test_get_is_not_allowed_on_a_webhook(client, db):
    assert client.get("/twilio/sms/").status_code == 405


def test_behind_a_proxy_the_signature_is_checked_against_the_forwarded_https_url(db, settings):
    settings.PUBLIC_BASE_URL = ""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["shop.example.org"]
    params = {"AccountSid": settings.TWILIO_ACCOUNT_SID, "MessageSid": "SM" + "2" * 32,
              "From": CUSTOMER, "Body": "hi"}  # fmt: skip
    signature = signature_for("https://shop.example.org/twilio/sms/", params)
    client = Client()

    plain = client.post(
        "/twilio/sms/",
        params,
        headers={"X-Twilio-Signature": signature},
        HTTP_HOST="shop.example.org",
    )
    forwarded = client.post(
        "/twilio/sms/",
        params,
        headers={"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https"},
        HTTP_HOST="shop.example.org",
    )

    assert plain.status_code == 403  # seen as http://, which is not what Twilio signed
    assert forwarded.status_code == 200


def test_debug_does_not_switch_signature_checks_off(twilio, db, settings):
    settings.DEBUG = True
    response = twilio.post("/twilio/sms/", {"MessageSid": "SMx", "From": CUSTOMER}, signature="x")
    assert response.status_code == 403


def test_a_replayed_text_gets_the_same_answer_and_changes_nothing(sms, db, outbox):
    sid = "SM" + "3" * 32
    first = sms(CUSTOMER, "hello", sid=sid)
    second = sms(CUSTOMER, "hello", sid=sid)

    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.replies == second.replies == ["You said: hello"]
    assert len(outbox) == 1
    assert Message.objects.filter(direction="in").count() == 1
    assert Message.objects.filter(direction="out").count() == 1


def test_handling_one_text_twice_answers_once(sms, db, outbox):
    from telephony.inbound import answer_in_turn

    response = sms(CUSTOMER, "hello")
    inbound = Message.objects.get(direction="in")
    assert answer_in_turn(inbound.pk) is None  # handled already: nothing of theirs waits
    assert answer_pending() == 0
    assert response.replies == ["You said: hello"]
    assert len(outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_racing_each_other_make_one_row(settings):
    params = {"MessageSid": "SM" + "4" * 32, "From": CUSTOMER, "To": "+15005550006", "Body": "hi"}
    barrier = threading.Barrier(2)
    responses = []

    def deliver():
        client = TwilioClient(Client())
        barrier.wait()
        responses.append(client.post("/twilio/sms/", params))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answer_pending()

    assert sorted(r.status_code for r in responses) == [200, 200]
    assert responses[0].content == responses[1].content
    assert Message.objects.filter(direction="in").count() == 1
    assert list(Message.objects.filter(direction="out").values_list("body", flat=True)) == [
        "You said: hi"
    ]


@pytest.mark.parametrize(
    "word",
    [
        "STOP",
        "stop",
        " Stop ",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
    ],
)
def test_opt_out_words_record_an_opt_out_and_get_empty_twiml(sms, db, word):
    response = sms(CUSTOMER, word)

    assert response.status_code == 200
    assert response.replies == []
    assert OptOut.objects.filter(phone_number=CUSTOMER).exists()


def test_cancel_inside_a_sentence_is_not_an_opt_out(sms, db):
    assert sms(CUSTOMER, "cancel my order please").replies == ["You said: cancel my order please"]
    assert not OptOut.objects.exists()


def test_the_worker_answers_texts_in_the_order_they_came(
    twilio, db, outbox, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    from telephony.simulator import sms_params

    for body in ["first", "second"]:
        twilio.post("/twilio/sms/", sms_params(CUSTOMER, body))
    assert outbox == []  # the webhook only records them

    with django_capture_on_commit_callbacks(execute=True):
        call_command("telephony_worker", "--once")

    assert [r.body for r in outbox] == ["You said: first", "You said: second"]
    assert not Message.objects.filter(direction="in", handled_at__isnull=True).exists()


@pytest.mark.parametrize("word", ["START", "unstop", "YES"])
def test_opt_in_words_lift_an_opt_out(sms, db, word):
    OptOut.objects.create(phone_number=CUSTOMER, keyword="STOP")
    sms(CUSTOMER, word)
    assert not OptOut.objects.exists()


def test_an_opted_out_number_is_not_replied_to(sms, db):
    OptOut.objects.create(phone_number=CUSTOMER, keyword="STOP")
    response = sms(CUSTOMER, "hello?")
    assert response.replies == []
    assert not Message.objects.filter(direction="out").exists()
    assert Message.objects.filter(direction="in", body="hello?").exists()


def test_replies_stop_after_the_hourly_limit(sms, db, settings):
    settings.SMS_REPLIES_PER_HOUR = 3
    replies = [bool(sms(CUSTOMER, f"hello {i}").replies) for i in range(5)]
    assert replies == [True, True, True, False, False]
    assert Message.objects.filter(direction="in").count() == 5


def test_texts_from_a_country_we_do_not_serve_are_kept_but_not_answered(sms, db, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US"]
    response = sms("+882345678901", "hi")  # an international premium-rate range
    assert response.replies == []
    assert Message.objects.filter(direction="in").count() == 1


# --- delivery status callbacks ---


def _status(twilio, sid, status, **extra):
    return twilio.post("/twilio/sms/status/", {"MessageSid": sid, "MessageStatus": status, **extra})


def test_a_status_callback_updates_the_message(twilio, db):
    from .factories import MessageFactory

    message = MessageFactory(sid="SM" + "5" * 32, status="sent")
    assert _status(twilio, message.sid, "delivered").status_code == 204
    message.refresh_from_db()
    assert message.status == "delivered"


def test_a_late_sent_callback_never_overwrites_delivered(twilio, db):
    from .factories import MessageFactory

    message = MessageFactory(sid="SM" + "6" * 32, status="queued")
    for status in ["delivered", "sent", "queued", "sent"]:
        _status(twilio, message.sid, status)
    message.refresh_from_db()
    assert message.status == "delivered"


def test_a_failed_callback_records_the_error_code(twilio, db):
    from .factories import MessageFactory

    message = MessageFactory(sid="SM" + "7" * 32, status="sent")
    _status(twilio, message.sid, "undelivered", ErrorCode="30003")
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("undelivered", 30003)


@pytest.mark.parametrize("code", ["9223372036854775808", "-5", "x"])
def test_a_nonsense_error_code_is_recorded_as_none_not_a_server_error(twilio, db, code):
    from .factories import MessageFactory

    message = MessageFactory(sid="SM" + "7" * 32, status="sent")
    response = _status(twilio, message.sid, "undelivered", ErrorCode=code)
    assert response.status_code == 204
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("undelivered", None)


def test_an_unsubscribed_error_in_a_callback_records_an_opt_out(twilio, db):
    from .factories import MessageFactory

    message = MessageFactory(sid="SM" + "8" * 32, status="sent", to_number=CUSTOMER)
    _status(twilio, message.sid, "failed", ErrorCode="21610")
    assert OptOut.objects.filter(phone_number=CUSTOMER).exists()


def test_a_callback_for_an_unknown_sid_is_logged_and_acknowledged(twilio, db, caplog):
    response = _status(twilio, "SM" + "9" * 32, "delivered")
    assert response.status_code == 204
    assert "unknown message SID" in caplog.text


def test_an_unsigned_status_callback_changes_nothing(twilio, db):
    from .factories import MessageFactory

    message = MessageFactory(sid="SM" + "a" * 32, status="sent")
    response = twilio.post(
        "/twilio/sms/status/", {"MessageSid": message.sid, "MessageStatus": "failed"}, signature=""
    )
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == "sent"


# --- what a validly signed request may carry (issue 11.1) ---

SMS_URL = "https://pizza.example.com/twilio/sms/"


def captured_text(body="YES", sid="SM" + "5" * 32):
    """An inbound text as Twilio sends it, and its signature: what an attacker captures."""
    from telephony.simulator import sms_params

    params = sms_params(CUSTOMER, body, sid=sid)
    return params, signature_for(SMS_URL, params)


def test_a_resplit_message_sid_is_refused(twilio, db, caplog):
    params, signature = captured_text()
    assert twilio.post("/twilio/sms/", params, signature=signature).status_code == 200
    # Twilio signs key + value with no separator: moving NumMedia into MessageSid's value
    # leaves the signature valid and makes a new MessageSid.
    resplit = {k: v for k, v in params.items() if k != "NumMedia"}
    resplit["MessageSid"] = params["MessageSid"] + "NumMedia" + params["NumMedia"]
    assert RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(SMS_URL, resplit, signature)

    response = twilio.post("/twilio/sms/", resplit, signature=signature)

    assert response.status_code == 400
    assert Message.objects.count() == 1  # the original text only
    assert "Refused a validly signed webhook to /twilio/sms/: MessageSid" in caplog.text


def test_a_resplit_message_sid_is_refused_without_an_sms_sid_to_compare(twilio, db, caplog):
    params = {"AccountSid": settings.TWILIO_ACCOUNT_SID, "Body": "YES", "From": CUSTOMER,
              "MessageSid": "SM" + "6" * 32, "NumMedia": "0", "To": "+15005550006"}  # fmt: skip
    signature = signature_for(SMS_URL, params)
    resplit = {k: v for k, v in params.items() if k != "NumMedia"}
    resplit["MessageSid"] += "NumMedia0"

    response = twilio.post("/twilio/sms/", resplit, signature=signature)

    assert response.status_code == 400
    assert not Message.objects.exists()
    assert "is not a Twilio SM/MM SID" in caplog.text


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"MessageSid": "SMx", "SmsSid": "SMx", "SmsMessageSid": "SMx"}, "MessageSid 'SMx'"),
        ({"MessageSid": "CA" + "7" * 32, "SmsSid": "CA" + "7" * 32}, "not a Twilio SM/MM SID"),
        ({"SmsSid": "SM" + "8" * 32}, "MessageSid, SmsSid and SmsMessageSid differ"),
        ({"AccountSid": "AC" + "b" * 32}, "is not this account's"),
        ({"AccountSid": "AC" + "a" * 31}, "AccountSid"),
        ({"AccountSid": None}, "AccountSid missing"),
        ({"MessagingServiceSid": "MG1"}, "MessagingServiceSid"),
    ],
)
def test_a_signed_text_not_shaped_as_twilio_sends_it_is_a_400_that_stores_nothing(
    twilio, db, caplog, change, why
):
    from telephony.simulator import sms_params

    params = {**sms_params(CUSTOMER, "ORDER 1 large pepperoni"), **change}

    response = twilio.post("/twilio/sms/", params)  # correctly signed

    assert response.status_code == 400
    assert not Message.objects.exists()
    assert why in caplog.text


def test_a_forged_signature_is_still_a_403_not_a_400(twilio, db):
    params, _ = captured_text()
    params["MessageSid"] = "SMx"
    assert twilio.post("/twilio/sms/", params, signature="forged").status_code == 403


def test_an_mms_with_twilio_s_three_message_sids_is_accepted(sms, db):
    sid = "MM" + "c" * 32
    response = sms(CUSTOMER, "look", sid=sid, SmsMessageSid=sid, NumMedia="0")
    assert response.status_code == 200
    assert Message.objects.filter(sid=sid).exists()


def test_without_a_twilio_account_any_account_sid_is_accepted(twilio, db, settings):
    settings.TWILIO_ACCOUNT_SID = ""  # the console backend and the simulator
    from telephony.simulator import sms_params

    params = {**sms_params(CUSTOMER, "MENU"), "AccountSid": "AC" + "0" * 32}
    assert twilio.post("/twilio/sms/", params).status_code == 200


def test_a_status_callback_with_a_resplit_sid_is_refused(twilio, db, caplog):
    from .factories import MessageFactory

    message = MessageFactory(sid="SM" + "d" * 32, status="sent")
    params = {"AccountSid": settings.TWILIO_ACCOUNT_SID, "MessageSid": message.sid,
              "MessageStatus": "delivered"}  # fmt: skip
    url = "https://pizza.example.com/twilio/sms/status/"
    signature = signature_for(url, params)
    # MessageStatus moved into MessageSid's value
    resplit = {**params, "MessageSid": f"{message.sid}MessageStatusdelivered"}
    del resplit["MessageStatus"]
    assert RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, resplit, signature)

    response = twilio.post("/twilio/sms/status/", resplit, signature=signature)

    assert response.status_code == 400
    message.refresh_from_db()
    assert message.status == "sent"
