"""Each order gets a random token for its page at /o/<token>/ (existing orders too)."""

import secrets

from django.db import migrations, models


def fill_tokens(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    batch = []
    for order in Order.objects.filter(token__isnull=True).only("pk").iterator(chunk_size=2000):
        order.token = secrets.token_urlsafe(16)
        batch.append(order)
        if len(batch) == 2000:
            Order.objects.bulk_update(batch, ["token"])
            batch = []
    Order.objects.bulk_update(batch, ["token"])


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_menu_modifiers")]

    operations = [
        # Nullable first, so existing rows do not all get the same default; each gets its own,
        # then 0010 makes it unique (a separate migration: PostgreSQL will not alter a table
        # with pending updates in the same transaction).
        migrations.AddField(
            model_name="order",
            name="token",
            field=models.CharField(max_length=32, null=True, editable=False),
        ),
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
    ]
