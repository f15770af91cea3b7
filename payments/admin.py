"""Staff's view of payments: refunds (and a partial one, with a reason), and every request we
made to Stripe and every event it sent, with what became of it."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect

from orders.errors import OrderError
from orders.models import Order

from . import services
from .models import Refund, StripeEvent, StripeRequest


class RefundForm(forms.ModelForm):
    """A refund of part (or all) of an order's payment: the order by its number."""

    number = forms.CharField(label="Order number", help_text="e.g. 1042")

    class Meta:
        model = Refund
        fields = ["amount", "reason"]
        help_texts = {"reason": "Kept with the order (the customer is texted the amount)."}

    def clean_number(self):
        order = Order.objects.by_number(self.cleaned_data["number"]).first()
        if order is None:
            raise forms.ValidationError("No such order.")
        return order

    def clean(self):
        data = super().clean()
        order, amount = data.get("number"), data.get("amount")
        if order is not None and amount:
            if not order.paid:
                raise forms.ValidationError(f"Order #{order.number} has not been paid.")
            left = services.refundable(order)
            if amount > left:
                raise forms.ValidationError(f"Order #{order.number} has {left} left to refund.")
        return data

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is None or amount <= Decimal("0"):
            raise forms.ValidationError("More than 0.")
        return amount


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ("order", "amount", "reason", "state", "by", "created_at", "done_at")
    list_filter = ("state",)
    list_select_related = ("order", "by")
    search_fields = ("reason", "stripe_id")
    readonly_fields = ("order", "state", "stripe_id", "by", "request", "created_at", "done_at")

    def has_add_permission(self, request):
        return request.user.has_perm("orders.refund_payment")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            return RefundForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["number", "amount", "reason"]
        return ["order", "amount", "reason", "state", "by", "stripe_id", "created_at", "done_at"]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields + ("amount", "reason")

    def save_model(self, request, obj, form, change):
        """Through payments.services.refund (the outbox, the customer's text), never a bare
        save. A refund the form let through but another took first is said, not made."""
        data = form.cleaned_data
        try:
            made = services.refund(data["number"], data["amount"], data["reason"], by=request.user)
        except OrderError as exc:
            self.message_user(request, f"Not refunded: {exc}", level=messages.ERROR)
            obj.order = data["number"]
            return
        obj.pk, obj.order, obj.state = made.pk, made.order, made.state

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            return redirect("admin:payments_refund_add")
        return super().response_add(request, obj, post_url_continue)

    def save_related(self, request, form, formsets, change):
        pass  # nothing related: the refund is made by save_model


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StripeRequest)
class StripeRequestAdmin(ReadOnly):
    list_display = ("id", "kind", "order", "status", "attempts", "error_message", "created_at")
    list_filter = ("status", "kind")
    list_select_related = ("order",)
    search_fields = ("sid", "idempotency_key")


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnly):
    list_display = ("event_id", "type", "outcome", "received_at")
    list_filter = ("type",)
    search_fields = ("event_id",)
