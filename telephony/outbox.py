"""Everything that goes to the provider: texts (send_sms) and voice requests (queue_call...)
written in the caller's transaction, performed by workers with retries, and the sweeps that
re-queue what no task will send."""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from . import handlers, processes, sql
from .backends import (
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    UnclearProviderError,
    get_backend,
)
from .models import Message, ProviderRequest, about_fields
from .numbers import to_e164
from .reach import (
    UNSUBSCRIBED,
    on_channel,
    opt_out,
    reason_not_to_call,
    reason_not_to_text,
    split_channel,
)
from .segments import count_segments

logger = logging.getLogger(__name__)

MAX_BODY = 1600
Status = Message.Status
Channel = Message.Channel


def public_url(path):
    """Absolute URL of one of our webhooks under PUBLIC_BASE_URL, or None when it is not set."""
    base = settings.PUBLIC_BASE_URL
    return f"{base}{path}" if base else None


def callback_url(name, *args):
    return public_url(reverse(name, args=args))


# --- sending -------------------------------------------------------------------


def send_sms(
    to,
    body,
    media_urls=(),
    about=None,
    *,
    in_reply_to=None,
    from_=None,
    channel=Channel.SMS,
    priority=None,
    send_after=None,
    checked=False,
    delivered_by_caller=False,
):
    """Queue a text (SMS, or MMS with media; on WhatsApp with channel="whatsapp") to `to`.
    Returns the Message row.

    `to` is a number (`whatsapp:+1...` also means WhatsApp); `from_` defaults to the
    shop's number on the channel: TWILIO_PHONE_NUMBER, or TWILIO_WHATSAPP_NUMBER (falling
    back to the former). Both are stored plain; `deliver` adds the prefix Twilio wants.

    The row is written as `queued` in the caller's transaction, and the send task
    exists only if that transaction commits (enqueue_with_transaction), so nobody
    is texted about a change that rolled back. A number that may not be texted gets a `failed`
    row saying why, and no provider call. `priority` is the delivery task's (below 0 goes
    after order texts: promotions); `send_after` holds the text until then (pacing).
    `checked`: the caller has just found `to` textable (`reason_not_to_text`) in this
    transaction, so it is not asked again (the telephony worker's replies).
    `delivered_by_caller`: no delivery task; the caller hands the row to its senders
    once its transaction commits (the telephony worker's replies: inbound.answer_pending).
    """
    prefixed, plain = split_channel(str(to))
    if prefixed == Channel.WHATSAPP:
        channel = Channel.WHATSAPP
    number = to_e164(plain)
    body = (body or "")[:MAX_BODY]
    if not from_ and channel == Channel.WHATSAPP:
        from_ = settings.TWILIO_WHATSAPP_NUMBER
    message = Message(
        direction=Message.Direction.OUTBOUND,
        channel=channel,
        from_number=from_ or settings.TWILIO_PHONE_NUMBER,
        to_number=number or str(to)[:32],
        in_reply_to=in_reply_to,
        body=body,
        media_urls=list(media_urls),
        status=Status.QUEUED,
        num_segments=count_segments(body) or 1,
        next_attempt_at=send_after,
        **about_fields(about),
    )
    reason = None if checked else reason_not_to_text(number)
    if reason:
        message.status = Status.FAILED
        message.error_message = reason
        message.save()
        logger.info("Not texting %s: %s", message.to_number, reason)
        return message
    sql.insert(message)  # message.save(), a statement the worker runs for every reply
    if not delivered_by_caller:
        enqueue_with_transaction(enqueue_delivery, message.pk, send_after, priority)
    return message


def enqueue_with_transaction(enqueue, *args):
    """Arrange for `enqueue(*args)` so the task exists only if the current transaction commits.

    With the database task backend (settings.TASKS_ENQUEUE_IN_TRANSACTION) the task
    row is written right away, inside our transaction: it commits or rolls back with
    the rows it is about, and costs no second write transaction. Any other backend
    (Redis, the test runner's) is handed the task after commit.
    """
    if settings.TASKS_ENQUEUE_IN_TRANSACTION and transaction.get_connection().in_atomic_block:
        enqueue(*args)
    else:
        transaction.on_commit(lambda: enqueue(*args))


