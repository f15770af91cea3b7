"""The outbox: every request to the provider is a row, written in the asker's transaction,
and made afterwards by its one consumer, the telephony worker (`send_due`, below).

Two kinds of row share it, each an `Outbox`: texts (telephony/sms.py: outbound Message
rows) and voice requests (telephony/voice.py: ProviderRequest rows: ring a phone, redirect
or end a call, configure a number). A kind says how to make one of its requests
(`call_provider`), how to find one that an earlier, unclear attempt may have made
(`find_earlier`), and how to store a success (`store_done`). The rest is this module, the
same for both:

1. **due**: `queued`, and its `next_attempt_at` (a retry's time, or a text held until then)
   unset or past. Fresh rows go first, then held ones by their time, so a promotion's
   texts (held, paced) never hold back an order's.
2. **claim**: `queued` -> `claimed` by this process (`claimed_by`), one attempt more, under
   row locks other workers skip.
3. **send**: the provider is called outside any transaction (`Outbox.send`, which writes
   nothing, so a sender thread may run it). A row whose earlier attempt is unclear (the
   answer was lost, or a worker died while sending) is first looked up at the provider
   and adopted if it was made, so it is never made twice.
4. **record**: the SID; or the failure: a transient one goes back to `queued` with a later
   `next_attempt_at` (exponential backoff) until SMS_MAX_ATTEMPTS, a permanent one is
   `failed` at once, an unclear one is marked so.

Claims a dead worker held go back to the queue, unclear (`take_back`: at once, for a
registered worker seen dead, telephony/processes.py; after SMS_STUCK_AFTER_SECONDS, for a
claim of no known process). Nothing else sends: no task, no second pipeline.

The consumer, `send_due`, claims the due rows of each kind and hands them to senders; the
worker also hands over the replies it has just written (claimed in the transaction that
wrote them: `Texts.claim_fresh`). Senders come in two kinds with one interface:

- `Senders` (the worker): Twilio takes a while to answer (a round trip to its API,
  100-300 ms from most servers; longer when it is slow), and a worker that waited for each
  answer in turn would answer a few customers a second. So the worker's main thread
  converses and keeps the database, and the sends wait on one event loop of their own,
  at most TELEPHONY_SEND_THREADS at once: texts through the SDK's asynchronous client (a
  third of the CPU of a thread each: bench/README.md); what has no asynchronous send
  (voice requests, a text whose earlier attempt is unclear and is looked up first, a
  backend without one) in the loop's threads (`asyncio.to_thread`). The outcomes are stored by the
  main thread (`Outbox.record`: the SIDs of a batch in one statement), in the next
  batch's transaction or one of their own.
- `InlineSenders`: each send made and stored at once in the caller's thread
  (`telephony_worker --once`, the tests).

A customer's next text waits until the SID of the reply before it is stored
(`inbound._turn`), so their replies leave in the order of their texts. A stalled send ties
up one place, not the other customers.
"""

import asyncio
import logging
import random
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.db.models import F, Min, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from . import processes
from .backends import (
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    UnclearProviderError,
    get_backend,
)

logger = logging.getLogger(__name__)

# The states every outbox row goes through (Message.Status, ProviderRequest.Status).
QUEUED, CLAIMED, FAILED = "queued", "claimed", "failed"
DONE = "done"  # the state of a made request (ProviderRequest, payments' StripeRequest)
# The kinds of outbox row (telephony/sms.py, telephony/voice.py): each registers itself when
# it is made, and TelephonyConfig.ready imports both.
KINDS = []


def public_url(path):
    """Absolute URL of one of our webhooks under PUBLIC_BASE_URL, or None when it is not set."""
    base = settings.PUBLIC_BASE_URL
    return f"{base}{path}" if base else None


def callback_url(name, *args):
    return public_url(reverse(name, args=args))


