"""Health and readiness for a load balancer or a monitor: /healthz and /readyz.

`/healthz` says the web process answers: 200 with {"status": "ok"}, without touching the
database (a probe that restarts a process should not restart it for a database outage).

`/readyz` says the shop can take and answer texts now: JSON with each check's state, 200
when every check passes and 503 when one fails:

- `database`: reachable, and every migration applied (the latter read at most once a
  minute per process);
- `workers`: a telephony worker is registered, and every registered background process
  beat within WORKER_DEAD_AFTER_SECONDS (telephony/processes.py);
- `replies`: the oldest text not yet answered is younger than ALERT_REPLY_SECONDS;
- `provider`: of the last texts whose fate Twilio reported in the last 15 minutes (at
  least ten of them), fewer than ALERT_PROVIDER_FAILURE_RATE were refused or undelivered
  with a provider error code; the commonest code is named.

No secret and no customer data is in either answer (counts, ages, roles and error codes
only), so both are safe to expose; both are exempt from the HTTPS redirect so a probe on the
internal network gets the answer, not a 301. A fixed number of queries, however large the
tables.
"""

import time
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from telephony import processes
from telephony.models import Message, WorkerProcess

WORKER_ROLE = processes.TELEPHONY_WORKER
PROVIDER_WINDOW = timedelta(minutes=15)
PROVIDER_SAMPLE = 200  # the latest outbound texts looked at
PROVIDER_MINIMUM = 10  # fewer reported fates than this: no judgement
FAILED = ("failed", "undelivered")
REPORTED = ("delivered", "sent", "failed", "undelivered", "read")

_migrated = (None, 0.0)  # (pending migration names or [], time.monotonic() of the look)


@require_GET
@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request):
    checks = {}
    now = timezone.now()
    try:
        checks["database"] = _database()
        if checks["database"]["ok"]:
            checks["workers"] = workers_check(now)
            checks["replies"] = replies_check(now)
            checks["provider"] = provider_check(now)
    except DatabaseError as exc:
        checks["database"] = {"ok": False, "detail": f"unreachable ({type(exc).__name__})"}
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JsonResponse(body, status=200 if ready else 503)


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    pending = _pending_migrations()
    if pending:
        return {"ok": False, "detail": f"{len(pending)} migration(s) not applied"}
    return {"ok": True, "detail": "reachable, migrated"}


def _pending_migrations():
    global _migrated
    pending, at = _migrated
    if pending is not None and time.monotonic() - at < 60:
        return pending
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    pending = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    _migrated = (pending, time.monotonic())
    return pending


def forget():
    """Look at the migrations again at the next readiness check (tests)."""
    global _migrated
    _migrated = (None, 0.0)


# The checks: each returns {"ok": bool, "detail": words, ...figures}; /readyz answers
# with them, and pizzeria/alerts.py turns the failing ones into words for staff.


def workers_check(now):
    """Every registered process beating, and a telephony worker among them."""
    silent, live = set(), []
    for process in WorkerProcess.objects.all()[:100]:
        if processes.is_dead(process, now):
            silent.add(process.role)
        else:
            live.append(process.role)
    silent = sorted(silent)
    if silent:
        return {
            "ok": False, "detail": f"silent: {', '.join(silent)}", "live": len(live),
            "silent": silent,
        }  # fmt: skip
    if WORKER_ROLE not in live:
        return {
            "ok": False, "detail": f"no {WORKER_ROLE} is running", "live": len(live),
            "silent": [WORKER_ROLE],
        }  # fmt: skip
    return {"ok": True, "detail": f"{len(live)} beating", "live": len(live)}


def replies_check(now):
    """The oldest text not answered yet, against ALERT_REPLY_SECONDS."""
    oldest = (
        Message.objects.filter(direction=Message.Direction.INBOUND, handled_at__isnull=True)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    age = round((now - oldest).total_seconds()) if oldest else 0
    limit = settings.ALERT_REPLY_SECONDS
    if age >= limit:
        return {"ok": False, "detail": f"a text has waited {age} s for an answer (limit {limit})"}
    return {"ok": True, "detail": f"oldest waiting {age} s", "oldest_seconds": age}


def provider_check(now):
    """Twilio's refusals among the latest reported sends, against
    ALERT_PROVIDER_FAILURE_RATE; the commonest error code named."""
    recent = (
        Message.objects.filter(direction=Message.Direction.OUTBOUND)
        .order_by("-id")
        .values_list("status", "error_code", "created_at")[:PROVIDER_SAMPLE]
    )
    since = now - PROVIDER_WINDOW
    fates = [(status, code) for status, code, at in recent if at >= since and status in REPORTED]
    refused = [code for status, code in fates if status in FAILED and code]
    if len(fates) < PROVIDER_MINIMUM:
        return {"ok": True, "detail": f"{len(fates)} reported in 15 min: too few to judge"}
    rate = len(refused) / len(fates)
    detail = {"ok": rate < settings.ALERT_PROVIDER_FAILURE_RATE, "failure_rate": round(rate, 3)}
    if refused:
        code, count = Counter(refused).most_common(1)[0]
        detail["commonest_error"] = code
    detail["detail"] = f"{len(refused)} of {len(fates)} refused or undelivered in 15 min"
    return detail