def _enqueue(task, row_id, run_after=None, priority=None):
    """Enqueue the task that sends outbox row `row_id`. A backend that cannot defer gets no
    task for a later time: the worker's sweep (requeue_due_messages, requeue_due_requests)
    enqueues the row when it is due."""
    if priority is not None and task.get_backend().supports_priority:
        task = task.using(priority=priority)
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=run_after)
    enqueue_or_leave_to_sweep(task, row_id)


_queue_down = False  # whether the last enqueue failed (logged once, until one succeeds)


def enqueue_or_leave_to_sweep(task, *args):
    """`task.enqueue(*args)`; True if it was enqueued. When the task backend cannot take it
    (Redis stopped, say), the work is not lost: its row is still queued, and the sweep that
    finds due rows (requeue_due_messages, requeue_due_requests, sweep_campaigns) enqueues
    it again, while the telephony worker sends fresh texts without a task at all. So an
    action that committed never turns into an error page for it. Logged once when the
    queue goes down and once when it is back, not at every text."""
    global _queue_down
    try:
        task.enqueue(*args)
    except Exception as exc:
        if not _queue_down:
            logger.error(
                "The task queue refused %s (%s: %s); the outbox's sweep will enqueue it again. "
                "Not logged again until the queue takes a task.",
                task.name, type(exc).__name__, exc,
            )  # fmt: skip
        _queue_down = True
        return False
    if _queue_down:
        logger.warning("The task queue takes tasks again")
        _queue_down = False
    return True


def enqueue_delivery(message_id, run_after=None, priority=None):
    from .tasks import deliver_message

    _enqueue(deliver_message, message_id, run_after, priority)


