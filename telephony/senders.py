"""The telephony worker's senders: replies handed to Twilio by a pool of threads.

Twilio takes a while to answer a send (a round trip to its API, 100-300 ms from most
servers; longer when it is slow), and a worker that waited for each answer in turn
would answer a few customers a second however fast the conversation is. So the
worker's main thread converses and keeps the database; a pool of
TELEPHONY_SEND_THREADS threads only waits for Twilio:

1. the main thread claims each reply (`outbox.claim`: `sending`, one attempt more) in a
   transaction of its own, right after the transaction that wrote it committed;
2. a sender thread calls the provider (`outbox.send_claimed`, which writes nothing);
3. the main thread stores the outcome (`outbox.record_outcome`: the SID, or the failure
   and its retry), several at a time in one transaction.

The customer's next text waits until step 3 stored the SID (`inbound._reply_pending`), so
their replies still leave in the order of their texts. A worker that dies between 1 and
3 leaves the reply `sending` without a SID, which the sweep re-queues as unclear
(`outbox.requeue_due_messages`): it is looked up at Twilio before being sent again, as
after any lost answer. A stalled send ties up one thread, not the other customers.
"""

import logging
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone

from .outbox import claim, deliver, record_outcome, send_claimed

logger = logging.getLogger(__name__)


def _send(message):
    try:
        return send_claimed(message)
    finally:
        close_old_connections()  # only an unclear message's lookup opens one here


class Senders:
    """Replies in flight to the provider. Used by one thread (the worker's main one)."""

    def __init__(self, threads=None):
        self.threads = threads or settings.TELEPHONY_SEND_THREADS
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="telephony-send")
        self._in_flight = {}  # future -> (message, claimed at)
        self._finished = []  # (message, claimed at, outcome) not stored yet

    def start(self, message_ids):
        """Claim these queued replies and hand them to the sender threads."""
        for message_id in message_ids:
            started = timezone.now()
            message = claim(message_id)
            if message is not None:
                self._in_flight[self._pool.submit(_send, message)] = (message, started)

    def collect(self, timeout=0):
        """Store the outcome of every send that has finished, waiting up to `timeout`
        seconds for the first one. Returns how many were stored."""
        if self._in_flight:
            done, _ = wait(list(self._in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                message, started = self._in_flight.pop(future)
                self._finished.append((message, started, future.result()))
        if not self._finished:
            return 0
        try:
            with transaction.atomic():
                for message, started, outcome in self._finished:
                    record_outcome(message, outcome, started)
        except DatabaseError:
            logger.exception("Could not store %s send outcome(s); will retry", len(self._finished))
            close_old_connections()
            return 0
        stored, self._finished = len(self._finished), []
        return stored

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


class InlineSenders:
    """The same interface, sending each reply at once in the caller's thread
    (`manage.py telephony_worker --once`, tests that want one step at a time)."""

    busy = False

    def start(self, message_ids):
        for message_id in message_ids:
            deliver(message_id)

    def collect(self, timeout=0):
        return 0

    def close(self):
        pass
