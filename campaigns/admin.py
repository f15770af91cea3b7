"""Promotions in the admin: write, preview, send, and follow a campaign's texts and what
it brought in; the consent history, recorded by staff and exported as CSV."""

import csv
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone

from orders.services import customer_for
from telephony.numbers import is_withheld, to_e164
from telephony.reach import reason_not_to_call
from telephony.segments import GSM7_BASIC, GSM7_EXTENDED

from . import consent, results, services
from .models import Campaign, Consent

RESULT_COLUMNS = ["campaign", "started", "texts sent", "delivered", "opt-outs", "orders", "revenue"]


def results_csv(rows, filename):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(RESULT_COLUMNS)
    for r in rows:
        started = timezone.localtime(r.campaign.started_at) if r.campaign.started_at else None
        writer.writerow([
            r.campaign.name, started.strftime("%Y-%m-%d %H:%M") if started else "",
            r.sent, r.delivered, r.opt_outs, r.orders, f"{r.revenue:.2f}",
        ])  # fmt: skip
    return response


# A price stated in a promotion's text: "$25", "25$", "25 dollars".
PRICE = re.compile(r"\$\s?\d+(?:[.,]\d{1,2})?|\b\d+(?:[.,]\d{1,2})?\s?(?:\$|dollars?\b)", re.I)


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "body", "image", "deal", "audience", "recent_days"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5, "cols": 60})}

    def clean_body(self):
        # Browsers send a textarea's line breaks as CRLF; a text counts each \r as a character.
        return self.cleaned_data["body"].replace("\r\n", "\n").strip()

    def clean(self):
        """A promotion may not promise a price the quote will not honour: a text that states
        one ("2 large pizzas for $25") carries a deal, and names its code."""
        cleaned = super().clean()
        body, deal = cleaned.get("body") or "", cleaned.get("deal")
        if deal is None and PRICE.search(body):
            self.add_error(
                "body",
                f"This text promises a price ({PRICE.search(body).group(0).strip()}) but carries "
                "no deal, so customers who text it would be quoted the menu price. Choose the "
                "deal (Orders > Deals) or take the price out.",
            )
        elif deal is not None and deal.code.upper() not in body.upper():
            self.add_error(
                "body",
                f"Name the deal's code in the text (e.g. ORDER 2 L PEP {deal.code}): customers "
                "get the deal's price when they text it with their order.",
            )
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    change_form_template = "admin/campaigns/campaign/change_form.html"
    list_display = ("name", "state", "audience_display", "queued", "started_at", "finished_at")
    list_filter = ("state",)
    search_fields = ("name", "body")
    actions = ["send_campaigns", "export_results"]
    fieldsets = [
        (None, {"fields": ["name", "body", "image", "deal"]}),
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
        return ["name", "body", "image", "deal", "audience", "recent_days", *self.sent_fields]

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
            f"“{campaign}” is being sent at {settings.SMS_MPS:g} texts a second, inside "
            "each recipient's daytime; the numbers below follow them.",
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
        done = results.progress(campaign)
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
                "paused": campaign.pause_reason,
                "waiting": [
                    {"zones": w.zones, "count": w.count, "until": w.until and w.until.isoformat()}
                    for w in services.waiting(campaign)
                ],
            }
        )

    @admin.action(description="Send (or resume) the selected promotions")
    def send_campaigns(self, request, queryset):
        for campaign in queryset:
            self._start(request, campaign)

    @admin.action(description="Download texts, opt-outs, orders and revenue (CSV)")
    def export_results(self, request, queryset):
        return results_csv(results.results(queryset.order_by("pk")), "promotions.csv")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The live counter in the page applies telephony.segments' rules to what is typed.
        context["segment_rules"] = {
            "basic": "".join(sorted(GSM7_BASIC)),
            "extended": "".join(sorted(GSM7_EXTENDED)),
            "footer": services.STOP_FOOTER,
            "saysStop": services.SAYS_STOP.pattern,
        }
        context["batch_size"] = services.BATCH_SIZE
        context["mps"] = f"{settings.SMS_MPS:g}"
        context["send_from"] = settings.CAMPAIGN_SEND_FROM
        context["send_until"] = settings.CAMPAIGN_SEND_UNTIL
        if obj is not None:
            context["campaign"], context["preview"] = obj, services.preview(obj)
            if not obj.is_draft:
                # Nothing to save on a campaign that went out: no save buttons to wonder about.
                context.update(
                    show_save=False, show_save_and_continue=False, show_save_and_add_another=False
                )
                done = context["progress"] = results.progress(obj)
                context["waiting"] = services.waiting(obj)
                context["results"] = results.results([obj])[0]
                context["attribution_hours"] = settings.CAMPAIGN_ATTRIBUTION_HOURS
                parts = ("delivered", "sent", "failed", "queued")
                context["bars"] = {part: done.percent(getattr(done, part)) for part in parts}
        return super().render_change_form(request, context, add, change, form_url, obj)