def claim(message_id):
    """Mark a queued message `claimed` by this process under a row lock; None if it is not
    ours to send."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.sid or message.status != Status.QUEUED:
            return None
        if message.next_attempt_at and message.next_attempt_at > timezone.now():
            return None
        reason = reason_not_to_text(message.to_number)
        if reason:
            message.status, message.error_message = Status.FAILED, reason
            message.save(update_fields=["status", "error_message", "updated_at"])
            return None
        message.status = Status.CLAIMED
        message.claimed_by_id = processes.current()
        message.attempts += 1
        message.save(update_fields=["status", "claimed_by", "attempts", "updated_at"])
        return message


def claim_fresh(messages):
    """Claim replies the caller has just queued, and found textable, in the transaction
    that wrote them or after: one conditional UPDATE for all of them, no row lock or
    opt-out lookup (`claim` does both, for rows queued long ago). Returns the claimed
    messages: all of them, unless another worker took some (`deliver_stranded_replies`)."""
    messages = {m.pk: m for m in messages}
    if not messages:
        return []
    now = timezone.now()
    count = sql.claim_queued(
        Message,
        list(messages),
        now,
        queued=Status.QUEUED.value,
        claimed=Status.CLAIMED.value,
        claimed_by=processes.current(),
    )
    ours = set(messages)
    if count < len(messages):  # rare: tell ours from the rows another worker claimed
        ours = set(
            Message.objects.filter(
                pk__in=messages, status=Status.CLAIMED, updated_at=now
            ).values_list("pk", flat=True)
        )
    for pk in ours:
        messages[pk].status, messages[pk].attempts = Status.CLAIMED, messages[pk].attempts + 1
    return [m for pk, m in messages.items() if pk in ours]


def retry_delay(attempt):
    """Exponential backoff with jitter: base, 2x base, 4x base... (seconds)."""
    base = settings.SMS_RETRY_BASE_SECONDS * (2 ** (attempt - 1))
    return timedelta(seconds=base * random.uniform(1.0, 1.25))


def deliver(message_id):
    """Send one queued message through the backend. Safe to run twice for one row.

    The provider is called outside any transaction. Transient failures go back
    to `queued` with a later `next_attempt_at` until SMS_MAX_ATTEMPTS, then
    `failed`; permanent ones are `failed` at once (21610 also records an opt-out).
    After an unclear outcome (the answer was lost, or a worker died while sending)
    the message is first looked up at the provider, and adopted if it was sent.
    The three steps are `claim`, `send_claimed` and `record_outcome`; the telephony
    worker runs the middle one in a pool of threads (telephony/senders.py).
    """
    started = timezone.now()
    message = claim(message_id)
    if message is None:
        return None
    return record_outcome(message, send_claimed(message), started)


def send_claimed(message):
    """Hand a claimed message to the provider, outside any transaction. Returns the
    provider's result, or the ProviderError it raised, for `record_outcome`.

    Writes nothing, so any thread may run it; it reads the database only for a message
    an earlier attempt of which is unclear (`_find_sent`)."""
    service_sid = settings.TWILIO_MESSAGING_SERVICE_SID
    if message.unclear_since:
        try:
            found = _find_sent(message, service_sid)
        except ProviderError as exc:  # the lookup failed: try again later, whatever it was
            return TransientProviderError(exc.message, code=exc.code, status=exc.status)
        if found:
            logger.warning(
                "SMS %s was sent by an earlier attempt (%s); not sending it again",
                message.pk, found.sid,
            )  # fmt: skip
            return found
    try:
        return get_backend().send_sms(**_sms_request(message, service_sid))
    except ProviderError as exc:
        return exc


async def send_claimed_async(message):
    """`send_claimed` from a coroutine, for a backend that offers `send_sms_async` and a
    message with no unclear attempt before (that one is looked up first: `send_claimed`).
    Reads and writes nothing in the database."""
    try:
        request = _sms_request(message, settings.TWILIO_MESSAGING_SERVICE_SID)
        return await get_backend().send_sms_async(**request)
    except ProviderError as exc:
        return exc


def _sms_request(message, service_sid):
    return {
        "to": on_channel(message.to_number, message.channel),
        "body": message.body,
        "from_": None if service_sid else on_channel(message.from_number, message.channel),
        "messaging_service_sid": service_sid or None,
        "media_urls": tuple(message.media_urls),
        "status_callback": callback_url("telephony:sms-status"),
    }


def record_outcome(message, outcome, started):
    """Store what `send_claimed` returned for `message`, claimed at `started`: the SID, or
    the failure and its retry. Returns the SID, or None."""
    retry = message.attempts < settings.SMS_MAX_ATTEMPTS
    if isinstance(outcome, UnclearProviderError):
        message.unclear_since = message.unclear_since or started
        return _record_failure(message, outcome, retry=retry)
    if isinstance(outcome, TransientProviderError):
        return _record_failure(message, outcome, retry=retry)
    if isinstance(outcome, PermanentProviderError):
        if outcome.code == UNSUBSCRIBED:
            opt_out(message.to_number, keyword="21610")
        return _record_failure(message, outcome, retry=False)
    if isinstance(outcome, ProviderError):  # neither kind: treated as transient
        return _record_failure(message, outcome, retry=retry)
    return _record_sent(message, outcome)


def _find_sent(message, service_sid):
    """The provider's copy of `message`, if an earlier attempt sent it, else None.

    Texts to the same number since the unclear attempt, with the same body (Twilio's
    trial accounts put a prefix before it), not already in our log under another row.
    """
    candidates = get_backend().find_messages(
        to=on_channel(message.to_number, message.channel),
        from_=None if service_sid else on_channel(message.from_number, message.channel),
        sent_after=message.unclear_since,
    )
    matching = [c for c in candidates if c.body and c.body.endswith(message.body)]
    known = set(
        Message.objects.filter(sid__in=[c.sid for c in matching]).values_list("sid", flat=True)
    )
    unknown = [c for c in matching if c.sid not in known]
    return unknown[-1] if unknown else None  # newest first: the earliest attempt


def record_outcomes(finished):
    """`record_outcome` for several sends, (message, outcome, started) each: the SIDs of
    those that were sent stored in one statement (the telephony worker's senders store
    every reply's). Returns how many were stored."""
    sent = {}
    for message, outcome, started in finished:
        if isinstance(outcome, ProviderError):
            record_outcome(message, outcome, started)
        else:
            fields = _sent_fields(outcome)
            sent.setdefault(tuple(fields), []).append((message.pk, fields))
    for rows in sent.values():
        sql.update(Message, rows)
    return len(finished)


def _record_sent(message, result):
    sql.update(Message, [(message.pk, _sent_fields(result))])
    return result.sid


def _sent_fields(result):
    # A status callback may not have arrived yet (it needs the SID we are storing now).
    now = timezone.now()
    status = result.status if result.status in Status.values else Status.SENT
    fields = {
        "status": Status.SENT if status == Status.CLAIMED else status,
        "updated_at": now,
        "claimed_by": None,
        "sid": result.sid,
        "sent_at": now,
        "error_code": None,
        "error_message": "",
        "unclear_since": None,
    }
    if result.num_segments:
        fields["num_segments"] = result.num_segments
    return fields


def _record_failure(message, exc, *, retry):
    now = timezone.now()
    fields = {
        "error_code": exc.code,
        "error_message": str(exc.message)[:500],
        "updated_at": now,
        "unclear_since": message.unclear_since,
        "claimed_by": None,
    }
    if retry:
        due = now + retry_delay(message.attempts)
        Message.objects.filter(pk=message.pk).update(
            status=Status.QUEUED, next_attempt_at=due, **fields
        )
        logger.warning(
            "SMS %s to %s failed (attempt %s, %s); retrying at %s",
            message.pk, message.to_number, message.attempts, exc.message, due.isoformat(),
        )  # fmt: skip
        enqueue_delivery(message.pk, run_after=due)
    else:
        Message.objects.filter(pk=message.pk).update(status=Status.FAILED, **fields)
        logger.error(
            "SMS %s to %s failed for good after %s attempt(s): %s (code %s)",
            message.pk, message.to_number, message.attempts, exc.message, exc.code,
        )  # fmt: skip
    return None


def _back_in_queue(rows, queued, now, **fields):
    """Put claimed outbox `rows` back in the queue, unclear since their claim (its
    `updated_at`), so each is looked up at the provider before it is sent again."""
    return rows.update(
        status=queued,
        next_attempt_at=None,
        unclear_since=Coalesce("unclear_since", "updated_at"),
        updated_at=now,
        **fields,
    )


def _requeue_stuck(rows, queued, claimed, stuck_since, now, limit=1000):
    """Put back in the queue the outbox `rows` (texts or voice requests) a dead worker
    left `claimed` since before `stuck_since`. Returns their ids."""
    stuck = rows.filter(status=claimed, updated_at__lte=stuck_since)
    ids = list(stuck.values_list("pk", flat=True)[:limit])
    _back_in_queue(rows.filter(pk__in=ids, status=claimed), queued, now)
    return ids


def requeue_claims_of(dead, now=None):
    """Put the texts these dead processes (telephony.processes.dead_processes) had claimed
    back in the queue at once, unclear. Returns their ids: the caller sends them."""
    now = now or timezone.now()
    claims = Message.objects.filter(status=Status.CLAIMED, sid__isnull=True, claimed_by__in=dead)
    held = list(claims.values_list("pk", "claimed_by"))
    ids = [pk for pk, _ in held]
    _back_in_queue(claims.filter(pk__in=ids), Status.QUEUED, now, claimed_by=None)
    for process in dead:
        logger.warning(
            "%s (pid %s on %s) is gone; %s text(s) it was sending will be looked up at "
            "Twilio and sent if they never left",
            process.role, process.pid, process.host, sum(by == process.pk for _, by in held),
        )  # fmt: skip
    return ids


def _due_ids(rows, states, due_since, limit=1000):
    """The ids of queued `rows` whose retry (or first send) was due before `due_since`."""
    return list(
        rows.filter(status=states.QUEUED)
        .alias(due_at=Coalesce("next_attempt_at", "created_at"))
        .filter(due_at__lte=due_since)
        .values_list("pk", flat=True)[:limit]
    )


def requeue_due_messages(now=None):
    """Put back in the queue what no task will send: retries that are due and rows a
    dead worker left `claimed`. Returns how many were re-queued.

    A message is re-queued once it has been due (or stuck) for SMS_STUCK_AFTER_SECONDS.
    A stuck one is marked unclear since it was claimed, so the next attempt first looks
    for it at the provider (a worker may have died after Twilio accepted it).
    """
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.SMS_STUCK_AFTER_SECONDS)
    pending = Message.objects.filter(direction=Message.Direction.OUTBOUND, sid__isnull=True)
    stuck_ids = _requeue_stuck(pending, Status.QUEUED, Status.CLAIMED, limit, now)
    due_ids = _due_ids(pending, Status, limit)
    ids = sorted(set(stuck_ids) | set(due_ids))
    for message_id in ids:
        enqueue_delivery(message_id)
    return len(ids)


