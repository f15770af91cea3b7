"""The staff dashboard: orders (stage buttons, advance, delay), menu, customers, inquiries.

No admin view assigns `order.status`: every change goes through orders.services."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.timesince import timesince

from telephony.models import Message, OptOut
from telephony.numbers import mask
from telephony.paginators import CappedCountPaginator

from . import hours, payment, services, soldout, texts
from .hours import clock
from .models import (
    Crust,
    Customer,
    Deal,
    Driver,
    Inquiry,
    MenuItem,
    MenuPrice,
    Order,
    OrderEvent,
    OrderItem,
    ShopAnswer,
    ShopSettings,
    Status,
    Topping,
)


class ReadOnlyInline:
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MenuPriceInline(admin.TabularInline):
    model = MenuPrice
    extra = 0


class SoldOutActions:
    """'Sold out tonight' ("86", orders/soldout.py) and back, for the selected rows, and the
    list's column saying until when."""

    actions = ("mark_sold_out", "mark_back_on_sale")
    sold_out_kind = ""

    @admin.action(description="Mark sold out tonight (back by itself at the next opening)")
    def mark_sold_out(self, request, queryset):
        for row in queryset:
            soldout.mark(self.sold_out_kind, row.pk, True)
        self.message_user(request, f"{len(queryset)} marked sold out.", level=messages.SUCCESS)

    @admin.action(description="Mark back on sale")
    def mark_back_on_sale(self, request, queryset):
        for row in queryset:
            soldout.mark(self.sold_out_kind, row.pk, False)
        self.message_user(request, f"{len(queryset)} back on sale.", level=messages.SUCCESS)

    @admin.display(description="sold out until")
    def sold_out(self, obj):
        if obj.sold_out_until is None or obj.sold_out_until <= timezone.now():
            return "-"
        return clock(obj.sold_out_until)


