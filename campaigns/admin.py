"""Promotions in the admin: write, preview, send, and follow a campaign's texts."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse

from telephony.segments import GSM7_BASIC, GSM7_EXTENDED

from . import services
from .models import Campaign


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "body", "image", "audience", "recent_days"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5, "cols": 60})}

    def clean_body(self):
        # Browsers send a textarea's line breaks as CRLF; a text counts each \r as a character.
        return self.cleaned_data["body"].replace("\r\n", "\n").strip()


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    change_form_template = "admin/campaigns/campaign/change_form.html"
    list_display = ("name", "state", "audience_display", "queued", "started_at", "finished_at")
    list_filter = ("state",)
    search_fields = ("name", "body")
    actions = ["send_campaigns"]
    fieldsets = [
        (None, {"fields": ["name", "body", "image"]}),
        ("Who gets it", {"fields": ["audience", "recent_days"]}),
    ]
    sent_fields = ["state", "started_at", "started_by", "finished_at"]

    def get_fieldsets(self, request, obj=None):
        if obj is None or obj.is_draft:
            return self.fieldsets
        return [*self.fieldsets, ("Sending", {"fields": self.sent_fields})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.is_draft:
            return ()
        return ["name", "body", "image", "audience", "recent_days", *self.sent_fields]

    @admin.display(description="audience")
    def audience_display(self, obj):
        if obj.audience == Campaign.Audience.RECENT:
            return f"ordered in the last {obj.recent_days} days"
        return "everyone"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.is_draft  # a sent campaign is part of the message history

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/send/",
                self.admin_site.admin_view(self.send_view),
                name="campaigns_campaign_send",
            ),
            path(
                "<path:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="campaigns_campaign_progress",
            ),
        ]
        return own + super().get_urls()

    def _campaign(self, request, object_id):
        campaign = self.get_object(request, object_id)
        if campaign is None or not self.has_view_permission(request, campaign):
            raise Http404("No such promotion.")
        return campaign

    def _start(self, request, campaign):
        try:
            services.start_campaign(campaign, by=request.user)
        except services.CampaignError as exc:
            self.message_user(request, f"“{campaign}” was not sent: {exc}", level=messages.ERROR)
            return False
        self.message_user(
            request,
            f"“{campaign}” is being sent: its texts are queued in batches of "
            f"{services.BATCH_SIZE}; the numbers below follow them.",
            level=messages.SUCCESS,
        )
        return True

    def send_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = self._campaign(request, object_id)
        if not self.has_change_permission(request, campaign):
            raise Http404("No such promotion.")
        self._start(request, campaign)
        return redirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    def progress_view(self, request, object_id):
        campaign = self._campaign(request, object_id)
        done = services.progress(campaign)
        return JsonResponse(
            {
                "state": campaign.get_state_display(),
                "sending": campaign.state == Campaign.State.SENDING or done.queued > 0,
                "total": done.total,
                "queued": done.queued,
                "sent": done.sent,
                "delivered": done.delivered,
                "failed": done.failed,
                "segments": done.segments,
            }
        )

    @admin.action(description="Send the selected promotions")
    def send_campaigns(self, request, queryset):
        for campaign in queryset:
            self._start(request, campaign)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The live counter in the page applies telephony.segments' rules to what is typed.
        context["segment_rules"] = {
            "basic": "".join(sorted(GSM7_BASIC)),
            "extended": "".join(sorted(GSM7_EXTENDED)),
            "footer": services.STOP_FOOTER,
            "saysStop": services.SAYS_STOP.pattern,
        }
        context["batch_size"] = services.BATCH_SIZE
        if obj is not None:
            context["campaign"], context["preview"] = obj, services.preview(obj)
            if not obj.is_draft:
                # Nothing to save on a campaign that went out: no save buttons to wonder about.
                context.update(
                    show_save=False, show_save_and_continue=False, show_save_and_add_another=False
                )
                done = context["progress"] = services.progress(obj)
                parts = ("delivered", "sent", "failed", "queued")
                context["bars"] = {part: done.percent(getattr(done, part)) for part in parts}
        return super().render_change_form(request, context, add, change, form_url, obj)