# --- voice requests: the outbox for calls ---------------------------------------

Request = ProviderRequest
RequestStatus = ProviderRequest.Status


def queue_call(to, url, *, about=None, from_=None, staff=False, **options):
    """Queue a call to `to` answered by the TwiML at `url`. Returns the ProviderRequest.

    Like send_sms: the row is written in the caller's transaction and the task exists
    only if it commits; a worker places the call. `options` are the backend's
    place_call arguments (status_callback, timeout, record...). What became of it
    reaches the asker through settings.TELEPHONY_CALL_HANDLERS. A number that may not
    be called (reason_not_to_call; `staff=True` for an agent's own phone) gets a
    `failed` row saying why and no provider call; the asker hears of it after commit,
    as of any failed call.
    """
    params = {"to": to, "from_": from_ or settings.TWILIO_PHONE_NUMBER, "url": url, **options}
    if "status_callback_events" in params:
        params["status_callback_events"] = list(params["status_callback_events"])
    refused = reason_not_to_call(to_e164(to), staff=staff)
    if refused:
        now = timezone.now()
        request = ProviderRequest.objects.create(
            kind=Request.Kind.PLACE_CALL,
            params=params,
            status=RequestStatus.FAILED,
            error_message=refused,
            finished_at=now,
            **about_fields(about),
        )
        logger.info("Not calling %s: %s", to, refused)
        transaction.on_commit(lambda: tell_requester(request.pk))
        return request
    return _queue(Request.Kind.PLACE_CALL, params, about)


