"""The message log, the outbox of voice requests, and the opt-out list."""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q


class MessageQuerySet(models.QuerySet):
    def with_number(self, number):
        """Texts from `number` and texts to it: a customer's side of the conversation.

        Says the direction of each half, so the partial indexes serve it."""
        return self.filter(
            Q(direction=Message.Direction.INBOUND, from_number=number)
            | Q(direction=Message.Direction.OUTBOUND, to_number=number)
        )


class Message(models.Model):
    """One text (SMS, MMS or WhatsApp), in or out. Every text the shop sends or receives is a
    row. Numbers are plain E.164 on every channel (no `whatsapp:` prefix), so one person is
    one customer whichever way they write; `channel` says how the text went."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        WHATSAPP = "whatsapp", "WhatsApp"
        # What a caller said on the phone line (orders/phone.py): kept beside their texts,
        # answered by voice at once, never by a text.
        VOICE = "voice", "Said on the phone"

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        # Ours: a worker has it and is handing it to Twilio (no SID yet).
        CLAIMED = "claimed", "Being sent"
        # The rest are Twilio's own (MessageStatus).
        SENDING = "sending", "Sending"
        ACCEPTED = "accepted", "Accepted"
        SCHEDULED = "scheduled", "Scheduled"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    direction = models.CharField(max_length=3, choices=Direction.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    media_urls = models.JSONField(default=list, blank=True)
    sid = models.CharField("provider SID", max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    num_segments = models.PositiveSmallIntegerField(default=1)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set when an attempt may have reached the provider without our learning its outcome
    # (answer lost, worker killed): look for it there before sending again.
    unclear_since = models.DateTimeField(null=True, blank=True)
    # Indexed below only where set: most rows are no reply, and every index on this
    # table is written on the inbound webhook's hot path.
    in_reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
        db_index=False,
    )
    # What the message is about (an order, a call, a campaign...), if anything.
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    object_id = models.CharField(max_length=64, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Inbound only: when the conversation handled it (None: waiting for the worker).
    handled_at = models.DateTimeField(null=True, blank=True)
    # Outbound, while CLAIMED: the process handing it to Twilio (a dead one's claims are
    # looked up at Twilio at once: telephony/processes.py).
    claimed_by = models.ForeignKey(
        "WorkerProcess", null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # Staff board: texting a customer (see staff/board/access.py).
        permissions = [
            ("send_sms", "Can text customers from the staff board"),
            ("use_phone_simulator", "Can use the phone simulator (as test numbers only)"),
        ]
        indexes = [
            # A customer's number is the sender of texts in and the recipient of texts out;
            # the other side is always the shop's, which an index would only repeat. Each
            # row goes into one of the two (with_number() asks both).
            models.Index(
                fields=["from_number", "-created_at"],
                name="msg_in_from",
                condition=Q(direction="in"),
            ),
            models.Index(
                fields=["to_number", "-created_at"],
                name="msg_out_to",
                condition=Q(direction="out"),
            ),
            models.Index(
                fields=["content_type", "object_id"],
                name="msg_about",
                condition=Q(content_type__isnull=False),
            ),
            models.Index(
                fields=["in_reply_to"], name="msg_replies", condition=Q(in_reply_to__isnull=False)
            ),
            models.Index(
                fields=["status", "next_attempt_at"],
                name="msg_pending",
                condition=Q(status__in=["queued", "claimed"]),
            ),
            models.Index(  # cleared once the send's outcome is stored: a few rows at most
                fields=["claimed_by"], name="msg_claims", condition=Q(claimed_by__isnull=False)
            ),
            models.Index(
                fields=["created_at"],
                name="msg_unhandled",
                condition=Q(direction="in", handled_at__isnull=True),
            ),
        ]

    def __str__(self):
        arrow = "←" if self.direction == self.Direction.INBOUND else "→"
        return f"{arrow} {self.body[:40]}"

    @property
    def is_inbound(self):
        return self.direction == self.Direction.INBOUND

    @property
    def customer_number(self):
        """The other party's number, whichever way the message went."""
        return self.from_number if self.is_inbound else self.to_number


class WorkerProcess(models.Model):
    """A running process that hands texts to Twilio (the telephony worker, the task
    worker), registered while it runs and beating every few seconds. A claim held by a
    process that died (its pid gone on this host, or its beat stale) is taken back at once
    (telephony/processes.py)."""

    role = models.CharField(max_length=40)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    beat_at = models.DateTimeField()

    class Meta:
        ordering = ["role", "host", "pid"]

    def __str__(self):
        return f"{self.role} {self.pid}@{self.host}"


class Alert(models.Model):
    """One spell of trouble (pizzeria/alerts.py): texts not answered, a process silent,
    Twilio refusing texts. At most one is open (`ended_at` empty); the owner's phone
    (ALERT_PHONE) is texted when one starts (at most once an hour) and when it ends."""

    what = models.CharField(max_length=500)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    texted_at = models.DateTimeField(null=True, blank=True)
    open = models.BooleanField(default=True, editable=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["open"], condition=Q(ended_at__isnull=True), name="one_open_alert"
            )
        ]

    def __str__(self):
        return self.what


class ProviderRequest(models.Model):
    """One voice request to the provider (ring a phone, redirect or end a call, configure a
    number), queued in the asker's transaction and made by a worker: the outbox for calls,
    as Message is for texts. Never edited by hand; the worker tells the asker how it went
    through settings.TELEPHONY_CALL_HANDLERS."""

    class Kind(models.TextChoices):
        PLACE_CALL = "place_call", "Place a call"
        UPDATE_CALL = "update_call", "Redirect or end a call"
        CONFIGURE_NUMBER = "configure_number", "Configure a number"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        CLAIMED = "claimed", "Being made"  # a worker has it (claimed_by)
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    params = models.JSONField("parameters", default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    unclear_since = models.DateTimeField(null=True, blank=True)
    sid = models.CharField("resulting SID", max_length=64, blank=True, db_index=True)
    result_status = models.CharField(max_length=20, blank=True)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    object_id = models.CharField(max_length=64, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the asker was told how it ended (None while queued, or the telling failed).
    handled_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        "WorkerProcess", null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                name="providerrequest_pending",
                condition=Q(status__in=["queued", "claimed"]),
            ),
            models.Index(
                fields=["content_type", "object_id"],
                name="providerrequest_about",
                condition=Q(content_type__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.target}: {self.status}"

    @property
    def target(self):
        """The number or call the request is for."""
        return self.params.get("to") or self.params.get("sid") or self.params.get("phone_number")


class OptOut(models.Model):
    """A number that said STOP: nothing is sent to it until it says START."""

    phone_number = models.CharField(max_length=32, unique=True)
    keyword = models.CharField(max_length=20, blank=True, help_text="What they texted, or why")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "opt-out"

    def __str__(self):
        return self.phone_number


def about_fields(obj):
    """The generic-relation columns for `about=obj` (None clears them)."""
    if obj is None:
        return {"content_type": None, "object_id": ""}
    return {"content_type": ContentType.objects.get_for_model(obj), "object_id": str(obj.pk)}
