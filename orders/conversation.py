"""The customer's SMS conversation: MENU, ORDER, YES, STATUS, CANCEL ORDER, HELP, and
anything else kept for staff. Every reply's wording is in templates/orders/sms/."""

from django.conf import settings
from django.utils import timezone

from telephony.numbers import is_withheld

from . import services, texts
from .hours import clock, is_open, next_opening_words
from .models import Actor, Quote
from .parser import parse
from .services import OrderError
from .texts import render_sms

# Everything but ordering keeps working outside opening hours.
WORKS_WHEN_CLOSED = {"menu", "status", "cancel", "help", "no", "suggest", "chat"}


def handle_customer_sms(message):
    """Inbound SMS handler (settings.TELEPHONY_SMS_HANDLERS): the reply to a customer's text."""
    if not message.from_number or is_withheld(message.from_number):
        return None
    return Conversation(message).reply()


def keep_unanswered(message, reason):
    """settings.TELEPHONY_UNANSWERED_HANDLERS: a text we may not answer goes to staff."""
    if message.from_number and not is_withheld(message.from_number):
        services.keep_unanswered(message, services.customer_for(message.from_number), reason)


def note_opt_out(message, word):
    """settings.TELEPHONY_OPT_OUT_HANDLERS: a lone CANCEL with an order in progress is
    flagged for staff (services.flag_opt_out)."""
    services.flag_opt_out(message, word)


class Conversation:
    def __init__(self, message):
        self.message = message
        self.customer = services.customer_for(message.from_number)
        self.now = timezone.now()
        self._items = None

    @property
    def items(self):
        if self._items is None:
            self._items = services.menu()
        return self._items

    def entries(self):
        return services.menu_entries(self.items)

    def reply(self):
        command = parse(self.message.body, self.entries)
        if command.kind not in WORKS_WHEN_CLOSED and not is_open(self.now):
            return render_sms("closed", opens=next_opening_words(self.now))
        return getattr(self, f"on_{command.kind}")(command)

    # --- keywords ---------------------------------------------------------------------------

    def on_menu(self, command):
        return render_sms("menu", sections=texts.menu_sections(self.items))

    def on_help(self, command):
        return render_sms("help")

    def on_order(self, command):
        if command.too_many:
            return render_sms("too_many", names=command.too_many, most=25)
        if command.unknown:
            return render_sms("unknown_items", unknown=command.unknown)
        if command.address == "?":
            return render_sms("address_needed", saved=self.customer.address)
        try:
            quote = services.quote_order(
                self.customer, command.lines, self.items, address=command.address, now=self.now
            )
        except OrderError:
            return render_sms("unknown_items", unknown=[])
        return self._quote_reply("quote", quote)

    def on_reorder(self, command):
        quote, missing = services.quote_reorder(self.customer, self.items, now=self.now)
        if quote is None:
            return render_sms("howto", missing=missing)
        return self._quote_reply("reorder", quote, missing=missing)

    def _quote_reply(self, template, quote, **context):
        return render_sms(template, **texts.quote_context(quote), **context)

    def on_yes(self, command):
        quote = services.latest_quote(self.customer)
        if quote is None or quote.state in (Quote.State.REPLACED, Quote.State.DECLINED):
            return render_sms("nothing_pending")
        if quote.state == Quote.State.PLACED:
            return render_sms("already_placed", order=quote.order)
        try:
            order = services.place_order(quote, now=self.now)
        except OrderError:
            return render_sms("quote_expired", minutes=settings.ORDER_QUOTE_MINUTES)
        services.link_message(self.message, order)
        return render_sms("placed", **texts.placed_context(order, quote, self.now))

    def on_no(self, command):
        dropped = Quote.objects.filter(customer=self.customer, state=Quote.State.PENDING).update(
            state=Quote.State.DECLINED
        )
        return render_sms("declined" if dropped else "nothing_pending")

    def on_status(self, command):
        orders = list(services.active_orders(self.customer).order_by("-id")[:5])
        if not orders:
            return render_sms("no_orders")
        rows = [
            {"order": o, "promised": clock(o.promised_at, self.now), "stage": o.stage_words}
            for o in orders
        ]
        return render_sms("status", rows=rows)

    def on_cancel(self, command):
        order = services.active_orders(self.customer).order_by("-id").first()
        if order is None:
            dropped = Quote.objects.filter(
                customer=self.customer, state=Quote.State.PENDING
            ).update(state=Quote.State.DECLINED)
            return render_sms("declined" if dropped else "nothing_to_cancel")
        services.link_message(self.message, order)
        try:
            moved = services.cancel_order(order, by=Actor.CUSTOMER, notify=False)
        except OrderError:
            order.refresh_from_db()
            return render_sms("cannot_cancel", order=order)
        return render_sms("cancelled", order=moved.order)

    def on_suggest(self, command):
        return render_sms("did_you_mean", suggestion=command.suggestion)

    def on_chat(self, command):
        _, acknowledge = services.record_inquiry(self.message, self.customer)
        return render_sms("acknowledged") if acknowledge else ""
