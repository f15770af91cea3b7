"""Background task that queues a promotion's texts (Django's tasks API)."""

from django.tasks import task

from . import services


@task()
def send_campaign_task(campaign_id, batch_size=services.BATCH_SIZE):
    """Queue every remaining batch of the campaign; safe to run twice or after a crash."""
    return services.send_campaign(campaign_id, batch_size)
