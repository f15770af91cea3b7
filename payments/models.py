"""Stripe's side of payments: the requests we make (the outbox's rows for Stripe), the
refunds staff and cancellations ask for, and the events Stripe sends us."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class StripeRequest(models.Model):
    """One request to Stripe (make an order's payment page, close one, refund), queued in the
    asker's transaction and made by the telephony worker: Stripe's outbox, as
    telephony.ProviderRequest is Twilio's. Its `idempotency_key` makes any repeat (a retry, an
    attempt whose answer was lost) return what the first one made, never a second page or
    refund."""

    class Kind(models.TextChoices):
        CREATE_SESSION = "create_session", "Make a payment page"
        EXPIRE_SESSION = "expire_session", "Close a payment page"
        REFUND = "refund", "Refund"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        CLAIMED = "claimed", "Being made"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    params = models.JSONField("parameters", default=dict)
    idempotency_key = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    unclear_since = models.DateTimeField(null=True, blank=True)
    sid = models.CharField("Stripe id", max_length=255, blank=True, db_index=True)
    # What Stripe answered that we keep: a page's url and expiry, a refund's amount and state.
    result = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=60, null=True, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    claimed_by = models.ForeignKey(
        "telephony.WorkerProcess", null=True, blank=True, on_delete=models.SET_NULL,
        db_index=False, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When its asker (payments.services.request_finished) was told how it ended.
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                name="striperequest_pending",
                condition=Q(status__in=["queued", "claimed"]),
            ),
            models.Index(fields=["order", "kind", "-id"], name="striperequest_order"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for order {self.order_id}: {self.status}"

    @property
    def url(self):
        return self.result.get("url", "")


class Refund(models.Model):
    """Money given back for an order: in full when a paid order is cancelled, in part by
    staff with a reason (the admin), or found made in Stripe's dashboard (charge.refunded)."""

    class State(models.TextChoices):
        PENDING = "pending", "Being made"
        DONE = "done", "Refunded"
        FAILED = "failed", "Refused by Stripe"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    reason = models.CharField(max_length=200)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    request = models.OneToOneField(
        StripeRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="refund"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    stripe_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"Refund of {self.amount} for order #{self.order.number} ({self.state})"


class StripeEvent(models.Model):
    """An event Stripe sent to /stripe/webhook/, its signature checked: kept once by its id
    (a replay is acknowledged and not handled again), with what handling it did."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.type} {self.event_id}"
