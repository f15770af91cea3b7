"""The phone simulator at /dev/phone/: texts and calls the shop through the real, signed
webhooks, shows the message log as bubbles and follows the TwiML a caller would hear."""

import io
import re

import pytest
from django.urls import reverse

from orders import demo
from orders.models import Order
from orders.models import Status as S
from support.models import SupportCall, Voicemail
from telephony.models import Message
from tests.factories import AgentFactory, OrderFactory

PHONE = "/dev/phone/"
HTMX = {"HX-Request": "true"}
ME = "+14155550123"


@pytest.fixture
def simulator(settings, client, django_user_model):
    """Turned on outside DEBUG (as on a staging server), used by a front-desk login."""
    settings.PHONE_SIMULATOR_ENABLED = True
    client.force_login(front_desk(django_user_model))


def front_desk(django_user_model, username="sam"):
    """Staff given the simulator's own permission."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create(username=username, is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="telephony", codename="use_phone_simulator")
    )
    return user


# Transactional: what the webhooks do after commit (the conversation's replies, ringing an
# agent) happens before the simulator reads the result, as it does in production.


@pytest.fixture
def text(client):
    def send(body):
        return client.post(reverse("phone:text"), {"body": body}, headers=HTMX)

    return send


@pytest.fixture
def phone_call(client):
    def act(action, **data):
        response = client.post(reverse("phone:call"), {"action": action, **data}, headers=HTMX)
        assert response.status_code == 200
        return response.content.decode()

    return act


def bubbles(html):
    """The texts on screen, as (side, text) in order."""
    found = re.findall(r'<li class="bubble (mine|theirs)">\s*<p>(.*?)</p>', html, re.S)
    return [(side, body) for side, body in found]


# --- when it is there ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_simulator_is_a_404_unless_debug_or_enabled(client, settings):
    settings.DEBUG, settings.PHONE_SIMULATOR_ENABLED = False, False
    assert client.get(PHONE).status_code == 404
    assert client.post(reverse("phone:text"), {"body": "MENU"}).status_code == 404
    settings.DEBUG = True
    assert client.get(PHONE).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_debug_alone_never_turns_it_on_with_the_twilio_backend(client, settings):
    settings.DEBUG, settings.PHONE_SIMULATOR_ENABLED = True, False
    settings.TELEPHONY_BACKEND = "twilio"
    assert client.get(PHONE).status_code == 404
    settings.PHONE_SIMULATOR_ENABLED = True
    assert client.get(PHONE).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_enabled_outside_debug_it_sends_visitors_to_the_login_and_refuses_their_posts(
    client, settings
):
    settings.DEBUG, settings.PHONE_SIMULATOR_ENABLED = False, True
    response = client.get(PHONE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    poll = client.get(reverse("phone:chat"), headers=HTMX)
    assert poll.status_code == 204 and poll["HX-Redirect"].startswith(reverse("admin:login"))
    assert client.post(reverse("phone:number"), {"number": "+14155550177"}).status_code == 403
    assert client.post(reverse("phone:text"), {"body": "MENU"}).status_code == 403
    assert client.post(reverse("phone:call"), {"action": "start"}).status_code == 403
    assert not Message.objects.exists() and not SupportCall.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_enabled_outside_debug_it_needs_staff_who_may_read_customers_texts(
    client, settings, django_user_model
):
    settings.DEBUG, settings.PHONE_SIMULATOR_ENABLED = False, True
    client.force_login(django_user_model.objects.create(username="pat"))  # not staff
    assert client.get(PHONE)["Location"].startswith(reverse("admin:login"))
    client.force_login(django_user_model.objects.create(username="cook", is_staff=True))
    assert client.get(PHONE).status_code == 403  # staff, but without the simulator's permission
    assert client.post(reverse("phone:text"), {"body": "MENU"}).status_code == 403
    client.force_login(front_desk(django_user_model))
    assert client.get(PHONE).status_code == 200
    assert client.post(reverse("phone:text"), {"body": "MENU"}, headers=HTMX).status_code == 200
    assert Message.objects.filter(direction="in", body="MENU").exists()


@pytest.mark.django_db(transaction=True)
def test_with_debug_on_a_developer_machine_it_needs_no_login(client, settings):
    settings.DEBUG, settings.PHONE_SIMULATOR_ENABLED = True, False
    assert client.get(PHONE).status_code == 200
    assert client.post(reverse("phone:text"), {"body": "MENU"}, headers=HTMX).status_code == 200


# --- texting -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_customer_orders_by_text_and_sees_each_reply_as_a_bubble(simulator, text):
    demo.seed(io.StringIO())
    text("MENU")
    text("ORDER 1 large pepperoni")
    html = text("YES").content.decode()
    order = Order.objects.get(customer__phone=ME)
    shown = bubbles(html)
    assert [body for side, body in shown if side == "mine"] == [
        "MENU", "ORDER 1 large pepperoni", "YES"
    ]  # fmt: skip
    replies = [body for side, body in shown if side == "theirs"]
    assert len(replies) == 4
    assert "Pepperoni" in replies[0] and "$16" in replies[1]
    assert f"#{order.number}" in replies[2]
    assert "Reply DEALS" in replies[3]  # the one-time offer of promotions, after the order


@pytest.mark.django_db(transaction=True)
def test_later_status_texts_from_the_message_log_appear_in_the_chat(simulator, client, text):
    from orders.services import advance_order

    demo.seed(io.StringIO())
    text("ORDER 1 large pepperoni")
    text("YES")
    order = Order.objects.get(customer__phone=ME)
    advance_order(order, S.PREPARING)
    advance_order(order, S.BAKING)
    html = client.get(reverse("phone:chat")).content.decode()
    # Last but for the one-time offer of promotions, held back a few seconds after the order.
    last = [body for _, body in bubbles(html)[-2:]]
    assert "is in the oven!" in last[-1] or ("is in the oven!" in last[0] and "DEALS" in last[1])


@pytest.mark.django_db(transaction=True)
def test_the_texts_are_signed_webhook_requests_logged_like_any_other(simulator, text):
    text("HELLO THERE")
    inbound = Message.objects.get(direction="in")
    assert (inbound.from_number, inbound.body) == (ME, "HELLO THERE")
    assert inbound.sid.startswith("SM")


@pytest.mark.django_db(transaction=True)
def test_choosing_another_number_shows_that_numbers_texts(simulator, client, text):
    text("MENU")
    client.post(reverse("phone:number"), {"number": "(415) 555-0177"})
    html = client.get(PHONE).content.decode()
    assert "+14155550177" in html and "No texts yet" in html
    response = client.post(reverse("phone:number"), {"number": "pizza"})
    assert response.status_code == 400 and "not a phone number" in response.content.decode()


TWILIO_STOP = (
    "You have successfully been unsubscribed. You will not receive any more messages from "
    "this number. Reply START to resubscribe."
)
TWILIO_START = (
    "You have successfully been re-subscribed to messages from this number. "
    "Reply STOP to unsubscribe."
)
TWILIO_HELP = "Reply STOP to unsubscribe. Msg&amp;Data Rates May Apply."


def twilio_replies(html):
    """Twilio's own automatic replies on screen, each marked as such."""
    found = re.findall(
        r'<li class="bubble auto">\s*<p>(.*?)</p>\s*<small>(.*?)</small>', html, re.S
    )
    assert all("Automatic reply from Twilio" in label for _, label in found)
    return [body for body, _ in found]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("word", ["cancel", "END", "quit", "Unsubscribe", "stopall", "STOP"])