def queue_call_update(sid, *, url=None, status=None, about=None):
    """Queue redirecting the live call `sid` to `url`, or ending it (`status`)."""
    params = {"sid": sid, "url": url, "status": status}
    return _queue(Request.Kind.UPDATE_CALL, {k: v for k, v in params.items() if v}, about)


def queue_number_configuration(phone_number, **webhooks):
    """Queue pointing `phone_number`'s webhooks (sms_url, voice_url, status_callback) at us."""
    return _queue(Request.Kind.CONFIGURE_NUMBER, {"phone_number": phone_number, **webhooks}, None)


def _queue(kind, params, about):
    request = ProviderRequest.objects.create(kind=kind, params=params, **about_fields(about))
    enqueue_with_transaction(enqueue_request, request.pk)
    return request


def withdraw_requests(about):
    """Withdraw the queued requests about `about` no worker has started. Returns how many."""
    return ProviderRequest.objects.filter(
        status=RequestStatus.QUEUED, sid="", **about_fields(about)
    ).update(status=RequestStatus.WITHDRAWN, updated_at=timezone.now())


def enqueue_request(request_id, run_after=None):
    from .tasks import perform_provider_request

    _enqueue(perform_provider_request, request_id, run_after)


def _claim_request(request_id):
    with transaction.atomic():
        request = ProviderRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.status != RequestStatus.QUEUED:
            return None
        if request.next_attempt_at and request.next_attempt_at > timezone.now():
            return None
        request.status = RequestStatus.SENDING
        request.attempts += 1
        request.save(update_fields=["status", "attempts", "updated_at"])
        return request


