"""On PostgreSQL the telephony worker is woken by a NOTIFY when there is work (telephony
migration 0011); a queued Stripe request is work too, so its insert wakes it the same way
(on SQLite the worker polls)."""

from django.db import migrations


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


TRIGGER = """
CREATE TRIGGER payments_request_notify_work
    AFTER INSERT ON payments_striperequest FOR EACH ROW
    WHEN (NEW.status = 'queued')
    EXECUTE FUNCTION telephony_notify_work();
"""
DROP = "DROP TRIGGER IF EXISTS payments_request_notify_work ON payments_striperequest;"


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("telephony", "0011_outbox_one_consumer"),
    ]

    operations = [migrations.RunPython(on_postgresql(TRIGGER), on_postgresql(DROP))]
