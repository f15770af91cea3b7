"""The telephony worker's senders: replies handed to Twilio by a pool of threads.

Twilio takes a while to answer a send (a round trip to its API, 100-300 ms from most
servers; longer when it is slow), and a worker that waited for each answer in turn
would answer a few customers a second however fast the conversation is. So the
worker's main thread converses and keeps the database; a pool of
TELEPHONY_SEND_THREADS threads only waits for Twilio:

1. the main thread claims the replies (`outbox.claim_fresh`: `claimed`, one attempt more,
   one UPDATE for a batch) in the transaction that wrote them;
2. a sender thread calls the provider (`outbox.send_claimed`, which writes nothing), or,
   with a backend that can (twilio), a coroutine on the senders' event loop does
   (`outbox.send_claimed_async`: a third of the CPU a send, bench/README.md);
3. the main thread stores the outcomes (`outbox.record_outcomes`: the SIDs in one
   statement; a failure and its retry each), in the next batch's transaction or one of
   their own.

The customer's next text waits until step 3 stored the SID (`inbound._turn`), so
their replies still leave in the order of their texts. A worker that dies between 1 and
3 leaves the reply `claimed` without a SID; the next worker re-queues it as unclear as soon
as it sees the claimer dead (telephony/processes.py), and it is looked up at Twilio
before being sent again, as after any lost answer. A stalled send ties up
one thread, or one of the loop's TELEPHONY_SEND_THREADS places, not the other customers.
"""

import asyncio
import logging
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone

from .backends import UnclearProviderError, get_backend
from .outbox import (
    claim,
    claim_fresh,
    deliver,
    record_outcomes,
    send_claimed,
    send_claimed_async,
)

logger = logging.getLogger(__name__)


def _send(message):
    try:
        return send_claimed(message)
    except Exception as exc:  # a bug must not stop the worker: unclear, looked up, retried
        return _unexpected(message, exc)
    finally:
        close_old_connections()  # only an unclear message's lookup opens one here


async def _send_async(message, at_once):
    async with at_once:
        try:
            return await send_claimed_async(message)
        except Exception as exc:
            return _unexpected(message, exc)


def _unexpected(message, exc):
    logger.exception("Sending SMS %s failed unexpectedly", message.pk)
    return UnclearProviderError(f"unexpected error: {exc!r}"[:500])


class Senders:
    """Replies in flight to the provider. Used by one thread (the worker's main one)."""

    def __init__(self, threads=None):
        self.threads = threads or settings.TELEPHONY_SEND_THREADS
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="telephony-send")
        # A backend that can send from a coroutine (twilio) waits for its answers on one
        # event loop instead, at most `threads` at once; the pool then only looks up and
        # resends texts whose earlier attempt is unclear.
        self._loop = None
        if hasattr(get_backend(), "send_sms_async"):
            self._loop = asyncio.new_event_loop()
            self._at_once = asyncio.Semaphore(self.threads)
            self._loop_thread = threading.Thread(
                target=self._loop.run_forever, name="telephony-send-loop", daemon=True
            )
            self._loop_thread.start()
        self._in_flight = {}  # future -> (message, claimed at)
        self._finished = []  # (message, claimed at, outcome) not stored yet

    def start(self, message_ids):
        """Claim these queued texts (`outbox.claim`) and hand them to the sender threads."""
        for message_id in message_ids:
            self._submit(claim(message_id))

    def claim(self, replies):
        """Claim replies queued in the caller's transaction, in it (`outbox.claim_fresh`);
        `send` them once it has committed."""
        return claim_fresh(replies)

    def send(self, claimed):
        for message in claimed:
            self._submit(message)

    def _submit(self, message):
        if message is None:
            return
        started = timezone.now()
        if self._loop is not None and not message.unclear_since:
            coroutine = _send_async(message, self._at_once)
            future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        else:
            future = self._pool.submit(_send, message)
        self._in_flight[future] = (message, started)

    def gather(self, timeout=0):
        """Take in the sends that have finished, waiting up to `timeout` seconds for one."""
        if self._in_flight:
            done, _ = wait(list(self._in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                message, started = self._in_flight.pop(future)
                self._finished.append((message, started, future.result()))

    def store(self):
        """Record the finished sends' outcomes in the caller's transaction; call `stored`
        once it has committed (until then they are kept, to be stored again)."""
        return record_outcomes([(m, outcome, started) for m, started, outcome in self._finished])

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
    """The same interface, sending each reply at once in the caller's thread
    (`manage.py telephony_worker --once`, tests that want one step at a time)."""

    busy = False

    def start(self, message_ids):
        for message_id in message_ids:
            deliver(message_id)

    def claim(self, replies):
        return list(replies)  # `deliver` claims each

    def send(self, replies):
        self.start(reply.pk for reply in replies)

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
