"""Background tasks of the support line (Django's tasks API)."""

from django.tasks import task

from . import notices


@task()
def place_voice_notice(to, message, record=False):
    """Queue a voice notice from code that has no transaction of its own (e.g. a command)."""
    return notices.place_voice_notice(to, message, record=record).pk
