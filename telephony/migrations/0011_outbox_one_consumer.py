"""The outbox's one consumer, the telephony worker (telephony/outbox.py):

- voice requests are claimed as texts are: "sending" (ours) becomes "claimed", with the
  claiming process (`claimed_by`);
- the PostgreSQL trigger that wakes the worker (migration 0008) fires for every queued
  outbox row it must send, not a copy of the rule for which ones are due: a text that is
  not a reply (the worker that writes a reply sends it) and a voice request; the worker
  itself sleeps no longer than until the next held row falls due;
- the delivery tasks are gone (texts and voice requests are the worker's): their task rows
  still waiting are removed, the rows they were for are sent by the worker.
"""

import django.db.models.deletion
from django.db import migrations, models


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


TRIGGERS = """
DROP TRIGGER IF EXISTS telephony_message_notify_work ON telephony_message;
CREATE TRIGGER telephony_message_notify_work
    AFTER INSERT ON telephony_message FOR EACH ROW
    WHEN ((NEW.direction = 'in' AND NEW.handled_at IS NULL)
          OR (NEW.direction = 'out' AND NEW.status = 'queued' AND NEW.in_reply_to_id IS NULL))
    EXECUTE FUNCTION telephony_notify_work();
CREATE TRIGGER telephony_request_notify_work
    AFTER INSERT ON telephony_providerrequest FOR EACH ROW
    WHEN (NEW.status = 'queued')
    EXECUTE FUNCTION telephony_notify_work();
"""
OLD_TRIGGERS = """
DROP TRIGGER IF EXISTS telephony_request_notify_work ON telephony_providerrequest;
DROP TRIGGER IF EXISTS telephony_message_notify_work ON telephony_message;
CREATE TRIGGER telephony_message_notify_work
    AFTER INSERT ON telephony_message FOR EACH ROW
    WHEN ((NEW.direction = 'in' AND NEW.handled_at IS NULL)
          OR (NEW.direction = 'out' AND NEW.status = 'queued' AND NEW.in_reply_to_id IS NULL
              AND NEW.next_attempt_at IS NULL AND NEW.attempts = 0))
    EXECUTE FUNCTION telephony_notify_work();
"""
OLD_TASKS = ["telephony.tasks.deliver_message", "telephony.tasks.perform_provider_request"]


def claimed(apps, schema_editor):
    ProviderRequest = apps.get_model("telephony", "ProviderRequest")
    ProviderRequest.objects.filter(status="sending").update(status="claimed")
    try:
        tasks = apps.get_model("django_tasks_database", "DBTaskResult")
    except LookupError:
        return
    tasks.objects.filter(task_path__in=OLD_TASKS, status="READY").delete()


def sending(apps, schema_editor):
    ProviderRequest = apps.get_model("telephony", "ProviderRequest")
    ProviderRequest.objects.filter(status="claimed").update(status="sending")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('telephony', '0010_phone_simulator_permission'),
        ('django_tasks_database', '0021_conditional_partial_index_ordering'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='providerrequest',
            name='providerrequest_pending',
        ),
        migrations.AddField(
            model_name='providerrequest',
            name='claimed_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, to='telephony.workerprocess'),
        ),
        migrations.AlterField(
            model_name='providerrequest',
            name='status',
            field=models.CharField(choices=[('queued', 'Queued'), ('claimed', 'Being made'), ('done', 'Done'), ('failed', 'Failed'), ('withdrawn', 'Withdrawn')], default='queued', max_length=10),
        ),
        migrations.RunPython(claimed, sending),
        migrations.RunPython(on_postgresql(TRIGGERS), on_postgresql(OLD_TRIGGERS)),
        migrations.AddIndex(
            model_name='providerrequest',
            index=models.Index(condition=models.Q(('status__in', ['queued', 'claimed'])), fields=['status', 'next_attempt_at'], name='providerrequest_pending'),
        ),
    ]
