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
    cursor = models.PositiveBigIntegerField(default=0, help_text="Last customer id queued")
    queued = models.PositiveIntegerField(default=0, help_text="Texts queued so far")
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
    """One customer a campaign was queued for; unique, so nobody gets a promotion twice."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey("orders.Customer", on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(
        "telephony.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="one_promotion_per_customer"
            )
        ]

    def __str__(self):
        return f"{self.campaign} → customer {self.customer_id}"