def retry_delay(attempt):
    """Exponential backoff with jitter: base, 2x base, 4x base... (seconds)."""
    base = settings.SMS_RETRY_BASE_SECONDS * (2 ** (attempt - 1))
    return timedelta(seconds=base * random.uniform(1.0, 1.25))


def written(row):
    """Tell the consumer a row was queued. Tests (settings.TELEPHONY_SEND_AT_COMMIT) run the
    consumer in the asker's thread once its transaction commits, as Django's
    ImmediateBackend runs tasks; elsewhere the telephony worker is woken by the commit
    (PostgreSQL: the trigger of migration 0011) or finds the row at its next poll."""
    if settings.TELEPHONY_SEND_AT_COMMIT:
        transaction.on_commit(lambda: send_due(InlineSenders()))
    return row


class Outbox:
    """One kind of outbox row. Subclasses set `model` and `what` (for logs) and define
    `pending`, `call_provider`, `find_earlier` and `store_done`."""

    model = None
    what = "request"

    def sends_async(self, row):
        """Whether `row` is sent with `send_async` (a coroutine) rather than `send`."""
        return False

    async def send_async(self, row):
        raise NotImplementedError

    def __init__(self):
        KINDS.append(self)

    def pending(self):
        """The rows not yet made: queued, or claimed by a worker."""
        raise NotImplementedError

    def call_provider(self, row):
        """Make the request at the provider; its result, or a ProviderError raised."""
        raise NotImplementedError

    def find_earlier(self, row):
        """The provider's copy of `row`, if an earlier, unclear attempt made it, else None."""
        raise NotImplementedError

    def store_done(self, done):
        """Store the results of the requests made: (row, result) pairs."""
        raise NotImplementedError

    def refusal(self, row):
        """Why `row` may no longer be sent (checked when it is claimed), or None."""
        return None

    def refused_for_good(self, row, exc):
        """The provider refused `row` for good (PermanentProviderError `exc`)."""

    def failed_for_good(self, row):
        """`row` is failed and will not be tried again."""

    def describe(self, row):
        return f"{self.what} {row.pk}"

    # --- what is due ----------------------------------------------------------

    def due(self, now=None):
        now = now or timezone.now()
        return self.pending().filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), status=QUEUED
        )

    def next_due_at(self):
        """When the next held row falls due (a retry, a paced text), or None."""
        held = self.pending().filter(status=QUEUED, next_attempt_at__isnull=False)
        return held.aggregate(at=Min("next_attempt_at"))["at"]

    # --- claim, send, record --------------------------------------------------

    def claim_due(self, limit=50, now=None):
        """Claim up to `limit` due rows, fresh ones first, then held ones by their time.
        Returns them. Reads without a transaction first: nothing due takes no lock (on
        SQLite the one write lock, which the webhook needs)."""
        now = now or timezone.now()
        order = (F("next_attempt_at").asc(nulls_first=True), "pk")
        ids = list(self.due(now).order_by(*order).values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        return self._claim(self.due(now).filter(pk__in=ids).order_by(*order), now)

    def claim(self, pk, now=None):
        """Claim row `pk` if it is due; None if it is not ours to send."""
        claimed = self._claim(self.due(now).filter(pk=pk), now or timezone.now())
        return claimed[0] if claimed else None

    def _claim(self, rows, now):
        with transaction.atomic():
            rows = list(rows.select_for_update(skip_locked=True))
            refused = [(row, self.refusal(row)) for row in rows]
            for row, reason in refused:
                if reason:
                    self.model.objects.filter(pk=row.pk).update(
                        status=FAILED, error_message=reason[:500], updated_at=now
                    )
                    row.status = FAILED
                    self.failed_for_good(row)
            claimed = [row for row, reason in refused if not reason]
            if claimed:
                self.model.objects.filter(pk__in=[row.pk for row in claimed]).update(
                    status=CLAIMED,
                    claimed_by=processes.current(),
                    attempts=F("attempts") + 1,
                    updated_at=now,
                )
        for row in claimed:
            row.status, row.attempts = CLAIMED, row.attempts + 1
            row.claimed_by_id, row.updated_at = processes.current(), now
        return claimed

    def send(self, row):
        """Make `row`'s request at the provider, outside any transaction. Returns the
        provider's result, or the ProviderError it raised, for `record`. Writes nothing, so
        any thread may run it; it reads the database only for a row whose earlier attempt
        is unclear (`find_earlier`)."""
        if row.unclear_since:
            try:
                found = self.find_earlier(row)
            except ProviderError as exc:  # the look-up failed: try again later, whatever it was
                return TransientProviderError(exc.message, code=exc.code, status=exc.status)
            if found:
                logger.warning(
                    "%s was made by an earlier attempt (%s); not making it again",
                    self.describe(row), found.sid,
                )  # fmt: skip
                return found
        try:
            return self.call_provider(row)
        except ProviderError as exc:
            return exc

    def send_one(self, pk):
        """Claim, send and record row `pk` in this thread (a command, a test). Returns the
        SID, or None when it was not sent (not due, or it failed)."""
        started = timezone.now()
        row = self.claim(pk, started)
        if row is None:
            return None
        outcome = self.send(row)
        self.record([(row, outcome, started)])
        return None if isinstance(outcome, ProviderError) else outcome.sid

    def record(self, finished):
        """Store what `send` returned: (row, outcome, claimed at) for each."""
        done = []
        for row, outcome, started in finished:
            if isinstance(outcome, ProviderError):
                self._failed(row, outcome, started)
            else:
                done.append((row, outcome))
        if done:
            self.store_done(done)

    def _failed(self, row, exc, started):
        retry = row.attempts < settings.SMS_MAX_ATTEMPTS
        if isinstance(exc, UnclearProviderError):
            row.unclear_since = row.unclear_since or started
        elif isinstance(exc, PermanentProviderError):
            retry = False
            self.refused_for_good(row, exc)
        now = timezone.now()
        fields = {
            "error_code": exc.code,
            "error_message": str(exc.message)[:500],
            "unclear_since": row.unclear_since,
            "claimed_by": None,
            "updated_at": now,
        }
        if retry:
            due = now + retry_delay(row.attempts)
            self.model.objects.filter(pk=row.pk).update(
                status=QUEUED, next_attempt_at=due, **fields
            )
            logger.warning(
                "%s failed (attempt %s, %s); retrying at %s",
                self.describe(row), row.attempts, exc.message, due.isoformat(),
            )  # fmt: skip
            return
        self.model.objects.filter(pk=row.pk).update(status=FAILED, **fields, **self.ended(now))
        logger.error(
            "%s failed for good after %s attempt(s): %s (code %s)",
            self.describe(row), row.attempts, exc.message, exc.code,
        )  # fmt: skip
        self.failed_for_good(row)

    def ended(self, now):
        """Fields set when a row is finished, for kinds that keep the time."""
        return {}

    # --- claims a dead worker left ---------------------------------------------

    def take_back_claims_of(self, dead, now=None):
        """Put the rows these dead processes (telephony.processes.dead_processes) had
        claimed back in the queue at once, unclear. Returns {process id: how many}."""
        claims = self.pending().filter(status=CLAIMED, claimed_by__in=dead)
        held = list(claims.values_list("pk", "claimed_by"))
        _back_in_queue(claims.filter(pk__in=[pk for pk, _ in held]), now or timezone.now())
        counts = {}
        for _, process in held:
            counts[process] = counts.get(process, 0) + 1
        return counts

    def take_back_stuck(self, now=None, limit=1000):
        """Put back in the queue the rows left `claimed` for longer than any send can take
        (SMS_STUCK_AFTER_SECONDS): claimed by a process nobody knows (its row forgotten)
        or one that never registered. Returns how many."""
        now = now or timezone.now()
        since = now - timedelta(seconds=settings.SMS_STUCK_AFTER_SECONDS)
        stuck = self.pending().filter(status=CLAIMED, updated_at__lte=since)
        ids = list(stuck.values_list("pk", flat=True)[:limit])
        return _back_in_queue(stuck.filter(pk__in=ids), now)


class Asked(Outbox):
    """A kind whose rows someone asked for and is told how each ended (voice requests,
    Stripe's): its rows keep `finished_at` and `handled_at`. Subclasses define `finished`
    (the telling) and `done_fields` (what a made row keeps)."""

    def finished(self, row):
        """Tell the asker how `row` (done or failed) ended."""
        raise NotImplementedError

    def done_fields(self, result):
        """What a made row keeps of the provider's `result` (its id...)."""
        raise NotImplementedError

    def store_done(self, done):
        for row, result in done:
            now = timezone.now()
            self.model.objects.filter(pk=row.pk).update(
                status=DONE, error_code=None, error_message="", unclear_since=None,
                claimed_by=None, finished_at=now, updated_at=now, **self.done_fields(result),
            )  # fmt: skip
            self.tell_safely(row.pk)

    def ended(self, now):
        return {"finished_at": now}

    def failed_for_good(self, row):
        self.tell_safely(row.pk)

    def tell(self, pk):
        """Run `finished` on a finished row, once: the row is claimed (handled_at) in the same
        transaction as what the asker changes, so if that fails all of it rolls back and
        `tell_untold` tries again. Returns whether it was told now."""
        with transaction.atomic():
            claimed = self.model.objects.filter(
                pk=pk, status__in=[DONE, FAILED], handled_at__isnull=True
            ).update(handled_at=timezone.now())
            if claimed:
                self.finished(self.model.objects.get(pk=pk))
        return bool(claimed)

    def tell_safely(self, pk):
        """`tell`, from the worker, which stores outcomes in the transaction it answers texts
        in: an asker that fails rolls back its own savepoint only, is logged, and is told
        again by `tell_untold`; it never holds back the customers' texts."""
        try:
            self.tell(pk)
        except Exception:
            logger.exception(
                "Telling the asker about %s failed; the sweep will", self.describe_pk(pk)
            )

    def describe_pk(self, pk):
        return f"{self.what} {pk}"

    def tell_untold(self, now=None):
        """For a sweep: tell askers what a failed handler left untold, a while after the row
        finished (SMS_STUCK_AFTER_SECONDS). Returns how many were told."""
        now = now or timezone.now()
        since = now - timedelta(seconds=settings.SMS_STUCK_AFTER_SECONDS)
        untold = self.model.objects.filter(
            status__in=[DONE, FAILED], handled_at__isnull=True, finished_at__lte=since
        ).values_list("pk", flat=True)[:1000]
        told = 0
        for pk in list(untold):
            try:
                told += self.tell(pk)
            except Exception:
                logger.exception(
                    "Telling the asker about %s failed; next sweep", self.describe_pk(pk)
                )
        return told


def _back_in_queue(rows, now):
    """Put claimed outbox `rows` back in the queue, unclear since their claim (its
    `updated_at`), so each is looked up at the provider before it is made again."""
    return rows.update(
        status=QUEUED,
        next_attempt_at=None,
        unclear_since=Coalesce("unclear_since", "updated_at"),
        claimed_by=None,
        updated_at=now,
    )


# --- the consumer ----------------------------------------------------------------


def send_due(senders, limit=50):
    """Claim what is due in each kind of row (up to `limit` rows each) and hand it to `senders`.
    Returns how many rows were handed over."""
    count = 0
    for kind in KINDS:
        claimed = kind.claim_due(limit)
        senders.send(kind, claimed)
        count += len(claimed)
    return count


def next_due_in(now=None):
    """Seconds until the next held row falls due (a retry, a paced text), or None."""
    now = now or timezone.now()
    times = [at for at in (kind.next_due_at() for kind in KINDS) if at]
    return max((min(times) - now).total_seconds(), 0) if times else None


def take_back(now=None):
    """Put back in the queue, unclear, the rows dead processes had claimed (and forget those
    processes), and rows claimed longer than any send can take. Returns how many."""
    now = now or timezone.now()
    dead = processes.dead_processes(now)
    count = 0
    if dead:
        held = {}
        for kind in KINDS:
            for process, n in kind.take_back_claims_of(dead, now).items():
                held[process] = held.get(process, 0) + n
        for process in dead:
            if process.role not in processes.CLAIMING and not held.get(process.pk):
                continue  # a dead task worker or web process: /readyz and the board say so
            logger.warning(
                "%s (pid %s on %s) is gone; %s request(s) it was making will be looked up at "
                "Twilio and made if they never left",
                process.role, process.pid, process.host, held.get(process.pk, 0),
            )  # fmt: skip
        processes.forget(dead)
        count += sum(held.values())
    for kind in KINDS:
        count += kind.take_back_stuck(now)
    return count


def _send_blocking(kind, row):
    try:
        return kind.send(row)
    finally:
        close_old_connections()  # a look-up or a handler may have opened one here


async def _send(kind, row, at_once):
    """Make one send on the senders' event loop, at most `at_once` at a time: awaited
    through the SDK's asynchronous client where the kind and the backend offer it, else in
    the loop's pool of threads (voice requests, a look-up first, a backend without one)."""
    async with at_once:
        try:
            if kind.sends_async(row):
                return await kind.send_async(row)
            return await asyncio.to_thread(_send_blocking, kind, row)
        except Exception as exc:  # a bug must not stop the worker: unclear, looked up, retried
            logger.exception("%s failed unexpectedly", kind.describe(row))
            return UnclearProviderError(f"unexpected error: {exc!r}"[:500])


class Senders:
    """Sends in flight to the provider, on one event loop of their own (a thread), at most
    TELEPHONY_SEND_THREADS at once. Used by one thread (the worker's main one)."""

    def __init__(self, threads=None):
        self.threads = threads or settings.TELEPHONY_SEND_THREADS
        self._loop = asyncio.new_event_loop()
        self._loop.set_default_executor(
            ThreadPoolExecutor(self.threads, thread_name_prefix="telephony-send")
        )
        self._at_once = asyncio.Semaphore(self.threads)
        self._loop_thread = threading.Thread(
            target=self._loop.run_forever, name="telephony-send-loop", daemon=True
        )
        self._loop_thread.start()
        self._in_flight = {}  # future -> (kind, row, claimed at)
        self._finished = []  # (kind, row, outcome, claimed at) not stored yet

    def send(self, kind, claimed):
        """Hand claimed rows of `kind` to the provider."""
        for row in claimed:
            coroutine = _send(kind, row, self._at_once)
            future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
            self._in_flight[future] = (kind, row, row.updated_at or timezone.now())

    def gather(self, timeout=0):
        """Take in the sends that have finished, waiting up to `timeout` seconds for one."""
        if self._in_flight:
            done, _ = wait(list(self._in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                kind, row, started = self._in_flight.pop(future)
                self._finished.append((kind, row, future.result(), started))

    def store(self):
        """Record the finished sends' outcomes in the caller's transaction; call `stored`
        once it has committed (until then they are kept, to be stored again)."""
        for kind in KINDS:
            mine = [(row, outcome, at) for o, row, outcome, at in self._finished if o is kind]
            if mine:
                kind.record(mine)
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
        backend = get_backend()
        if hasattr(backend, "close_async"):
            self._run(backend.close_async(), "close the connections to the provider")
        self._run(self._loop.shutdown_default_executor(), "stop the sender threads")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join(timeout=5)
        self._loop.close()

    def _run(self, coroutine, what):
        try:
            asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=5)
        except Exception:
            logger.exception("Could not %s", what)


class InlineSenders:
    """The same interface, each send made and stored at once in the caller's thread."""

    busy = False

    def send(self, kind, claimed):
        for row in claimed:
            kind.record([(row, kind.send(row), row.updated_at or timezone.now())])

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
