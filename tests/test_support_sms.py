"""Agents text ON / OFF to the shop's number; everyone else's texts pass on to orders."""

import pytest
from django.urls import reverse

from support.demo import seed
from support.models import Agent, AgentOffer
from tests.factories import AgentFactory


@pytest.fixture
def agent(db):
    return AgentFactory(phone="+12025550111", name="Maria", on_shift=False)


def test_an_agent_texting_on_goes_on_shift(sms, agent):
    response = sms(agent.phone, "on")

    assert "you are on shift" in " ".join(response.replies)
    agent.refresh_from_db()
    assert agent.on_shift


def test_an_agent_texting_off_is_no_longer_rung(
    sms, twilio, agent, outbox, django_capture_on_commit_callbacks
):
    other = AgentFactory(priority=99)
    Agent.objects.filter(pk=agent.pk).update(on_shift=True, priority=1)

    reply = sms(agent.phone, "OFF")
    with django_capture_on_commit_callbacks(execute=True):
        twilio.post(reverse("support:voice"), {"CallSid": "CA" + "1" * 32, "From": "+14155550123"})
        twilio.post(reverse("support:menu"), {"CallSid": "CA" + "1" * 32, "Digits": "2"})

    assert "you are off shift" in " ".join(reply.replies)
    agent.refresh_from_db()
    assert not agent.on_shift
    assert [r.to for r in outbox if r.kind == "call"] == [other.phone]
    assert not AgentOffer.objects.filter(agent=agent).exists()


def test_a_customer_texting_on_is_not_taken_for_an_agent(sms, agent, settings):
    from support.sms import handle_agent_sms
    from telephony.models import Message

    message = Message(from_number="+14155550199", body="ON")
    assert handle_agent_sms(message) is None


def test_an_agents_other_texts_pass_on_to_the_order_conversation(agent):
    from support.sms import handle_agent_sms
    from telephony.models import Message

    assert handle_agent_sms(Message(from_number=agent.phone, body="MENU")) is None


def test_an_inactive_agent_cannot_go_on_shift_by_text(sms, agent):
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    sms(agent.phone, "ON")
    agent.refresh_from_db()
    assert not agent.on_shift


def test_demo_seed_adds_two_agents_on_shift_once(db):
    class Out:
        def write(self, text):
            pass

    seed(Out())
    seed(Out())

    assert Agent.objects.filter(on_shift=True).count() == 2
