from django.contrib import admin
from django.utils import timezone

from . import processes
from .models import Alert, Message, OptOut, ProviderRequest, WorkerProcess
from .paginators import CappedCountPaginator


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "created_at", "direction", "channel", "from_number", "to_number", "short_body", "status",
        "error_code", "num_segments",
    )  # fmt: skip
    list_filter = ("direction", "channel", "status", "created_at")
    search_fields = ("=from_number", "=to_number", "=sid", "body")
    list_select_related = ("content_type",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = [f.name for f in Message._meta.fields] + ["about_link"]
    exclude = ("content_type", "object_id")

    @admin.display(description="body")
    def short_body(self, obj):
        return obj.body[:60] + ("…" if len(obj.body) > 60 else "")

    @admin.display(description="about")
    def about_link(self, obj):
        return obj.about or "-"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        from .numbers import to_e164

        number = to_e164(search_term)
        if number:
            return queryset.with_number(number), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ("phone_number", "keyword", "created_at")
    search_fields = ("=phone_number",)
    readonly_fields = ("created_at",)


@admin.register(ProviderRequest)
class ProviderRequestAdmin(admin.ModelAdmin):
    """The outbox of voice requests, read-only like the message log: filter by `failed` to
    see what could not be rung, redirected or ended, and why."""

    list_display = (
        "created_at", "kind", "target", "status", "attempts", "error_code", "error_message", "sid",
    )  # fmt: skip
    list_filter = ("status", "kind", "created_at")
    search_fields = ("=sid", "error_message")
    list_select_related = ("content_type",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = [f.name for f in ProviderRequest._meta.fields] + ["about_link"]
    exclude = ("content_type", "object_id")

    @admin.display(description="about")
    def about_link(self, obj):
        return obj.about or "-"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkerProcess)
class WorkerProcessAdmin(admin.ModelAdmin):
    """The long-running processes and their last heartbeat (telephony/processes.py). A dead
    one stays listed until it starts again on its host; delete a row for a process retired
    for good."""

    list_display = ("role", "host", "pid", "started_at", "beat_at", "state")
    list_filter = ("role", "host")

    @admin.display(description="state")
    def state(self, obj):
        now = timezone.now()
        ago = round((now - obj.beat_at).total_seconds())
        if processes.is_dead(obj, now):
            return f"DEAD (last beat {ago} s ago)"
        return f"beating ({ago} s ago)"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Each spell of trouble the board showed and the owner was texted about."""

    list_display = ("started_at", "ended_at", "what", "texted_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
