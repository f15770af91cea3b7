"""Text the shop from the command line, through the real signed webhook, with no Twilio."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from telephony.inbound import answer_pending
from telephony.models import Message
from telephony.numbers import to_e164
from telephony.simulator import signed_post, sms_params


class Command(BaseCommand):
    help = (
        'Send a signed inbound SMS through the whole stack, e.g. simulate_sms +14155550199 "MENU"'
    )

    def add_arguments(self, parser):
        parser.add_argument("sender", help="the customer's phone number")
        parser.add_argument("text", help="what the customer texts")

    def handle(self, sender, text, **options):
        number = to_e164(sender)
        if not number:
            raise CommandError(f"{sender!r} is not a phone number (try +14155550199).")
        started = timezone.now()
        params = sms_params(number, text)
        response = signed_post(reverse("telephony:sms"), params)
        if response.status_code != 200:
            raise CommandError(f"The webhook answered {response.status_code}: {response.content!r}")
        inbound = Message.objects.get(sid=params["MessageSid"])
        # Answer it here, as the worker does, rather than wait for one; if one already took
        # it, wait for it.
        answer_pending()
        deadline = time.monotonic() + 10
        while not Message.objects.filter(pk=inbound.pk, handled_at__isnull=False).exists():
            if time.monotonic() > deadline:
                raise CommandError("A worker took the message but did not finish within 10 s.")
            time.sleep(0.1)
        replies = inbound.replies.order_by("id")
        self.stdout.write(f"You ({number}): {text}")
        for reply in replies:
            self.stdout.write(self.style.SUCCESS("Shop: ") + reply.body)
        if not replies:
            self.stdout.write("(no reply)")
        queued = Message.objects.filter(
            direction="out", in_reply_to__isnull=True, created_at__gte=started
        ).order_by("id")
        for message in queued:
            self.stdout.write(f"Queued for {message.to_number} ({message.status}): {message.body}")
