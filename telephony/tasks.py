"""Background tasks of the telephony core (Django's tasks API)."""

from django.tasks import task

from . import outbox


@task()
def deliver_message(message_id):
    return outbox.deliver(message_id)


@task()
def perform_provider_request(request_id):
    return outbox.perform_request(request_id)