@admin.register(MenuItem)
class MenuItemAdmin(SoldOutActions, admin.ModelAdmin):
    sold_out_kind = "item"
    list_display = (
        "code", "name", "category", "price_list", "available", "sold_out", "position",
    )  # fmt: skip
    list_editable = ("available", "position")
    list_filter = ("category", "available")
    search_fields = ("code", "name", "aliases")
    inlines = [MenuPriceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("prices")

    @admin.display(description="prices")
    def price_list(self, obj):
        return ", ".join(f"{p.size or 'one size'} {texts.money(p.price)}" for p in obj.prices.all())


class OrderItemInline(ReadOnlyInline, admin.TabularInline):
    model = OrderItem
    fields = ("quantity", "name", "size", "unit_price", "extras", "note")
    readonly_fields = fields

    @admin.display(description="toppings, crust, half")
    def extras(self, obj):
        return obj.extras or "-"


class OrderEventInline(ReadOnlyInline, admin.TabularInline):
    model = OrderEvent
    fields = (
        "created_at",
        "kind",
        "from_status",
        "to_status",
        "actor",
        "user",
        "reason",
        "notified",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class MessageInline(ReadOnlyInline, GenericTabularInline):
    model = Message
    ct_field, ct_fk_field = "content_type", "object_id"
    fields = ("created_at", "direction", "to_number", "body", "status", "error_message")
    readonly_fields = fields
    verbose_name_plural = "SMS log for this order"
    ordering = ("id",)


class DelayForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=240, initial=15)
    reason = forms.CharField(
        max_length=200, help_text="The customer reads this in the text, e.g. 'we are very busy'."
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=200, help_text="Kept with the order and sent to the customer in the text."
    )


OPTED_OUT_WARNING = (
    "The customer opted out after ordering: call before making (texts no longer reach them)."
)


class OrderAdmin(admin.ModelAdmin):
    change_form_template = "admin/orders/order/change_form.html"
    list_display = (
        "number_display", "customer_phone", "status", "fulfilment", "total", "payment_display",
        "promised_at", "age",
    )  # fmt: skip
    list_filter = ("status", "fulfilment", "created_at")
    search_fields = ("=customer__phone", "address")
    list_select_related = ("customer",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = (
        "number_display", "customer", "fulfilment", "status", "subtotal", "tax", "delivery_fee",
        "total", "start_at", "promised_at", "first_promised_at", "late_notices", "opted_out_at",
        "feedback_asked_at", "feedback_score", "feedback_comment", "created_at", "updated_at",
        "paid", "paid_by", "paid_at", "payment_reference", "refunded", "payment_flag",
        "payment_due_by",
    )  # fmt: skip
    fields = readonly_fields[:4] + ("address",) + readonly_fields[4:]
    inlines = [OrderItemInline, OrderEventInline, MessageInline]
    actions = ["advance_to_next_stage", "add_delay", "mark_paid_at_door", "clear_payment_flag"]

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        # And the actions other apps offer on orders (settings.ORDER_ADMIN_ACTIONS: the
        # support line's "call the customer"), so orders imports none of them.
        self.actions = [*self.actions, *map(import_string, settings.ORDER_ADMIN_ACTIONS)]

    def has_add_permission(self, request):
        return False  # orders come in by text

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: the history stays

    # Actions that reach a customer have permissions of their own, not orders' change: a
    # kitchen login moves orders, it does not text customers its own words or call them.
    def has_text_delay_permission(self, request):
        return request.user.has_perm("orders.text_delay")

    def has_call_customer_permission(self, request):
        return request.user.has_perm("orders.call_customer")

    # Customers' numbers follow the board's rule (staff/board/access.py): only for those
    # who may read messages (`telephony.view_message`); the kitchen sees them masked.
    def sees_numbers(self, request):
        return request.user.has_perm("telephony.view_message")

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if self.sees_numbers(request):
            return columns
        return [("customer_masked" if c == "customer_phone" else c) for c in columns]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self.sees_numbers(request):
            return fields
        return [("customer_masked" if f == "customer" else f) for f in fields]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if self.sees_numbers(request):
            return fields
        return [("customer_masked" if f == "customer" else f) for f in fields]

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        return fields if self.sees_numbers(request) else [f for f in fields if "phone" not in f]

    @admin.display(description="customer")
    def customer_masked(self, obj):
        return mask(str(obj.customer.phone))

    @admin.display(description="order", ordering="id")
    def number_display(self, obj):
        return f"#{obj.number}"

    @admin.display(description="customer", ordering="customer__phone")
    def customer_phone(self, obj):
        return str(obj.customer.phone)

    @admin.display(description="payment")
    def payment_display(self, obj):
        """paid / unpaid / refunded, as the board shows it; a flag says what needs a look."""
        state = obj.payment_state + (" at the door" if obj.paid_by == "door" else "")
        return f"⚠ {state}: {obj.payment_flag}" if obj.payment_flag else state

    def has_take_payment_permission(self, request):
        return request.user.has_perm("orders.take_payment")

    @admin.action(description="Mark paid at the door", permissions=["take_payment"])
    def mark_paid_at_door(self, request, queryset):
        for order in queryset:
            try:
                taken = payment.mark_paid_at_door(order, by=request.user)
            except services.OrderError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
            else:
                self.message_user(request, f"Order #{order.number}: {taken.order.paid} paid.")

    @admin.action(description="Clear the payment flag (checked)", permissions=["take_payment"])
    def clear_payment_flag(self, request, queryset):
        for order in queryset.exclude(payment_flag=""):
            payment.clear_flag(order, by=request.user)
            self.message_user(request, f"Order #{order.number}: payment flag cleared.")

    @admin.display(description="age", ordering="created_at")
    def age(self, obj):
        return timesince(obj.created_at, timezone.now()).split(",")[0]

    def get_search_results(self, request, queryset, search_term):
        from telephony.numbers import to_e164

        term = search_term.strip()
        if term.startswith("#") or (term.isascii() and term.isdigit() and len(term) <= 7):
            return queryset & Order.objects.by_number(term), False
        number = to_e164(term)
        if number and sum(c in "0123456789" for c in term) >= 7:
            if not self.sees_numbers(request):
                return queryset.none(), False  # no finding out whose number ordered
            return queryset.filter(customer__phone=number), False
        return super().get_search_results(request, queryset, search_term)

    # Stage buttons: one per move the state machine allows now (labels from its transitions),
    # each posting to move_view, which goes through the one door (orders.services).
    def get_urls(self):
        move = path(
            "<path:object_id>/move/<str:transition_name>/",
            self.admin_site.admin_view(self.move_view),
            name="orders_order_move",
        )
        return [move, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        moves = services.stage_moves(order) if order is not None else []
        if not self.has_change_permission(request, order):
            moves = []
        extra_context = {**(extra_context or {}), "stage_moves": moves}
        if order is not None and order.opted_out_at and request.method == "GET":
            messages.warning(request, OPTED_OUT_WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def move_view(self, request, object_id, transition_name):
        order = self.get_object(request, object_id)
        if order is None:
            raise Http404("No such order.")
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        target = services.transition_target(order, transition_name)
        if target is None:
            raise Http404("No such move.")
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        if request.method != "POST" and target != Status.CANCELLED:
            return redirect(change_url)
        form = CancelForm(request.POST if "reason" in request.POST else None)
        if target == Status.CANCELLED and not form.is_valid():
            return TemplateResponse(
                request,
                "admin/orders/order/cancel.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "original": order,
                    "form": form,
                    "title": f"Cancel order #{order.number}",
                },
            )
        reason = form.cleaned_data["reason"] if target == Status.CANCELLED else ""
        try:
            moved = services.advance_order(order, target, by=request.user, reason=reason)
        except services.OrderError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
        else:
            self.message_user(request, moved.describe(), level=messages.SUCCESS)
        return redirect(change_url)

    @admin.action(description="Advance to the next stage")
    def advance_to_next_stage(self, request, queryset):
        for order in queryset:
            to_status = services.next_status(order)
            if to_status is None:
                self.message_user(
                    request,
                    f"Order #{order.number} is {order.get_status_display()}: nothing comes next.",
                    level=messages.WARNING,
                )
                continue
            try:
                moved = services.advance_order(order, to_status, by=request.user)
            except services.OrderError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
            else:
                self.message_user(request, moved.describe(), level=messages.SUCCESS)

    @admin.action(
        description="Add a delay (texts the customer the new time)", permissions=["text_delay"]
    )
    def add_delay(self, request, queryset):
        form = DelayForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for order in queryset:
                try:
                    moved = services.delay_order(
                        order, form.cleaned_data["minutes"], form.cleaned_data["reason"],
                        by=request.user,
                    )  # fmt: skip
                except services.OrderError as exc:
                    self.message_user(request, str(exc), level=messages.ERROR)
                    continue
                texted = (
                    "the customer was texted" if moved.texted else "the customer was not texted"
                )
                self.message_user(
                    request,
                    f"Order #{order.number} now promised for "
                    f"{hours.clock(moved.order.promised_at)}; {texted}.",
                    level=messages.SUCCESS,
                )
            return None
        return TemplateResponse(
            request,
            "admin/orders/order/delay.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "orders": queryset,
                "form": form,
                "action": "add_delay",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "title": "Add a delay",
            },
        )


admin.site.register(Order, OrderAdmin)


class CustomerOrderInline(ReadOnlyInline, admin.TabularInline):
    model = Order
    fields = ("created_at", "status", "fulfilment", "total")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = "order history"


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("phone", "name", "opted_out", "order_count", "created_at", "language")
    list_filter = ("language",)
    search_fields = ("=phone", "name", "address")
    readonly_fields = ("opted_out", "created_at")
    inlines = [CustomerOrderInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                # A subquery per listed customer: a JOIN and GROUP BY counted every
                # customer's orders before the page was cut (0.3 s at a million orders).
                order_count=Coalesce(
                    Subquery(
                        Order.objects.filter(customer=OuterRef("pk"))
                        .order_by()
                        .values("customer")
                        .annotate(n=Count("pk"))
                        .values("n")
                    ),
                    0,
                ),
                is_opted_out=Exists(OptOut.objects.filter(phone_number=OuterRef("phone"))),
            )
        )

    @admin.display(boolean=True, description="opted out (STOP)", ordering="is_opted_out")
    def opted_out(self, obj):
        return obj.is_opted_out

    @admin.display(description="orders", ordering="order_count")
    def order_count(self, obj):
        return obj.order_count


class InquiryForm(forms.ModelForm):
    reply_text = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Texted to the customer on save; saving marks the message answered.",
    )

    class Meta:
        model = Inquiry
        fields = []


