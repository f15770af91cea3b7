"""Background task that sends a promotion (Django's tasks API): writes its recipients,
then takes turns of the paced sending loop, re-enqueuing itself for the next turn."""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from telephony.tasks import enqueue_or_leave_to_sweep

from . import services


@task()
def send_campaign_task(campaign_id, batch_size=services.BATCH_SIZE):
    """One turn of the campaign; safe to run twice or after a crash. Without a task
    backend that runs tasks later (supports_defer), the worker's sweep takes the turns."""
    wait = services.send_campaign(campaign_id, batch_size)
    if wait is not None and send_campaign_task.get_backend().supports_defer:
        later = send_campaign_task.using(run_after=timezone.now() + timedelta(seconds=wait))
        enqueue_or_leave_to_sweep(later, campaign_id, batch_size)
    return wait
