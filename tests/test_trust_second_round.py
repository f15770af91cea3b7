"""Trust, second round (issue 32): what an outside attack run broke, each from the
attacker's side. (Item 3, one dead process stopping the shop: scripts/run's supervisor and
db_worker's restart, tests/test_faults_database.py and bench/README.md.)"""

import pytest
from django.urls import reverse

from campaigns.models import Consent
from orders.models import Customer, Order
from telephony.models import Message, OptOut
from telephony.simulator import sms_params

pytestmark = pytest.mark.django_db
CUSTOMER = "+14155550199"


# --- 5. compatibility forms of the opt-out words ------------------------------------------


@pytest.mark.parametrize("word", ["ＳＴＯＰ", "Ｓｔｏｐ", "ＳＴＯＰ。", "ＵＮＳＵＢＳＣＲＩＢＥ"])
def test_a_fullwidth_stop_opts_the_number_out(sms, word):
    response = sms(CUSTOMER, word)

    assert OptOut.objects.filter(phone_number=CUSTOMER).exists()
    assert response.replies == []  # Twilio confirms an opt-out itself


def test_a_fullwidth_start_opts_back_in(sms):
    sms(CUSTOMER, "STOP")
    sms(CUSTOMER, "ＳＴＡＲＴ")
    assert not OptOut.objects.filter(phone_number=CUSTOMER).exists()


# --- 8. senders that are no phone number ---------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    ["messenger:+14155550199", "rcs:+14155550199", "tel:+14155550199", "sip:+14155550199@x"],
)
def test_a_sender_with_another_scheme_is_stored_but_not_taken_for_a_phone(twilio, sender, outbox):
    from telephony.inbound import answer_pending

    params = sms_params(CUSTOMER, "ORDER 2 large pepperoni")
    params["From"] = sender
    assert twilio.post("/twilio/sms/", params).status_code == 200
    answer_pending()

    message = Message.objects.get(sid=params["MessageSid"])
    assert message.from_number == sender  # kept as it came, for staff
    assert message.error_message == "not answered: not a phone number"
    assert outbox == [] and not Order.objects.exists() and not Customer.objects.exists()


def test_a_whatsapp_sender_is_still_a_phone(sms):
    response = sms("whatsapp:+14155550199", "MENU")
    assert response.replies  # answered, on WhatsApp


# --- 9. staff consent for numbers the shop may not text ------------------------------------


@pytest.mark.parametrize(
    "number, error",
    [
        ("+266696687", "hidden caller ID"),  # Twilio's stand-in for an anonymous caller
        ("+19005550123", "premium-rate"),
        ("+447911123456", "country not allowed"),
    ],
)
def test_staff_cannot_record_consent_for_a_number_the_shop_may_not_text(
    admin_client, number, error
):
    response = admin_client.post(
        reverse("admin:campaigns_consent_add"),
        {"phone_number": number, "how": "counter", "text_shown": "Yes", "language": "en"},
    )

    assert response.status_code == 200  # the form again, with the reason; no 500
    assert error in response.content.decode()
    assert not Consent.objects.exists()


# --- 6. a lost answer while Twilio still has the text queued --------------------------------


def test_a_text_twilio_still_holds_queued_is_found_by_the_retry_not_sent_twice(fake_twilio):
    from django.utils import timezone

    from telephony.sms import send_sms

    from .fixtures.consumer import deliver

    fake_twilio.hold_in_queue = True  # accepted, not sent yet: no DateSent
    fake_twilio.stall_next(1, seconds=2)  # ... and our read times out (0.5 s)
    message = send_sms(CUSTOMER, "Your pizza is in the oven")

    deliver(message.pk)
    message.refresh_from_db()
    assert (message.status, message.sid) == ("queued", None)
    assert message.unclear_since is not None  # Twilio may have it
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    deliver(message.pk)

    (accepted,) = fake_twilio.of_kind("message")  # one text reached Twilio, not two
    message.refresh_from_db()
    assert message.sid == accepted.resource["sid"]
    assert [r.To for r in fake_twilio.of_kind("list_message")] == [CUSTOMER]


# --- 1. YES places only what the customer was shown ----------------------------------------


@pytest.fixture
def menu(db):
    """The demo menu, as a shop starts with."""
    import io

    from orders import demo

    demo.seed(io.StringIO())


PIZZAS = ["pepperoni", "margherita", "hawaiian", "veggie", "meat feast", "bbq chicken"]


def long_order(lines):
    """`lines` different lines: each pizza in each size, with a topping, then sides."""
    wanted = [
        f"1 {size} {pizza} with {topping}"
        for topping in ("mushrooms", "onions", "olives", "ham")
        for size in ("small", "medium", "large")
        for pizza in PIZZAS
    ]
    return "ORDER " + ", ".join(wanted[:lines])


def test_an_order_of_more_lines_than_a_text_order_takes_is_refused_and_yes_places_nothing(
    sms, menu, settings
):
    settings.ORDER_MAX_LINES = 20
    reply = sms(CUSTOMER, long_order(40)).replies[0]

    assert "40 different items" in reply and "up to 20" in reply
    assert "YES" not in reply
    assert sms(CUSTOMER, "YES").replies and not Order.objects.exists()


def test_a_quote_too_long_for_one_text_is_withdrawn_not_placeable(sms, menu, settings):
    settings.ORDER_MAX_LINES = 100  # the line cap out of the way: only the length stops it
    reply = sms(CUSTOMER, long_order(60)).replies[0]

    assert "too long to read back in one text" in reply
    sms(CUSTOMER, "YES")
    assert not Order.objects.exists()