@admin.register(Inquiry)
class InquiryAdmin(admin.ModelAdmin):
    form = InquiryForm
    list_display = ("created_at", "customer", "text", "answered_at", "answered_by")
    list_filter = (("answered_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("=customer__phone", "message__body")
    list_select_related = ("customer", "message", "answered_by")
    readonly_fields = ("customer", "text", "created_at", "answered_at", "answered_by", "reply")
    actions = ["mark_answered"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="message")
    def text(self, obj):
        return obj.message.body

    def save_model(self, request, obj, form, change):
        services.answer_inquiry(obj, by=request.user, reply_text=form.cleaned_data["reply_text"])

    @admin.action(description="Mark answered (no text)")
    def mark_answered(self, request, queryset):
        for inquiry in queryset.filter(answered_at__isnull=True):
            services.answer_inquiry(inquiry, by=request.user)
        self.message_user(request, "Marked answered.", level=messages.SUCCESS)


@admin.register(Topping)
class ToppingAdmin(SoldOutActions, admin.ModelAdmin):
    sold_out_kind = "topping"
    list_display = (
        "code", "name", "aliases", "price_small", "price_medium", "price_large", "available",
        "sold_out", "position",
    )  # fmt: skip
    list_editable = ("price_small", "price_medium", "price_large", "available", "position")
    search_fields = ("code", "name", "aliases")


@admin.register(Crust)
class CrustAdmin(SoldOutActions, admin.ModelAdmin):
    sold_out_kind = "crust"
    list_display = (
        "code", "name", "aliases", "surcharge_small", "surcharge_medium", "surcharge_large",
        "available", "sold_out", "position",
    )  # fmt: skip
    list_editable = (
        "surcharge_small", "surcharge_medium", "surcharge_large", "available", "position",
    )  # fmt: skip
    search_fields = ("code", "name", "aliases")


@admin.register(ShopSettings)
class ShopSettingsAdmin(admin.ModelAdmin):
    """One row, edited in place: the list opens it. Each field's help says what an empty
    field uses (the environment's value); saving takes effect at once in every process
    (orders.shop), and the object's History lists each change with who made it."""

    fields = (
        "hours", "closed_dates", "tax_rate", "delivery_fee", "delivery_minimum",
        "delivery_zip_codes", "address", "updated_at",
    )  # fmt: skip
    readonly_fields = ("updated_at",)
    DEFAULTS = {
        "hours": "SHOP_HOURS", "tax_rate": "SHOP_TAX_RATE", "delivery_fee": "DELIVERY_FEE",
        "delivery_minimum": "DELIVERY_MINIMUM", "delivery_zip_codes": "DELIVERY_ZIP_CODES",
        "address": "SHOP_ADDRESS",
    }  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        ShopSettings.objects.get_or_create(pk=1)
        return redirect("admin:orders_shopsettings_change", 1)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        for name, setting in self.DEFAULTS.items():
            value = getattr(settings, setting)
            value = ", ".join(value) if isinstance(value, list | tuple) else value
            field = form.base_fields[name]
            field.help_text = f"{field.help_text} Empty: {value or '(none)'} ({setting}).".strip()
        return form


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = ("code", "description", "quantity", "size", "category", "price", "active")
    list_filter = ("active",)
    search_fields = ("code", "description")


@admin.register(ShopAnswer)
class ShopAnswerAdmin(admin.ModelAdmin):
    """Answers to what customers ask that the shop's data cannot answer (orders/questions.py):
    a text saying one of the keywords gets the answer instead of "we'll get back to you"."""

    list_display = ("question", "keywords", "keywords_es", "answer", "active", "position")
    list_editable = ("active", "position")
    search_fields = ("question", "keywords", "keywords_es", "answer", "answer_es")


@admin.register(Driver)
class DriverAdmin(admin.ModelAdmin):
    """Drivers picked on the board's cards when an order goes out (orders/drivers.py)."""

    list_display = ("name", "phone", "on_shift", "is_active")
    list_editable = ("on_shift", "is_active")
    search_fields = ("name", "phone")
