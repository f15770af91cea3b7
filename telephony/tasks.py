"""Handing work to the task queue (Django's tasks API), for the apps that have tasks
(campaigns, support). Texts and voice requests have none: the telephony worker sends them
(telephony/outbox.py)."""

import logging

logger = logging.getLogger(__name__)

_queue_down = False  # whether the last enqueue failed (logged once, until one succeeds)


def enqueue_or_leave_to_sweep(task, *args):
    """`task.enqueue(*args)`; True if it was enqueued. When the task backend cannot take it
    (Redis stopped, say), the work is not lost as long as a sweep finds it again (a
    campaign's turns: campaigns.services.sweep_campaigns), so an action that committed
    never turns into an error page for it. Logged once when the queue goes down and once
    when it is back, not at every task."""
    global _queue_down
    try:
        task.enqueue(*args)
    except Exception as exc:
        if not _queue_down:
            logger.error(
                "The task queue refused %s (%s: %s); its sweep will enqueue it again. "
                "Not logged again until the queue takes a task.",
                task.name, type(exc).__name__, exc,
            )  # fmt: skip
        _queue_down = True
        return False
    if _queue_down:
        logger.warning("The task queue takes tasks again")
        _queue_down = False
    return True