def perform_request(request_id):
    """Make one queued voice request at the provider. Safe to run twice for one row.

    The provider is called outside any transaction, with SMS's retry rules:
    transient failures are retried with backoff up to SMS_MAX_ATTEMPTS, permanent ones
    fail at once. A call whose placing had an unclear outcome is looked up first
    (find_calls) and adopted if it was made; updates and number configuration are
    repeated as they are (a repeated cancel or configuration changes nothing; a
    repeated redirect restarts the TwiML it points at). Returns the resulting SID.
    """
    started = timezone.now()
    request = _claim_request(request_id)
    if request is None:
        return None
    backend = get_backend()
    try:
        result = None
        if request.kind == Request.Kind.PLACE_CALL and request.unclear_since:
            result = _find_placed(request, backend)
        if result is None:
            result = _perform(request, backend)
    except UnclearProviderError as exc:
        if request.kind == Request.Kind.PLACE_CALL:
            request.unclear_since = request.unclear_since or started
        return _request_failed(request, exc, retry=request.attempts < settings.SMS_MAX_ATTEMPTS)
    except TransientProviderError as exc:
        return _request_failed(request, exc, retry=request.attempts < settings.SMS_MAX_ATTEMPTS)
    except PermanentProviderError as exc:
        return _request_failed(request, exc, retry=False)
    now = timezone.now()
    ProviderRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.DONE,
        sid=result.sid or "",
        result_status=getattr(result, "status", "")[:20],
        error_code=None,
        error_message="",
        unclear_since=None,
        finished_at=now,
        updated_at=now,
    )
    tell_requester(request.pk)
    return result.sid


def _perform(request, backend):
    params = dict(request.params)
    if request.kind == Request.Kind.PLACE_CALL:
        if "status_callback_events" in params:
            params["status_callback_events"] = tuple(params["status_callback_events"])
        return backend.place_call(**params)
    if request.kind == Request.Kind.UPDATE_CALL:
        return backend.update_call(params.pop("sid"), **params)
    return backend.configure_number(params.pop("phone_number"), **params)


def _find_placed(request, backend):
    """The call an earlier, unclear attempt placed for `request`, if Twilio has it."""
    found = backend.find_calls(
        to=request.params["to"], from_=request.params["from_"], started_after=request.unclear_since
    )
    known = set(
        ProviderRequest.objects.filter(
            kind=Request.Kind.PLACE_CALL, sid__in=[c.sid for c in found]
        ).values_list("sid", flat=True)
    )
    unknown = [c for c in found if c.sid not in known]
    if unknown:
        logger.warning("Call request %s was placed by an earlier attempt", request.pk)
        return unknown[-1]
    return None


def _request_failed(request, exc, *, retry):
    now = timezone.now()
    fields = {
        "error_code": exc.code,
        "error_message": str(exc.message)[:500],
        "unclear_since": request.unclear_since,
        "updated_at": now,
    }
    if retry:
        due = now + retry_delay(request.attempts)
        ProviderRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.QUEUED, next_attempt_at=due, **fields
        )
        logger.warning(
            "%s (request %s) failed (attempt %s, %s); retrying at %s",
            request.get_kind_display(), request.pk, request.attempts, exc.message, due.isoformat(),
        )  # fmt: skip
        enqueue_request(request.pk, run_after=due)
        return None
    ProviderRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.FAILED, finished_at=now, **fields
    )
    logger.error(
        "%s (request %s) failed for good after %s attempt(s): %s (code %s)",
        request.get_kind_display(), request.pk, request.attempts, exc.message, exc.code,
    )  # fmt: skip
    tell_requester(request.pk)
    return None


