# Promotions now live in the campaigns app (campaigns/migrations/0001_initial.py took
# over the tables); only the orders app's record of the models goes.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_reach_inquiry_note"),
        ("campaigns", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CampaignRecipient"),
                migrations.DeleteModel(name="Campaign"),
            ],
        ),
    ]
