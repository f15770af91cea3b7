"""Support agents and their shifts: who is on shift, who is free to be rung next."""

import logging

from django.db import transaction
from django.db.models import Exists, F, OuterRef

from .models import ACTIVE_OFFER_STATUSES, Agent, AgentOffer

logger = logging.getLogger(__name__)


def busy():
    """For an agent queryset: whether the agent is on a call or being rung for one."""
    offers = AgentOffer.objects.filter(agent=OuterRef("pk"), status__in=ACTIVE_OFFER_STATUSES)
    return Exists(offers)


def on_shift():
    return Agent.objects.filter(is_active=True, on_shift=True)


def available_agents():
    """Agents who may be rung now: active, on shift, and not on or ringing for another call."""
    return on_shift().exclude(busy())


def set_on_shift(agent, on_shift):
    """Put an agent on or off shift. Returns whether anything changed."""
    changed = Agent.objects.filter(pk=agent.pk).exclude(on_shift=on_shift).update(on_shift=on_shift)
    agent.on_shift = on_shift
    if changed:
        logger.info("Agent %s is now %s shift", agent.pk, "on" if on_shift else "off")
        from .calls import hunt  # calls builds on this module

        transaction.on_commit(hunt)  # callers in line, or no one left on shift to take them
    return bool(changed)


# The order free agents are offered calls in: lower priority numbers first, then whoever
# was offered one longest ago (or never), so agents of equal priority take turns.
TURN = ("priority", F("last_offered_at").asc(nulls_first=True), "pk")
