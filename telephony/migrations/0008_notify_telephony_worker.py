"""On PostgreSQL, wake the telephony worker (telephony/wakeup.py) from the transaction that
writes work for it: an inbound text, or a fresh outbound text that is due now and is not a
reply (outbox.due_outbound). NOTIFY is delivered on commit and never for a rollback; several
in one transaction are delivered as one. Other databases have no NOTIFY: the worker polls."""

from django.db import migrations

CREATE = """
CREATE FUNCTION telephony_notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('telephony_work', '');
    RETURN NULL;
END $$;
CREATE TRIGGER telephony_message_notify_work
    AFTER INSERT ON telephony_message FOR EACH ROW
    WHEN ((NEW.direction = 'in' AND NEW.handled_at IS NULL)
          OR (NEW.direction = 'out' AND NEW.status = 'queued' AND NEW.in_reply_to_id IS NULL
              AND NEW.next_attempt_at IS NULL AND NEW.attempts = 0))
    EXECUTE FUNCTION telephony_notify_work();
"""
DROP = """
DROP TRIGGER IF EXISTS telephony_message_notify_work ON telephony_message;
DROP FUNCTION IF EXISTS telephony_notify_work();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("telephony", "0007_outbox_voice_requests")]

    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