class StaffConsentForm(forms.ModelForm):
    """Consent staff took down: whose number, where, and the exact words the customer saw."""

    phone_number = forms.CharField(help_text="The customer's mobile number.")
    how = forms.CharField(
        label="where", help_text='Where the customer agreed: "paper form", "counter"...'
    )

    class Meta:
        model = Consent
        fields = ["how", "text_shown", "language"]
        widgets = {"text_shown": forms.Textarea(attrs={"rows": 4, "cols": 60})}
        help_texts = {"text_shown": "The exact words on the form or sign the customer agreed to."}

    def clean_phone_number(self):
        """A number the shop may text: not a hidden caller ID's stand-in (+266696687...),
        not premium-rate, in a country we serve (the rules of telephony.reach)."""
        raw = self.cleaned_data["phone_number"]
        if is_withheld(raw.strip()):
            raise ValidationError("That is a hidden caller ID, not a customer's number.")
        number = to_e164(raw)
        if not number:
            raise ValidationError("That is not a phone number.")
        if reason := reason_not_to_call(number):  # texts' rules, STOP aside: consent is kept
            raise ValidationError(f"The shop cannot text that number: {reason}.")
        return number


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """The consent history (the proof a carrier asks for): who agreed, when, how, to what
    words, and when and how it ended. Rows are never deleted or edited."""

    list_display = ("phone", "given_at", "source", "how", "ended_at", "ended_how", "recorded_by")
    list_filter = ("source", ("ended_at", admin.EmptyFieldListFilter))
    search_fields = ("phone",)
    date_hierarchy = "given_at"
    actions = ["export_csv", "end_selected"]
    readonly = ["customer", "phone", "given_at", "source", "how", "text_shown", "language",
                "recorded_by", "message", "ended_at", "ended_how"]  # fmt: skip

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = StaffConsentForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["phone_number", "how", "text_shown", "language"]
        return self.readonly

    def get_readonly_fields(self, request, obj=None):
        return self.readonly if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        customer = customer_for(form.cleaned_data["phone_number"])
        created, fresh = consent.give_consent(
            customer, source=Consent.Source.STAFF, how=obj.how, text_shown=obj.text_shown,
            language=obj.language, by=request.user,
        )  # fmt: skip
        obj.pk = created.pk
        if not fresh:
            self.message_user(
                request, f"{customer.phone} had already agreed; nothing new recorded.",
                level=messages.WARNING,
            )  # fmt: skip

    @admin.action(description="Export the selected consents (CSV)")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="consents.csv"'
        writer = csv.writer(response)
        writer.writerow(["phone", "given at", "source", "how", "text shown", "language",
                         "recorded by", "ended at", "ended how"])  # fmt: skip
        for c in queryset.select_related("recorded_by").order_by("phone", "given_at"):
            writer.writerow([
                c.phone, c.given_at.isoformat(), c.get_source_display(), c.how, c.text_shown,
                c.language, c.recorded_by.get_username() if c.recorded_by else "",
                c.ended_at.isoformat() if c.ended_at else "", c.ended_how,
            ])  # fmt: skip
        return response

    @admin.action(description="End the selected consents (the customer asked in person)")
    def end_selected(self, request, queryset):
        ended = queryset.filter(ended_at__isnull=True).update(
            ended_at=timezone.now(), ended_how=f"staff ({request.user.get_username()})"
        )
        self.message_user(request, f"{ended} consent(s) ended.")
