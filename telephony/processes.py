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
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from .models import WorkerProcess

logger = logging.getLogger(__name__)

HOST = socket.gethostname()[:255]
BEAT_EVERY = 2.0  # seconds
# The roles of the long-running processes (scripts/run, deploy/): each registers and beats,
# so /readyz and the board say when one is silent. Only telephony workers claim outbox
# rows; a dead one's row is removed once its claims are back in the queue (`forget`). The
# others' rows stay until the same role starts again on the same host (`register`), or
# staff remove them in the admin: a process that died stays visible until then.
TELEPHONY_WORKER = "telephony worker"
TASK_WORKER = "task worker"
LATE_ORDER_SWEEP = "late-order sweep"
WEB = "web"
CLAIMING = (TELEPHONY_WORKER,)

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
    if role not in CLAIMING:  # (a dead telephony worker's row goes once its claims are back)
        earlier = WorkerProcess.objects.filter(role=role, host=HOST).exclude(pid=os.getpid())
        gone = [p.pk for p in earlier if not _alive_here(p.pid)]  # the one this one replaces
        WorkerProcess.objects.filter(pk__in=gone).delete()
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
    others = WorkerProcess.objects.exclude(pk=_current)
    return [process for process in others if is_dead(process, now, silent)]


def forget(dead):
    """Remove dead telephony workers' rows, once their claims are back in the queue
    (outbox.requeue_claims_of). Other roles' rows stay, so /readyz sees them dead."""
    WorkerProcess.objects.filter(pk__in=[p.pk for p in dead if p.role in CLAIMING]).delete()


def is_dead(process, now, silent=None):
    """Silent for `silent` seconds (WORKER_DEAD_AFTER_SECONDS), or on this host with its pid
    gone."""
    silent_since = now - timedelta(seconds=silent or settings.WORKER_DEAD_AFTER_SECONDS)
    return process.beat_at < silent_since or (process.host == HOST and not _alive_here(process.pid))


def beat_in_background(role, every=10.0):
    """Register this process as `role` and beat every `every` seconds from a thread of its
    own: for processes whose main loop is not ours (gunicorn's workers, the task worker,
    the late-order sweep's minute-long sleep). Once per process (a fork starts its own).
    Off with PROCESS_HEARTBEATS=false (the test suite)."""
    global _beating
    if not settings.PROCESS_HEARTBEATS or _beating == os.getpid():
        return
    _beating = os.getpid()
    thread = threading.Thread(target=_beat_forever, args=(role, every), daemon=True, name="beat")
    thread.start()
    return thread


_beating = None


def _beat_forever(role, every):
    """Beat until the process ends (or PROCESS_HEARTBEATS is turned off: a test's)."""
    global _beating
    while True:
        time.sleep(0 if current() is None else every)
        if not settings.PROCESS_HEARTBEATS:
            _beating = None
            return
        try:
            if current() is None:
                register(role)
            else:
                beat()
        except DatabaseError:
            logger.warning("%s could not beat (database error); trying again", role)
        finally:
            connection.close()  # this thread's own; never held between beats