def tell_requester(request_id):
    """Run settings.TELEPHONY_CALL_HANDLERS on a finished request, once.

    The request is claimed (handled_at) in the same transaction as what the handlers
    change: if one fails, all of it rolls back and the sweep tries again.
    """
    with transaction.atomic():
        claimed = ProviderRequest.objects.filter(
            pk=request_id,
            status__in=[RequestStatus.DONE, RequestStatus.FAILED],
            handled_at__isnull=True,
        ).update(handled_at=timezone.now())
        if claimed:
            handlers.call_finished(ProviderRequest.objects.get(pk=request_id))
    return bool(claimed)


def requeue_due_requests(now=None):
    """The voice requests' sweep: re-queue due retries and requests a dead worker left
    in `sending` (marked unclear: a call it placed is looked up before placing another),
    and tell askers what a failed handler left untold. Returns how many were re-queued."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.SMS_STUCK_AFTER_SECONDS)
    pending = ProviderRequest.objects.all()
    stuck_ids = _requeue_stuck(pending, RequestStatus.QUEUED, RequestStatus.SENDING, limit, now)
    due_ids = _due_ids(pending, RequestStatus, limit)
    untold = list(
        pending.filter(
            status__in=[RequestStatus.DONE, RequestStatus.FAILED],
            handled_at__isnull=True,
            finished_at__lte=limit,
        ).values_list("pk", flat=True)[:1000]
    )
    for request_id in untold:
        try:
            tell_requester(request_id)
        except Exception:
            logger.exception("Telling the asker about request %s failed; next sweep", request_id)
    ids = sorted(set(stuck_ids) | set(due_ids))
    for request_id in ids:
        enqueue_request(request_id)
    return len(ids)


def deliver_stranded_replies(older_than=10, now=None, limit=100):
    """Deliver replies whose telephony worker died before handing them to the provider.

    Such a reply is either `queued`, never tried, with no task (its worker died between
    commit and claim), or `claimed` without a SID for longer than any send can take
    (`older_than` plus twice TWILIO_HTTP_TIMEOUT: its worker died while sending, or before
    storing the answer); the latter is marked unclear, so it is looked up at the
    provider before it is sent again. Either holds its customer's next text back. Safe
    even if its own worker is still at it: `deliver` claims the row first. Returns how
    many were tried.
    """
    now = now or timezone.now()
    replies = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, in_reply_to__isnull=False, sid__isnull=True
    )
    lost = now - timedelta(seconds=older_than + 2 * settings.TWILIO_HTTP_TIMEOUT)
    lost_ids = _requeue_stuck(replies, Status.QUEUED, Status.CLAIMED, lost, now, limit)
    ids = lost_ids + list(
        replies.filter(
            status=Status.QUEUED,
            attempts=0,
            next_attempt_at__isnull=True,
            created_at__lte=now - timedelta(seconds=older_than),
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        deliver(message_id)
    return len(ids)


def due_outbound():
    """Texts the telephony worker sends as soon as they are committed: queued, never tried,
    due now, and not replies (the worker that wrote a reply sends it, in the customer's
    order). Retries and texts held for a time (send_after: paced promotions, offers) are
    left to their tasks, which honour run_after and priority. The trigger of migration 0008
    wakes the worker for the same rows on PostgreSQL."""
    return Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        status=Status.QUEUED,
        next_attempt_at__isnull=True,
        in_reply_to__isnull=True,
        attempts=0,
        sid__isnull=True,
    )


def deliver_due_outbound(limit=50, senders=None):
    """Send the texts `due_outbound` lists, oldest first, without waiting for their tasks:
    one after another, or through the telephony worker's `senders` (telephony/senders.py).
    Returns how many it tried. Each still has its task: whichever runs second finds the row
    claimed or sent and does nothing (`claim` takes it under a row lock)."""
    ids = list(due_outbound().order_by("created_at", "id").values_list("pk", flat=True)[:limit])
    if senders is not None:
        senders.start(ids)
    else:
        for message_id in ids:
            deliver(message_id)
    return len(ids)
