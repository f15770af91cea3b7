"""Order tokens are unique (and so indexed), and new orders get one."""

from django.db import migrations, models

import orders.models


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_order_page_token")]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="token",
            field=models.CharField(
                default=orders.models.new_order_token, editable=False, max_length=32, unique=True
            ),
        ),
    ]
