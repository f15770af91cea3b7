"""Texts from support agents' phones: ON / OFF put them on or off shift."""

from .agents import set_on_shift
from .models import Agent

WORDS = {"ON": True, "OFF": False}


def handle_agent_sms(message):
    """An inbound-SMS handler (see telephony.handlers). None for anyone who is not an agent,
    and for agents' other texts, so they reach the order conversation like anyone's."""
    word = "".join(ch for ch in (message.body or "").upper() if ch.isalpha())
    if word not in WORDS:
        return None
    agent = Agent.objects.filter(phone=message.from_number, is_active=True).first()
    if agent is None:
        return None
    set_on_shift(agent, WORDS[word])
    if agent.on_shift:
        return (
            f"Hi {agent.name}, you are on shift: support calls will ring this phone. "
            "Text OFF to stop."
        )
    return f"Hi {agent.name}, you are off shift: no more support calls. Text ON to start again."
