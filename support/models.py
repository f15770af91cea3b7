"""Support agents, calls to the support line, voicemails to call back, and voice notices.

Calls, agent offers and voice notices each have one state machine, written once here
as a pipeline dict next to the model's Status choices ("status -> statuses that may
follow"), and one door, the model's `move()`, which checks it. Every other list of
statuses (live, holding, still ringing, finished) is derived from the dict.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone


class InvalidStatus(Exception):
    """A move its model's pipeline does not list."""


def finals(may_follow):
    """The statuses nothing may follow."""
    return frozenset(status for status, following in may_follow.items() if not following)


class Pipeline:
    """The check every door makes. A model using it defines MAY_GO_TO and `move()`,
    called on a row the caller locked (select_for_update, inside transaction.atomic)."""

    MAY_GO_TO = {}

    def may_move_to(self, status):
        return status in self.MAY_GO_TO.get(self.status, ())

    def check_move(self, status):
        if not self.may_move_to(status):
            name = type(self).__name__
            raise InvalidStatus(f"{name} {self.pk}: {self.status} -> {status}")


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


class SupportCall(Pipeline, models.Model):
    """One call on the support line: a customer calling in, or staff calling one back.

    A customer's call starts `in_menu`, a call-back `ringing_agent` (its agent's phone
    rings first)."""

    class Status(models.TextChoices):
        IN_MENU = "in_menu", "In menu"
        WAITING = "waiting", "Waiting"
        RINGING_AGENT = "ringing_agent", "Ringing an agent"
        CONNECTED = "connected", "Connected"
        VOICEMAIL = "voicemail", "Voicemail"
        ABANDONED = "abandoned", "Abandoned"
        CALL_BACK = "call_back", "Asked to be called back"
        COMPLETED = "completed", "Completed"

    # A caller on hold may ask to be called back (press star, then 1): their call ends as
    # `call_back` and a call-back row takes its place in line (support.calls.call_me_back).
    # A call whose agent did not answer waits again (ringing -> waiting) for the next one.
    MAY_GO_TO = {
        Status.IN_MENU: {Status.WAITING, Status.VOICEMAIL, Status.ABANDONED, Status.COMPLETED},
        Status.WAITING: {
            Status.RINGING_AGENT, Status.VOICEMAIL, Status.ABANDONED, Status.CALL_BACK,
        },
        Status.RINGING_AGENT: {
            Status.WAITING, Status.CONNECTED, Status.VOICEMAIL, Status.ABANDONED,
            Status.CALL_BACK,
        },
        Status.CONNECTED: {Status.COMPLETED},
        Status.VOICEMAIL: {Status.COMPLETED},
        Status.ABANDONED: set(),
        Status.CALL_BACK: set(),
        Status.COMPLETED: set(),
    }  # fmt: skip

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
    # A call-back a caller asked for from the hold: the call they were holding on.
    callback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    # A missed call's text is due then (support/missed.py); None once decided.
    missed_text_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "started_at"],
                name="supportcall_live",
                condition=Q(status__in=["in_menu", "waiting", "ringing_agent", "connected"]),
            ),
            models.Index(
                fields=["missed_text_due_at"],
                name="supportcall_missed_text_due",
                condition=Q(missed_text_due_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"Call {self.pk} ({self.get_status_display()})"

    def move(self, status, kind, agent=None, **detail):
        """The one door for a call's status: checks MAY_GO_TO, stamps when it first began
        waiting (its place in line), was answered or ended, and writes a CallEvent of
        `kind`."""
        self.check_move(status)
        previous, self.status = self.status, status
        fields = ["status"]
        stamp = {
            self.Status.WAITING: "waiting_since",
            self.Status.CONNECTED: "answered_at",
            **dict.fromkeys(CALL_FINISHED, "ended_at"),
        }.get(status)
        if stamp and not (stamp == "waiting_since" and self.waiting_since):
            setattr(self, stamp, timezone.now())
            fields.append(stamp)
        self.save(update_fields=fields)
        self.record(kind, agent=agent, previous=previous, **detail)

    def record(self, kind, agent=None, **detail):
        """Add a row to the call's history (CallEvent.Kind)."""
        return CallEvent.objects.create(call=self, kind=kind, agent=agent, detail=detail)

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


class AgentOffer(Pipeline, models.Model):
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

    MAY_GO_TO = {
        Status.PLACING: {
            Status.RINGING, Status.ANSWERED, Status.NO_ANSWER, Status.BUSY, Status.FAILED,
            Status.CANCELED,
        },
        Status.RINGING: {
            Status.ANSWERED, Status.NO_ANSWER, Status.BUSY, Status.FAILED, Status.CANCELED,
        },
        Status.ANSWERED: {Status.COMPLETED},
        Status.NO_ANSWER: set(),
        Status.BUSY: set(),
        Status.FAILED: set(),
        Status.CANCELED: set(),
        Status.COMPLETED: set(),
    }  # fmt: skip

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

    def move(self, status, kind, **detail):
        """The one door for an offer's status: checks MAY_GO_TO and writes a CallEvent
        of `kind` on the offer's call."""
        self.check_move(status)
        previous, self.status = self.status, status
        self.save(update_fields=["status", "updated_at"])
        CallEvent.objects.create(
            call_id=self.call_id,
            agent_id=self.agent_id,
            kind=kind,
            detail={"offer": self.pk, "previous": previous, **detail},
        )


# Derived from the pipelines above.
CALL_FINISHED = finals(SupportCall.MAY_GO_TO)
# A caller on hold in the conference: waiting for an agent, or one ringing.
CALL_HOLDING = frozenset({SupportCall.Status.WAITING, SupportCall.Status.RINGING_AGENT})
# An offer whose agent's phone still rings (the agent may still answer it).
OFFER_RINGING = frozenset(
    status for status, following in AgentOffer.MAY_GO_TO.items()
    if AgentOffer.Status.ANSWERED in following
)  # fmt: skip
# An offer that keeps its agent busy: not finished yet (ringing, or answered).
ACTIVE_OFFER_STATUSES = frozenset(AgentOffer.MAY_GO_TO) - finals(AgentOffer.MAY_GO_TO)


class CallEvent(models.Model):
    """Append-only history of a support call: menu choices, agents offered, outcomes."""

    class Kind(models.TextChoices):
        CALLED = "called", "Called the line"
        MENU = "menu", "Chose from the menu"
        SAID = "said", "Said (ordering by voice)"
        WAITING = "waiting", "On hold for an advisor"
        VOICEMAIL = "voicemail", "Sent to voicemail"
        VOICEMAIL_LEFT = "voicemail left", "Left a voicemail"
        RECORDED = "recorded", "Conversation recorded"
        OFFERED = "offered", "Agent rung"
        AGENT_RINGING = "agent ringing", "Agent's phone ringing"
        AGENT_ANSWERED = "agent answered", "Agent answered"
        AGENT_ANSWERED_TOO_LATE = "agent answered too late", "Agent answered too late"
        AGENT_DID_NOT_ANSWER = "agent did not answer", "Agent did not answer"
        AGENT_CALL_CANCELED = "agent call canceled", "Agent's ringing canceled"
        AGENT_HUNG_UP = "agent hung up", "Agent hung up"
        CONNECTED = "connected", "Connected to an agent"
        CALLBACK_REQUESTED = "callback requested", "Call-back started"
        CALLBACK_FROM_HOLD = "asked for a call-back", "Asked to be called back from the hold"
        CALLBACK_NOT_ANSWERED = "call-back not answered", "Agent did not answer the call-back"
        CUSTOMER_DID_NOT_ANSWER = "customer did not answer", "Customer did not answer"
        ABANDONED = "abandoned", "Caller hung up before an answer"
        MISSED_TEXTED = "missed call texted", "Texted: sorry we missed your call"
        MISSED_NOT_TEXTED = "missed call not texted", "Missed call, not texted"
        HUNG_UP = "hung up", "Hung up"
        CONFERENCE_ENDED = "conference ended", "Conversation ended"
        # Twilio's conference status callbacks (StatusCallbackEvent), as subscribed in
        # support/twiml.py; any other event is kept as "conference other".
        CONFERENCE_START = "conference conference-start", "Conference started"
        CONFERENCE_END = "conference conference-end", "Conference ended"
        PARTICIPANT_JOIN = "conference participant-join", "Joined the conference"
        PARTICIPANT_LEAVE = "conference participant-leave", "Left the conference"
        CONFERENCE_OTHER = "conference other", "Other conference event"

    call = models.ForeignKey(SupportCall, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, choices=Kind.choices)
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


class VoiceNotice(Pipeline, models.Model):
    """An outbound call that speaks a stored message (e.g. an order's status).

    Its status is the call's as Twilio reports it (CallStatus); it starts `queued`, or
    `failed` when the number may not be called."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        INITIATED = "initiated", "Initiated"
        RINGING = "ringing", "Ringing"
        IN_PROGRESS = "in-progress", "In progress"
        COMPLETED = "completed", "Completed"
        BUSY = "busy", "Busy"
        NO_ANSWER = "no-answer", "No answer"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    ENDINGS = frozenset(
        {Status.COMPLETED, Status.BUSY, Status.NO_ANSWER, Status.FAILED, Status.CANCELED}
    )
    # Twilio's status callbacks arrive out of order: a stage never follows a later one.
    MAY_GO_TO = {
        Status.QUEUED: {Status.INITIATED, Status.RINGING, Status.IN_PROGRESS, *ENDINGS},
        Status.INITIATED: {Status.RINGING, Status.IN_PROGRESS, *ENDINGS},
        Status.RINGING: {Status.IN_PROGRESS, *ENDINGS},
        Status.IN_PROGRESS: set(ENDINGS),
        **{ending: set() for ending in ENDINGS},
    }

    to_number = models.CharField(max_length=32)
    message = models.TextField()
    record = models.BooleanField(default=False)
    sid = models.CharField("CallSid", max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
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

    def move(self, status, error_message=None):
        """The one door for a notice's status: checks MAY_GO_TO. Notices keep no history
        beyond their status and the outbox's request row."""
        self.check_move(status)
        self.status = status
        fields = ["status", "updated_at"]
        if error_message is not None:
            self.error_message = error_message[:500]
            fields.append("error_message")
        self.save(update_fields=fields)