def test_a_lone_opt_out_word_shows_twilios_own_unsubscribe_reply(simulator, text, word):
    html = text(word).content.decode()
    assert twilio_replies(html) == [TWILIO_STOP]
    assert bubbles(html) == [("mine", word)]  # the shop itself answers nothing
    assert not Message.objects.filter(direction="out").exists()  # Twilio's, not our outbound


@pytest.mark.django_db(transaction=True)
def test_start_after_stop_shows_twilios_resubscribe_reply_after_each_text(simulator, text):
    text("STOP")
    html = text("START").content.decode()
    assert twilio_replies(html) == [TWILIO_STOP, TWILIO_START]
    assert html.index(TWILIO_STOP) < html.index(">START<") < html.index(TWILIO_START)


@pytest.mark.django_db(transaction=True)
def test_help_shows_twilios_help_reply_besides_the_shops_own(simulator, text):
    html = text("HELP").content.decode()
    assert twilio_replies(html) == [TWILIO_HELP]
    assert [side for side, _ in bubbles(html)] == ["mine", "theirs"]


@pytest.mark.django_db(transaction=True)
def test_words_twilio_does_not_act_on_get_no_automatic_reply(simulator, text):
    demo.seed(io.StringIO())
    text("cancel my order")  # not a lone word: no opt-out
    text("ORDER 1 large pepperoni")
    html = text("YES").content.decode()  # confirms the order; the number was not opted out
    assert twilio_replies(html) == []


