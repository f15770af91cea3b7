"""The processes that hand texts to Twilio, and the texts a dead one was handing over.

A worker registers when it starts (`register`) and beats every few seconds (`beat`); the
texts it claims carry its row (Message.claimed_by). A claim nobody will finish (its
process was killed between claiming a text and storing Twilio's answer) is found by the
next worker at once, not after a timeout: a process on this host whose pid is gone is
dead the moment we look. A process whose beat is older than WORKER_DEAD_AFTER_SECONDS
(60; never less than any send can take, two TWILIO_HTTP_TIMEOUTs and ten seconds) is
dead too, wherever it runs: a live worker that could not beat (the database away for a
while) has finished any send it started by then, so taking its claims back cannot send a
text twice (measured: a worker declared dead after a 10 s outage at 15 s sent one reply
twice). Its claims go back to the queue marked unclear (outbox.requeue_claims_of), so each is
looked up at Twilio before it is sent again (outbox.send_claimed). Claims made by no
registered process (an older worker, a task in a task worker not registered) are left to
the time-based sweep, as before (outbox.requeue_due_messages).
"""

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import WorkerProcess

logger = logging.getLogger(__name__)

HOST = socket.gethostname()[:255]
BEAT_EVERY = 2.0  # seconds

_current = None  # this process's WorkerProcess id, once registered
_role = ""


def current():
    """This process's registration id, or None (claims are then nobody's)."""
    return _current


def register(role):
    """Register this process; returns its id."""
    global _current, _role
    _role = role
    now = timezone.now()
    _current = WorkerProcess.objects.create(role=role, host=HOST, pid=os.getpid(), beat_at=now).pk
    return _current


def beat():
    """Say this process is alive. If another took it for dead meanwhile (silent through a
    long outage) and removed its row, register again: its claims must name a live row."""
    if _current is None:
        return
    if not WorkerProcess.objects.filter(pk=_current).update(beat_at=timezone.now()):
        logger.warning("This %s was taken for dead while silent; registering again", _role)
        register(_role)


def unregister():
    """Remove this process's row (its claims, all stored by now, keep no reference)."""
    global _current
    if _current is not None:
        WorkerProcess.objects.filter(pk=_current).delete()
        _current = None


def _alive_here(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def dead_processes(now=None):
    """The registered processes that are dead: on this host with their pid gone, or silent
    for longer than any send can take (WORKER_DEAD_AFTER_SECONDS)."""
    now = now or timezone.now()
    silent = max(settings.WORKER_DEAD_AFTER_SECONDS, 2 * settings.TWILIO_HTTP_TIMEOUT + 10)
    silent_since = now - timedelta(seconds=silent)
    dead = []
    for process in WorkerProcess.objects.exclude(pk=_current):
        here = process.host == HOST
        if process.beat_at < silent_since or (here and not _alive_here(process.pid)):
            dead.append(process)
    return dead


def forget(dead):
    """Remove dead processes' rows, once their claims are back in the queue
    (outbox.requeue_claims_of)."""
    WorkerProcess.objects.filter(pk__in=[p.pk for p in dead]).delete()