def test_an_order_at_the_cap_is_quoted_in_full_with_its_total_and_placed(sms, menu, settings):
    settings.ORDER_MAX_LINES = 20
    reply = sms(CUSTOMER, long_order(20)).replies[0]

    assert "Total" in reply and "YES" in reply  # the whole quote: the customer saw it all
    sms(CUSTOMER, "YES")
    assert Order.objects.get().items.count() == 20


# --- 7. staff logins throttled --------------------------------------------------------------


@pytest.fixture
def maria(django_user_model):
    user = django_user_model.objects.create(username="maria", is_staff=True)
    user.set_password("the right pass phrase 42")
    user.save()
    return user


def log_in(client, password, address="203.0.113.7", username="maria"):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_forty_wrong_passwords_then_the_right_one_does_not_log_in(client, maria, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for attempt in range(40):
        log_in(client, f"guess {attempt}")

    response = log_in(client, "the right pass phrase 42")

    assert response.status_code == 429  # too many attempts: locked out, for now
    assert "_auth_user_id" not in client.session


def test_the_lock_is_for_that_account_from_that_address_only(client, maria, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for attempt in range(5):
        log_in(client, f"guess {attempt}")

    assert log_in(client, "the right pass phrase 42", address="198.51.100.9").status_code == 302
    assert "_auth_user_id" in client.session  # maria, from the shop's own address


def test_a_few_typos_then_the_right_password_logs_in(client, maria, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for attempt in range(4):
        log_in(client, f"typo {attempt}")
    assert log_in(client, "the right pass phrase 42").status_code == 302


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(rf, settings):
    from staff.login import client_ip

    settings.LOGIN_PROXY_COUNT = 1
    request = rf.post(
        "/admin/login/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7"
    )  # "1.2.3.4" is what the client wrote itself; nginx appended the real one
    assert client_ip(request) == "203.0.113.7"
    settings.LOGIN_PROXY_COUNT = 0
    assert client_ip(request) == "127.0.0.1"


# --- 4. a kitchen login in the order admin --------------------------------------------------


@pytest.fixture
def kitchen_client(client, django_user_model):
    from django.contrib.auth.models import Group

    from staff.board.access import ensure_groups

    ensure_groups()
    cook = django_user_model.objects.create(username="cook", is_staff=True)
    cook.groups.add(Group.objects.get(name="Kitchen"))
    client.force_login(cook)
    return client


def test_a_kitchen_login_cannot_text_its_own_words_or_have_the_shop_call_a_customer(
    kitchen_client, django_capture_on_commit_callbacks, outbox
):
    from telephony.models import ProviderRequest
    from tests.factories import OrderFactory

    order = OrderFactory(status="preparing")
    promised = order.promised_at
    changelist = reverse("admin:orders_order_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        kitchen_client.post(
            changelist,
            {"action": "add_delay", "_selected_action": [order.pk], "apply": "1",
             "minutes": "30", "reason": "Click here: http://evil.example/pay"},
        )  # fmt: skip
        kitchen_client.post(
            changelist,
            {"action": "call_customer_with_order_status", "_selected_action": [order.pk]},
        )

    order.refresh_from_db()
    assert order.promised_at == promised
    assert not Message.objects.filter(direction="out").exists() and outbox == []
    assert not ProviderRequest.objects.exists()
    page = kitchen_client.get(changelist).content.decode()
    assert "add_delay" not in page and "call_customer_with_order_status" not in page


def test_a_kitchen_login_sees_customers_numbers_masked_and_cannot_search_by_them(
    kitchen_client,
):
    from tests.factories import OrderFactory

    order = OrderFactory(status="preparing")
    phone = str(order.customer.phone)
    changelist = reverse("admin:orders_order_changelist")

    listing = kitchen_client.get(changelist).content.decode()
    detail = kitchen_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    found = kitchen_client.get(changelist, {"q": phone}).content.decode()

    assert phone not in listing and phone[-4:] in listing  # masked, as the board shows it
    assert phone not in detail.content.decode()
    assert f"#{order.number}" not in found  # a number's orders are not found by the number


# --- 2. the phone simulator acts only as numbers of its own --------------------------------


@pytest.fixture
def simulator_user(client, settings, django_user_model):
    from django.contrib.auth.models import Permission

    settings.DEBUG, settings.PHONE_SIMULATOR_ENABLED = False, True
    reader = django_user_model.objects.create(username="reader", is_staff=True)
    reader.user_permissions.add(
        Permission.objects.get(content_type__app_label="telephony", codename="view_message")
    )
    client.force_login(reader)
    return reader


def test_reading_customers_texts_is_not_enough_to_use_the_simulator(client, simulator_user):
    assert client.get("/dev/phone/").status_code == 403
    assert client.post(reverse("phone:text"), {"body": "CANCEL ORDER"}).status_code == 403
    assert not Message.objects.exists()


def test_the_simulator_never_texts_as_a_real_customer(client, simulator_user, outbox):
    from django.contrib.auth.models import Permission

    from tests.factories import OrderFactory

    simulator_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="telephony", codename="use_phone_simulator")
    )
    real = OrderFactory(status="received")  # a real customer's order, a real number
    real_number = str(real.customer.phone)

    chosen = client.post(reverse("phone:number"), {"number": real_number})
    client.post(reverse("phone:text"), {"body": "CANCEL ORDER"}, headers={"HX-Request": "true"})

    assert chosen.status_code == 400 and "test numbers only" in chosen.content.decode()
    real.refresh_from_db()
    assert real.status == "received"  # not cancelled
    assert not Message.objects.filter(from_number=real_number).exists()
    assert Message.objects.filter(direction="in", from_number="+14155550123").exists()
    # A test number of its own is fine.
    assert client.post(reverse("phone:number"), {"number": "+12125550142"}).status_code == 302
