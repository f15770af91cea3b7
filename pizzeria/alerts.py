"""What is wrong now, said where people look: the staff board's red banner, and one text to
the owner's phone (ALERT_PHONE) when trouble starts and when it ends, at most one start
an hour. The trouble is what /readyz checks (pizzeria/health.py): texts not being answered,
a background process silent, Twilio refusing texts (with its error code and what it means).

The minute sweeps run `sweep`: the telephony worker's (settings.TELEPHONY_SWEEPS) and the
late-order sweep's, so a dead telephony worker is still reported. The alert text is queued
in the outbox like any text, and the sweeping process sends it itself at once
(Outbox.send_one) rather than wait for a telephony worker that may be the trouble.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from telephony.models import Alert
from telephony.sms import TEXTS, send_sms
from telephony.status import ERROR_CODES

from . import health

logger = logging.getLogger(__name__)


def problems(now=None):
    """What is wrong now, in words for staff ([] when nothing is)."""
    now = now or timezone.now()
    found = []
    workers = health.workers_check(now)
    if not workers["ok"]:
        silent = workers.get("silent") or []
        if health.WORKER_ROLE in silent:
            found.append(
                "The telephony worker is not running: texts are stored, but nobody is answered."
            )
        others = [role for role in silent if role != health.WORKER_ROLE]
        if others:
            found.append(f"Silent: {', '.join(others)} (no heartbeat for a minute or more).")
    replies = health.replies_check(now)
    if not replies["ok"]:
        found.append(f"Texts are not being answered: {replies['detail']}.")
    provider = health.provider_check(now)
    if not provider["ok"]:
        code = provider.get("commonest_error")
        meaning = ERROR_CODES.get(code, "")
        why = f" Commonest error {code}" + (f": {meaning}." if meaning else ".") if code else ""
        found.append(f"Twilio is refusing texts: {provider['detail']}.{why}")
    return found


def current():
    """The open alert, or None."""
    return Alert.objects.filter(ended_at__isnull=True).first()


def sweep(now=None):
    """Open, update or close the alert as things are now; text the owner. Returns 1 when it
    texted, else 0."""
    now = now or timezone.now()
    found = problems(now)
    what = " ".join(found)[:500]
    text = None
    try:
        with transaction.atomic():
            alert = Alert.objects.select_for_update().filter(ended_at__isnull=True).first()
            if found and alert is None:
                alert = Alert.objects.create(what=what, started_at=now)
                if _may_text(now):
                    text = _text(f"{settings.SHOP_NAME} ALERT: {what}"[:600])
                    Alert.objects.filter(pk=alert.pk).update(texted_at=now)
            elif found and alert.what != what:
                Alert.objects.filter(pk=alert.pk).update(what=what)
            elif not found and alert is not None:
                Alert.objects.filter(pk=alert.pk).update(ended_at=now, open=False)
                if alert.texted_at:
                    minutes = round((now - alert.started_at).total_seconds() / 60)
                    text = _text(
                        f"{settings.SHOP_NAME}: all clear again after {minutes} min ({alert.what})"[
                            :600
                        ]
                    )
    except IntegrityError:
        return 0  # another process's sweep opened it at the same moment
    if text is not None:
        TEXTS.send_one(text.pk)  # now, by this process: the worker may be the trouble
    return int(text is not None)


def _may_text(now):
    if not settings.ALERT_PHONE:
        return False
    hour_ago = now - timedelta(hours=1)
    return not Alert.objects.filter(texted_at__gt=hour_ago).exists()


def _text(body):
    row = send_sms(settings.ALERT_PHONE, body)
    if row.status == "failed":
        logger.error("The alert text to ALERT_PHONE was refused: %s", row.error_message)
        return None
    return row
