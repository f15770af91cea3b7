"""Background tasks of the telephony core (Django's tasks API)."""

from django.tasks import task

from . import services


@task()
def deliver_message(message_id):
    return services.deliver(message_id)


@task()
def perform_provider_request(request_id):
    return services.perform_request(request_id)
