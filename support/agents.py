"""Support agents and their shifts: who is on shift, who is free to be rung next."""

import logging

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
    return bool(changed)


def next_agent_for(call):
    """The free agent to ring next for `call` (not yet offered it), locked; None if nobody."""
    offered = AgentOffer.objects.filter(call=call).values("agent_id")
    return (
        available_agents()
        .exclude(pk__in=offered)
        .select_for_update()
        .order_by("priority", F("last_offered_at").asc(nulls_first=True), "pk")
        .first()
    )
