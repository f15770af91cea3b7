"""Staff screens of the support line: agents, calls, voicemails to call back, voice notices."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import format_html

from telephony.numbers import WITHHELD, is_withheld

from . import agents, callbacks, notices
from .models import Agent, AgentOffer, CallEvent, SupportCall, Voicemail, VoiceNotice


def _duration(value):
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def _link(url, text):
    return (
        format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, text) if url else "-"
    )


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = (
        "name", "phone", "on_shift", "priority", "is_active", "answered_today", "last_offered_at",
    )  # fmt: skip
    list_editable = ("on_shift", "priority")
    list_filter = ("on_shift", "is_active")
    search_fields = ("name", "=phone")
    autocomplete_fields = ("user",)
    readonly_fields = ("last_offered_at", "created_at")
    actions = ["put_on_shift", "take_off_shift"]

    def get_queryset(self, request):
        start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        return (
            super()
            .get_queryset(request)
            .annotate(_answered_today=Count("calls", filter=Q(calls__answered_at__gte=start)))
        )

    @admin.display(description="calls answered today", ordering="_answered_today")
    def answered_today(self, obj):
        return obj._answered_today

    @admin.action(description="Put on shift")
    def put_on_shift(self, request, queryset):
        changed = sum(agents.set_on_shift(agent, True) for agent in queryset)
        self.message_user(request, f"{changed} agent(s) put on shift.")

    @admin.action(description="Take off shift")
    def take_off_shift(self, request, queryset):
        changed = sum(agents.set_on_shift(agent, False) for agent in queryset)
        self.message_user(request, f"{changed} agent(s) taken off shift.")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OfferInline(ReadOnlyInline):
    model = AgentOffer
    fields = ("created_at", "agent", "status", "sid")
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = CallEvent
    fields = ("created_at", "kind", "agent", "detail")
    readonly_fields = fields


@admin.register(SupportCall)
class SupportCallAdmin(admin.ModelAdmin):
    list_display = (
        "started_at", "direction", "caller_number", "order_number", "status", "agent", "wait",
        "talk", "recording", "voicemail_link",
    )  # fmt: skip
    list_filter = ("status", "agent", "direction", "started_at")
    list_select_related = ("agent", "voicemail")
    search_fields = ("=caller_number", "=call_sid", "=order_number")
    date_hierarchy = "started_at"
    show_full_result_count = False
    inlines = [OfferInline, EventInline]
    readonly_fields = [f.name for f in SupportCall._meta.fields] + ["wait", "talk"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="wait")
    def wait(self, obj):
        return _duration(obj.wait_time)

    @admin.display(description="talk")
    def talk(self, obj):
        return _duration(obj.talk_time)

    @admin.display(description="recording")
    def recording(self, obj):
        return _link(obj.recording_url, "listen")

    @admin.display(description="voicemail")
    def voicemail_link(self, obj):
        voicemail = getattr(obj, "voicemail", None)
        return _link(voicemail.recording_url if voicemail else "", "voicemail")


class DoneFilter(admin.SimpleListFilter):
    title = "done"
    parameter_name = "done"

    def lookups(self, request, model_admin):
        return [("no", "To call back"), ("yes", "Done")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(done_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(done_at__isnull=False)
        return queryset


@admin.register(Voicemail)
class VoicemailAdmin(admin.ModelAdmin):
    list_display = (
        "created_at", "caller", "order", "duration", "recording", "short_transcript", "done_at",
        "done_by",
    )  # fmt: skip
    list_filter = (DoneFilter,)
    list_select_related = ("call", "done_by")
    search_fields = ("=call__caller_number", "transcript")
    readonly_fields = [f.name for f in Voicemail._meta.fields]
    actions = ["mark_done", "call_back"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="caller", ordering="call__caller_number")
    def caller(self, obj):
        number = obj.call.caller_number
        return WITHHELD if is_withheld(number) else number

    @admin.display(description="order")
    def order(self, obj):
        return obj.call.order_number or "-"

    @admin.display(description="recording")
    def recording(self, obj):
        return _link(obj.recording_url, "listen")

    @admin.display(description="transcript")
    def short_transcript(self, obj):
        return obj.transcript[:60] + ("…" if len(obj.transcript) > 60 else "")

    @admin.action(description="Mark done")
    def mark_done(self, request, queryset):
        count = callbacks.mark_voicemails_done(queryset, request.user)
        self.message_user(request, f"{count} voicemail(s) marked done.")

    @admin.action(description="Call back (rings your agent phone first)")
    def call_back(self, request, queryset):
        voicemails = list(queryset.select_related("call")[:2])
        if len(voicemails) != 1:
            self.message_user(request, "Choose one voicemail to call back.", messages.WARNING)
            return
        agent = Agent.objects.filter(user=request.user).first()
        try:
            callbacks.start_callback(voicemails[0], agent)
        except callbacks.CallbackError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(
            request, f"Ringing {agent.phone}: answer it and we will call the customer."
        )


@admin.register(VoiceNotice)
class VoiceNoticeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "to_number", "status", "short_message", "recording")
    list_filter = ("status",)
    list_select_related = ("content_type",)
    search_fields = ("=to_number",)
    readonly_fields = [f.name for f in VoiceNotice._meta.fields]
    exclude = ("content_type", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="message")
    def short_message(self, obj):
        return obj.message[:60]

    @admin.display(description="recording")
    def recording(self, obj):
        return _link(obj.recording_url, "listen")


# --- an action on orders' admin (settings.ORDER_ADMIN_ACTIONS; orders imports no support) --


def _order_phone(order):
    return str(order.customer.phone) if order.customer_id else None


@admin.action(
    description="Call the customer with the order's status", permissions=["call_customer"]
)
def call_customer_with_order_status(modeladmin, request, queryset):
    placed = 0
    for order in queryset.select_related("customer")[:20]:
        phone = _order_phone(order)
        number = getattr(order, "number", None)
        if phone and notices.call_customer_with_order_status(phone, number, about=order):
            placed += 1
    skipped = queryset.count() - placed
    modeladmin.message_user(request, f"Calling {placed} customer(s) with their order's status.")
    if skipped:
        modeladmin.message_user(
            request, f"{skipped} order(s) skipped: finished, or no phone number.", messages.WARNING
        )
