"""The outbox's one consumer (telephony/outbox.py): what the telephony worker, the tests, the
phone simulator and `simulate_sms` all use to hand texts and voice requests to the provider.

`send_due` claims the due rows of each outbox and hands them to senders; the worker also
hands over the replies it has just written (claimed in the transaction that wrote them:
`TEXTS.claim_fresh`). Senders come in two kinds with one interface:

- `Senders` (the worker): Twilio takes a while to answer (a round trip to its API,
  100-300 ms from most servers; longer when it is slow), and a worker that waited for each
  answer in turn would answer a few customers a second. So the worker's main thread
  converses and keeps the database, and the sends wait elsewhere: texts on one event loop
  through the SDK's asynchronous client (a third of the CPU of a thread each:
  bench/README.md), at most TELEPHONY_SEND_THREADS at once; what has no asynchronous
  send (voice requests, a text whose earlier attempt is unclear and is looked up first,
  a backend without one) in a pool of as many threads. The outcomes are stored by the
  main thread (`Outbox.record`: the SIDs of a batch in one statement), in the next
  batch's transaction or one of their own.
- `InlineSenders`: each send made and stored at once in the caller's thread
  (`telephony_worker --once`, the tests).

A customer's next text waits until the SID of the reply before it is stored
(`inbound._turn`), so their replies leave in the order of their texts. A worker that dies
between claim and store leaves rows `claimed`; the next worker takes them back as soon as
it sees the claimer dead (`take_back`), unclear, so each is looked up at Twilio before it
is sent again. A stalled send ties up one place, not the other customers.
"""

import asyncio
import logging
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone

from . import processes
from .backends import UnclearProviderError, get_backend
from .sms import TEXTS
from .voice import REQUESTS

logger = logging.getLogger(__name__)

OUTBOXES = (TEXTS, REQUESTS)


def send_due(senders, limit=50):
    """Claim what is due in each outbox (up to `limit` rows each) and hand it to `senders`.
    Returns how many rows were handed over."""
    count = 0
    for outbox in OUTBOXES:
        claimed = outbox.claim_due(limit)
        senders.send(outbox, claimed)
        count += len(claimed)
    return count


def next_due_in(now=None):
    """Seconds until the next held row falls due (a retry, a paced text), or None."""
    now = now or timezone.now()
    times = [at for at in (outbox.next_due_at() for outbox in OUTBOXES) if at]
    return max((min(times) - now).total_seconds(), 0) if times else None


def take_back(now=None):
    """Put back in the queue, unclear, the rows dead processes had claimed (and forget those
    processes), and rows claimed longer than any send can take. Returns how many."""
    now = now or timezone.now()
    dead = processes.dead_processes(now)
    count = 0
    if dead:
        held = {}
        for outbox in OUTBOXES:
            for process, n in outbox.take_back_claims_of(dead, now).items():
                held[process] = held.get(process, 0) + n
        for process in dead:
            logger.warning(
                "%s (pid %s on %s) is gone; %s request(s) it was making will be looked up at "
                "Twilio and made if they never left",
                process.role, process.pid, process.host, held.get(process.pk, 0),
            )  # fmt: skip
        processes.forget(dead)
        count += sum(held.values())
    for outbox in OUTBOXES:
        count += outbox.take_back_stuck(now)
    return count


def _send(outbox, row):
    try:
        return outbox.send(row)
    except Exception as exc:  # a bug must not stop the worker: unclear, looked up, retried
        return _unexpected(outbox, row, exc)
    finally:
        close_old_connections()  # a look-up or a handler may have opened one here


async def _send_async(outbox, row, at_once):
    async with at_once:
        try:
            return await outbox.send_async(row)
        except Exception as exc:
            return _unexpected(outbox, row, exc)


def _unexpected(outbox, row, exc):
    logger.exception("%s failed unexpectedly", outbox.describe(row))
    return UnclearProviderError(f"unexpected error: {exc!r}"[:500])


class Senders:
    """Sends in flight to the provider. Used by one thread (the worker's main one)."""

    def __init__(self, threads=None):
        self.threads = threads or settings.TELEPHONY_SEND_THREADS
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="telephony-send")
        self._loop = None
        if hasattr(get_backend(), "send_sms_async"):
            self._loop = asyncio.new_event_loop()
            self._at_once = asyncio.Semaphore(self.threads)
            self._loop_thread = threading.Thread(
                target=self._loop.run_forever, name="telephony-send-loop", daemon=True
            )
            self._loop_thread.start()
        self._in_flight = {}  # future -> (outbox, row, claimed at)
        self._finished = []  # (outbox, row, outcome, claimed at) not stored yet

    def claim(self, replies):
        """Claim replies queued in the caller's transaction, in it (`TEXTS.claim_fresh`);
        `send` them once it has committed."""
        return TEXTS.claim_fresh(replies)

    def send(self, outbox, claimed):
        """Hand claimed rows of `outbox` to the provider."""
        for row in claimed:
            if self._loop is not None and outbox.send_async and not row.unclear_since:
                coroutine = _send_async(outbox, row, self._at_once)
                future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
            else:
                future = self._pool.submit(_send, outbox, row)
            self._in_flight[future] = (outbox, row, row.updated_at or timezone.now())

    def gather(self, timeout=0):
        """Take in the sends that have finished, waiting up to `timeout` seconds for one."""
        if self._in_flight:
            done, _ = wait(list(self._in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                outbox, row, started = self._in_flight.pop(future)
                self._finished.append((outbox, row, future.result(), started))

    def store(self):
        """Record the finished sends' outcomes in the caller's transaction; call `stored`
        once it has committed (until then they are kept, to be stored again)."""
        for outbox in OUTBOXES:
            mine = [(row, outcome, at) for o, row, outcome, at in self._finished if o is outbox]
            if mine:
                outbox.record(mine)
        return len(self._finished)

    def stored(self):
        self._finished = []

    def collect(self, timeout=0):
        """`gather`, then store the outcomes in a transaction of their own. Returns how
        many were stored."""
        self.gather(timeout)
        if not self._finished:
            return 0
        try:
            with transaction.atomic():
                count = self.store()
        except DatabaseError:
            logger.exception("Could not store %s send outcome(s); will retry", len(self._finished))
            close_old_connections()
            return 0
        self.stored()
        return count

    @property
    def busy(self):
        return bool(self._in_flight or self._finished)

    def close(self):
        """Wait for every send in flight and store its outcome."""
        for _ in range(120):  # a database that stays down: give up after about two minutes
            if not self.busy:
                break
            self.collect(timeout=1)
        self._pool.shutdown()
        if self._loop is not None:
            backend = get_backend()
            if hasattr(backend, "close_async"):
                try:
                    closing = asyncio.run_coroutine_threadsafe(backend.close_async(), self._loop)
                    closing.result(timeout=5)
                except Exception:
                    logger.exception("Could not close the connections to the provider")
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join(timeout=5)
            self._loop.close()


class InlineSenders:
    """The same interface, each send made and stored at once in the caller's thread."""

    busy = False

    def claim(self, replies):
        return TEXTS.claim_fresh(replies)

    def send(self, outbox, claimed):
        for row in claimed:
            outbox.record([(row, outbox.send(row), row.updated_at or timezone.now())])

    def gather(self, timeout=0):
        pass

    def store(self):
        return 0

    def stored(self):
        pass

    def collect(self, timeout=0):
        return 0

    def close(self):
        pass
