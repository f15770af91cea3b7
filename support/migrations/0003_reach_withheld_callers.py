"""Calls logged with Twilio's stand-in for a withheld caller ID (+266696687 and the like)
are from a withheld number: say so, and unlink the orders wrongly found for it."""

from django.db import migrations

# telephony.numbers.WITHHELD_IDS and WITHHELD_WORDS as they were when this was written.
STAND_INS = ["+266696687", "+86282452253", "+8656696", "+2562533"]
WORDS = ["", "anonymous", "Anonymous", "restricted", "Restricted", "unknown", "Unknown"]


def mark_withheld(apps, schema_editor):
    SupportCall = apps.get_model("support", "SupportCall")
    SupportCall.objects.filter(caller_number__in=STAND_INS + WORDS).update(
        caller_number="withheld", customer=None, order=None, order_number=""
    )


class Migration(migrations.Migration):
    dependencies = [("support", "0002_call_customer_and_order")]

    operations = [migrations.RunPython(mark_withheld, migrations.RunPython.noop)]
