"""Support agents, calls to the support line, voicemails to call back, and voice notices."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q


class Agent(models.Model):
    """Someone who answers the support line on their own phone while on shift."""

    name = models.CharField(max_length=100)
    phone = models.CharField("phone (E.164)", max_length=32, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_agent",
        help_text="The staff login whose 'call back' rings this phone.",
    )
    is_active = models.BooleanField("active", default=True)
    on_shift = models.BooleanField(default=False, help_text="Rung for calls to the support line")
    priority = models.PositiveSmallIntegerField(default=10, help_text="Lower numbers ring first")
    last_offered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self):
        return self.name


class SupportCall(models.Model):
    """One call on the support line: a customer calling in, or staff calling one back."""

    class Status(models.TextChoices):
        IN_MENU = "in_menu", "In menu"
        WAITING = "waiting", "Waiting"
        RINGING_AGENT = "ringing_agent", "Ringing an agent"
        CONNECTED = "connected", "Connected"
        VOICEMAIL = "voicemail", "Voicemail"
        ABANDONED = "abandoned", "Abandoned"
        COMPLETED = "completed", "Completed"

    class Direction(models.TextChoices):
        INBOUND = "in", "Customer called"
        CALLBACK = "callback", "We called back"

    direction = models.CharField(max_length=8, choices=Direction.choices, default="in")
    caller_number = models.CharField(max_length=32)
    # The customer's leg: known at once for inbound calls, once placed for call-backs.
    call_sid = models.CharField("caller's CallSid", max_length=64, unique=True, null=True)
    conference_name = models.CharField(max_length=80, blank=True)
    conference_sid = models.CharField(max_length=64, blank=True)
    customer = models.ForeignKey(
        "orders.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The order's customer-facing number as the caller heard it ("1042").
    order_number = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_MENU)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    current_offer = models.ForeignKey(
        "AgentOffer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    callback_for = models.ForeignKey(
        "Voicemail", null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks"
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "started_at"],
                name="supportcall_live",
                condition=Q(status__in=["in_menu", "waiting", "ringing_agent", "connected"]),
            )
        ]

    def __str__(self):
        return f"Call {self.pk} ({self.get_status_display()})"

    @property
    def wait_time(self):
        start = self.waiting_since or self.started_at
        end = self.answered_at or self.ended_at
        return end - start if start and end else None

    @property
    def talk_time(self):
        if self.answered_at and self.ended_at:
            return self.ended_at - self.answered_at
        return None


class AgentOffer(models.Model):
    """One time an agent's phone was rung for a call, and how that ended."""

    class Status(models.TextChoices):
        PLACING = "placing", "Placing"
        RINGING = "ringing", "Ringing"
        ANSWERED = "answered", "Answered"
        NO_ANSWER = "no-answer", "No answer"
        BUSY = "busy", "Busy"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"
        COMPLETED = "completed", "Completed"

    call = models.ForeignKey(SupportCall, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="offers")
    sid = models.CharField("agent leg CallSid", max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLACING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.agent} for call {self.call_id}: {self.status}"


ACTIVE_OFFER_STATUSES = [
    AgentOffer.Status.PLACING,
    AgentOffer.Status.RINGING,
    AgentOffer.Status.ANSWERED,
]


class CallEvent(models.Model):
    """Append-only history of a support call: menu choices, agents offered, outcomes."""

    call = models.ForeignKey(SupportCall, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.kind


class Voicemail(models.Model):
    """A message left on the support line: a call-back task for staff."""

    call = models.OneToOneField(SupportCall, on_delete=models.CASCADE, related_name="voicemail")
    recording_sid = models.CharField(max_length=64, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="seconds")
    transcript = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["done_at", "created_at"]
        verbose_name = "voicemail to call back"
        verbose_name_plural = "voicemails to call back"
        # Staff board: ringing one's agent phone to call the customer back.
        permissions = [("call_back", "Can call a customer back from a voicemail")]

    def __str__(self):
        return f"Voicemail from {self.call.caller_number}"


class VoiceNotice(models.Model):
    """An outbound call that speaks a stored message (e.g. an order's status)."""

    to_number = models.CharField(max_length=32)
    message = models.TextField()
    record = models.BooleanField(default=False)
    sid = models.CharField("CallSid", max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, default="queued")
    error_message = models.CharField(max_length=500, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.CharField(max_length=64, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Voice notice to {self.to_number}: {self.status}"
