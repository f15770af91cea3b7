# Promotions moved out of the orders app: the models keep their rows. The state is
# created here as it was in orders (no SQL), then the tables take this app's names.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import campaigns.models

MOVED = ("campaign", "campaignrecipient")


def move_content_types(apps, schema_editor):
    """Generic links (a text's `about`) and permissions follow the models to this app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label="campaigns", model=model).exists():
            ContentType.objects.using(db).filter(app_label="orders", model=model).update(
                app_label="campaigns"
            )


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label="orders", model=model).exists():
            ContentType.objects.using(db).filter(app_label="campaigns", model=model).update(
                app_label="orders"
            )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0003_large_table_indexes"),
        ("telephony", "0002_inbound_handled_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Campaign",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(help_text="For staff only; customers never see it.", max_length=100)),
                        ("body", models.TextField(help_text='"Reply STOP to opt out" is added at the end if the text does not say it.', max_length=1500, verbose_name="text")),
                        ("image", models.FileField(blank=True, help_text="Optional JPEG, PNG or GIF up to 5 MB; sending it makes every text an MMS.", upload_to="campaigns/", validators=[campaigns.models.validate_image], verbose_name="picture (MMS)")),
                        ("audience", models.CharField(choices=[("all", "Every customer who may be texted"), ("recent", "Customers who ordered in the last N days")], default="all", max_length=10)),
                        ("recent_days", models.PositiveSmallIntegerField(blank=True, help_text="For the 'ordered in the last N days' audience.", null=True, verbose_name="N days")),
                        ("state", models.CharField(choices=[("draft", "Draft"), ("sending", "Sending"), ("sent", "All queued")], default="draft", max_length=10)),
                        ("ordered_since", models.DateTimeField(blank=True, null=True)),
                        ("last_customer_id", models.PositiveBigIntegerField(blank=True, help_text="Customers who joined after the send started are left out.", null=True)),
                        ("cursor", models.PositiveBigIntegerField(default=0, help_text="Last customer id queued")),
                        ("queued", models.PositiveIntegerField(default=0, help_text="Texts queued so far")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="all queued at")),
                        ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("started_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"verbose_name": "promotion", "ordering": ["-id"], "db_table": "orders_campaign"},
                ),
                migrations.CreateModel(
                    name="CampaignRecipient",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("campaign", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="recipients", to="campaigns.campaign")),
                        ("customer", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="orders.customer")),
                        ("message", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="telephony.message")),
                    ],
                    options={
                        "db_table": "orders_campaignrecipient",
                        "constraints": [models.UniqueConstraint(fields=("campaign", "customer"), name="one_promotion_per_customer")],
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name="campaign", table=None),
        migrations.AlterModelTable(name="campaignrecipient", table=None),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
