"""Texts from support agents' phones (placeholder until the support line lands)."""


def handle_agent_sms(message):
    return None
