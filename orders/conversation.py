"""The customer's SMS conversation: MENU, ORDER, YES, STATUS, CANCEL ORDER, HELP, and
anything else kept for staff. Every reply's wording is in templates/orders/sms/."""

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from telephony.numbers import is_withheld

from . import services
from .hours import clock, is_open, next_opening_words
from .models import Actor, Fulfilment, Quote
from .parser import parse
from .services import OrderError, line_text, money, render_sms

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
        sections = {"pizza": [], "side": [], "drink": []}
        for item in self.items:
            prices = sorted(item.prices.all(), key=lambda p: "SML".find(p.size or "S"))
            if not prices:
                continue
            if len(prices) > 1:
                amount = "$" + "/".join(money(p.price).lstrip("$") for p in prices)
            else:
                amount = money(prices[0].price)
            sections.setdefault(item.category, []).append(f"{item.code} {item.name} {amount}")
        return render_sms("menu", sections=sections)

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
        lines = [
            line_text(line["quantity"], line["name"], line["size"], line["unit_price"])
            for line in quote.lines
        ]
        return render_sms(
            template,
            lines=lines,
            total=money(quote.total),
            delivery=quote.fulfilment == Fulfilment.DELIVERY,
            address=quote.address,
            minutes=settings.ORDER_QUOTE_MINUTES,
            **context,
        )

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
        items = [line_text(i["quantity"], i["name"], i["size"]) for i in quote.lines]
        placed = render_sms(
            "placed",
            order=order,
            items=items,
            total=money(order.total),
            promised=clock(order.promised_at, self.now),
            delivery=order.fulfilment == Fulfilment.DELIVERY,
        )
        # settings.ORDER_PLACED_HOOKS may add a line (campaigns' one-time offer).
        hooks = [import_string(path) for path in getattr(settings, "ORDER_PLACED_HOOKS", ())]
        extra = [hook(order, self.message, command.language) for hook in hooks]
        return "\n".join([placed, *(line for line in extra if line)])

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
