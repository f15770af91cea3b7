"""Promotions: a text (and optional picture) sent once to every customer in an audience."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
}
# Twilio accepts up to 5 MB of media per MMS; carriers resize anything larger than they like.
MAX_IMAGE_BYTES = 5 * 1024 * 1024


def validate_image(upload):
    """JPEG, PNG or GIF by name and by its first bytes, at most 5 MB (no Pillow needed)."""
    suffix = Path(upload.name).suffix.lower()
    if suffix not in IMAGE_TYPES:
        raise ValidationError("Upload a JPEG, PNG or GIF picture.")
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationError("The picture is larger than 5 MB, the most an MMS may carry.")
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")):
        raise ValidationError("That file is not a JPEG, PNG or GIF picture.")


class Campaign(models.Model):
    """A promotion. Sending it queues one text per customer in the audience, in batches
    that resume from `cursor` (the last customer id queued)."""

    class Audience(models.TextChoices):
        ALL = "all", "Every customer who may be texted"
        RECENT = "recent", "Customers who ordered in the last N days"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        SENT = "sent", "All queued"

    name = models.CharField(max_length=100, help_text="For staff only; customers never see it.")
    body = models.TextField(
        "text",
        max_length=1500,
        help_text='"Reply STOP to opt out" is added at the end if the text does not say it.',
    )
    image = models.FileField(
        "picture (MMS)",
        upload_to="campaigns/",
        blank=True,
        validators=[validate_image],
        help_text="Optional JPEG, PNG or GIF up to 5 MB; sending it makes every text an MMS.",
    )
    deal = models.ForeignKey(
        "orders.Deal", null=True, blank=True, on_delete=models.PROTECT,
        help_text="The price the text promises, applied when customers text its code with "
        "their order. A text that states a price needs one.",
    )  # fmt: skip
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ALL)
    recent_days = models.PositiveSmallIntegerField(
        "N days", null=True, blank=True, help_text="For the 'ordered in the last N days' audience."
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    # Fixed when sending starts, so a resumed send reaches the same people.
    ordered_since = models.DateTimeField(null=True, blank=True)
    last_customer_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Customers who joined after the send started are left out."
    )
    cursor = models.PositiveBigIntegerField(default=0, help_text="Last customer id planned")
    planned = models.BooleanField(
        default=False, help_text="Every recipient has a row (CampaignRecipient), sent or waiting"
    )
    queued = models.PositiveIntegerField(default=0, help_text="Texts queued so far")
    # Pacing: the time the next text may leave, and when the sending loop runs next.
    next_slot_at = models.DateTimeField(null=True, blank=True)
    next_tick_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=300, blank=True)
    resumed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField("all queued at", null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "promotion"

    def __str__(self):
        return self.name

    def clean(self):
        if self.audience == self.Audience.RECENT and not self.recent_days:
            raise ValidationError({"recent_days": "Say how many days back to look for orders."})

    @property
    def is_draft(self):
        return self.state == self.State.DRAFT


class CampaignRecipient(models.Model):
    """One customer a campaign is for; unique, so nobody gets a promotion twice. Written
    when sending starts (with the customer's time zone); `message` is set when their text
    is queued, which waits for their quiet hours to end and for a free slot at SMS_MPS."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey("orders.Customer", on_delete=models.CASCADE, related_name="+")
    time_zone = models.CharField(max_length=255, blank=True)  # comma-joined (quiet.zones_for)
    message = models.OneToOneField(
        "telephony.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField("text due at", null=True, blank=True)
    skipped = models.CharField(
        max_length=100, blank=True, help_text="Why no text went after all (consent ended...)"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="one_promotion_per_customer"
            )
        ]
        indexes = [models.Index(fields=["customer", "sent_at"], name="recipient_by_customer")]

    def __str__(self):
        return f"{self.campaign} → customer {self.customer_id}"


class Consent(models.Model):
    """A customer's prior express consent to marketing texts: when and how it was given,
    the exact text they saw, and when and how it ended. Never edited but to end it; a
    customer who opts in again gets a new row, so the history is the proof a carrier
    asks for. Being a customer is not consent; STOP and NO DEALS end it."""

    class Source(models.TextChoices):
        KEYWORD = "keyword", "Texted a keyword"
        OFFER = "offer", "Answered the offer after an order"
        STAFF = "staff", "Recorded by staff"

    customer = models.ForeignKey("orders.Customer", on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=32, help_text="The number that gave it")
    given_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    how = models.CharField(
        max_length=100, help_text='The keyword texted, or where staff got it ("paper form")'
    )
    text_shown = models.TextField(help_text="The exact text the customer saw when agreeing")
    language = models.CharField(max_length=2, default="en")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "telephony.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_how = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(ended_at__isnull=True),
                name="one_active_consent_per_customer",
            )
        ]  # fmt: skip

    def __str__(self):
        return f"{self.phone}: {self.get_source_display()} ({self.how})"

    @property
    def active(self):
        return self.ended_at is None


class ConsentOffer(models.Model):
    """The one time a customer was asked, after an order, whether they want offers."""

    customer = models.OneToOneField("orders.Customer", on_delete=models.CASCADE, related_name="+")
    offered_at = models.DateTimeField()
    text = models.TextField()
    language = models.CharField(max_length=2, default="en")

    def __str__(self):
        return f"offer to customer {self.customer_id}"