@pytest.mark.django_db(transaction=True)
def test_an_opted_out_number_gets_no_help_reply_and_yes_resubscribes_it(simulator, text):
    text("STOP")
    assert twilio_replies(text("HELP").content.decode()) == [TWILIO_STOP]
    assert twilio_replies(text("YES").content.decode()) == [TWILIO_STOP, TWILIO_START]


# --- calling -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_call_says_the_greeting_and_waits_for_a_key(simulator, phone_call):
    html = phone_call("start")
    assert "Thank you for calling" in html
    assert "To speak to a person, press 0 or say: a person." in html
    assert 'value="wait"' in html  # "Say nothing"
    assert 'value="say"' in html  # the box to say something: the greeting listens
    call = SupportCall.objects.get()
    assert call.caller_number == ME and call.status == SupportCall.Status.IN_MENU


@pytest.mark.django_db(transaction=True)
def test_a_whole_phone_order_can_be_said_in_the_simulator(simulator, phone_call):
    import io

    from orders import demo
    from orders.models import Order

    demo.seed(io.StringIO())
    phone_call("start")

    readback = phone_call("say", words="two large pepperoni for pickup")
    assert "You say “two large pepperoni for pickup”." in readback
    assert "You&#x27;d like 2 large Pepperoni." in readback or "You'd like 2 large" in readback
    placed = phone_call("say", words="yes")

    order = Order.objects.get()
    assert f"Your order number is {order.number}." in placed
    assert "The shop hangs up." in placed


@pytest.mark.django_db(transaction=True)
def test_pressing_1_tells_the_caller_about_their_order(simulator, phone_call):
    order = OrderFactory(customer__phone=ME, status=S.BAKING)
    assert f"Calling about order {order.number}?" in phone_call("start")
    assert f"Order {order.number} is in the oven." in phone_call("key", key="1")


@pytest.mark.django_db(transaction=True)
def test_a_key_that_is_not_an_option_is_redirected_to_the_greeting(simulator, phone_call):
    phone_call("start")
    html = phone_call("key", key="7")
    assert "not one of the options" in html
    assert html.count("Thank you for calling") == 2  # the <Redirect> was followed


@pytest.mark.django_db(transaction=True)
def test_the_simulated_agent_answers_and_the_caller_is_connected(
    simulator, phone_call, outbox, client
):
    agent = AgentFactory(name="Maria")
    phone_call("start")
    html = phone_call("key", key="2")
    assert "Please hold while we connect you" in html
    assert "The shop rings Maria" in html
    assert [r.to for r in outbox if r.kind == "call"] == [agent.phone]
    assert "Agent answers" in client.get(PHONE).content.decode()
    html = phone_call("answer")
    assert "Maria hears: “Customer on the line. Press 1 to take the call.”" in html
    assert "Maria presses 1 and hears: “Connecting you. Press star to leave.”" in html
    assert "Maria joins your call" in html
    assert SupportCall.objects.get().status == SupportCall.Status.CONNECTED
    phone_call("hangup")
    assert SupportCall.objects.get().status == SupportCall.Status.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_when_no_agent_answers_the_caller_leaves_a_voicemail(simulator, phone_call):
    AgentFactory(name="Maria")
    phone_call("start")
    phone_call("key", key="2")
    html = phone_call("decline")
    assert "Maria does not answer" in html
    assert "moves you to voicemail" in html and "leave a message after the beep" in html
    html = phone_call("voicemail")
    assert "We will call you back soon" in html and "Call ended" in html
    voicemail = Voicemail.objects.get()
    assert voicemail.call.caller_number == ME and voicemail.duration == 7
    assert voicemail.call.status == SupportCall.Status.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_a_caller_who_hangs_up_on_hold_is_abandoned(simulator, phone_call):
    AgentFactory()
    phone_call("start")
    phone_call("key", key="2")
    phone_call("hangup")
    assert SupportCall.objects.get().status == SupportCall.Status.ABANDONED


@pytest.mark.django_db(transaction=True)
def test_a_caller_on_hold_presses_star_then_1_to_be_called_back(simulator, phone_call):
    AgentFactory(name="Maria")
    phone_call("start")
    html = phone_call("key", key="2")
    assert "without losing your place, press star" in html
    html = phone_call("key", key="*")
    assert "You leave the hold." in html and "keeping your place in line, press 1" in html
    html = phone_call("key", key="1")
    assert "We will call you back at this number" in html and "Call ended" in html
    held, back = SupportCall.objects.order_by("pk")
    assert held.status == SupportCall.Status.CALL_BACK
    assert back.callback_of == held and back.status == SupportCall.Status.RINGING_AGENT
