"""The customer's SMS conversation: MENU, ORDER, YES, STATUS, CANCEL ORDER, HELP, and
anything else kept for staff. Every reply's wording is in templates/orders/sms/."""

import re
from dataclasses import replace
from functools import cached_property
from types import SimpleNamespace

from django.conf import settings
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from telephony.numbers import is_withheld
from telephony.sms import MAX_BODY

from . import edits, feedback, questions, services, shop, texts
from .hours import clock, is_open, local, next_opening_words
from .models import Actor, Fulfilment, Order, Quote
from .parser import DELIVER_TO, MAX_QUANTITY, parse
from .services import OrderError, SoldOut

# What a text may be read as when it changes a waiting quote ("make it 2", "no drink").
MAY_CHANGE_A_QUOTE = {"chat", "suggest", "order", "reorder", "no"}
# Kinds a question is read over (orders/questions.py): "do you have gluten free crust?"
# parses as an order, "are you open?" as chat, "¿cuánto tardan?" as a status request.
QUESTIONS_OVER = {"chat", "suggest", "order", "help", "status"}
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
    """One turn of a customer's conversation: a text in, the reply out. The phone line holds
    the same conversation by voice (orders/phone.py: `channel` "voice", the replies' words
    fit to be heard); `outcome` says what the turn did, for the channel to go on from."""

    channel = "sms"

    def __init__(self, message):
        self.message = message
        self.customer = services.customer_for(message.from_number)
        self.now = timezone.now()
        self.outcome = ""  # "quoted", "placed", "asked" (we asked something back), or ""
        self.order = None  # the order this turn placed

    def render(self, name, **context):
        return texts.render(name, self.channel, **context)

    @cached_property
    def menu(self):
        """Read only for texts that need it (orders.menu.current: one query when unchanged)."""
        return services.menu()

    @property
    def items(self):
        return self.menu.items

    def entries(self):
        return self.menu.index

    def reply(self):
        command = parse(self.message.body, self.entries)
        if (scored := self._feedback(command)) is not None:
            return scored
        services.remember_language(self.customer, command.language_said)
        command = self._answer_to_our_question(command)
        with translation.override(self.customer.language):
            if (answered := self._question(command)) is not None:
                return answered
            if command.kind in MAY_CHANGE_A_QUOTE and (changed := self._change()) is not None:
                return changed
            return self._reply(command)

    def _feedback(self, command):
        """A score of 1 to 5 answering "How was your order?" (orders/feedback.py), or None.
        "2 large pepperoni" is an order, not a 2 (and costs no query to find out)."""
        if self.channel != "sms" or (command.kind == "order" and command.lines):
            return None
        score = feedback.read_score(self.message.body)
        if score is None:
            return None
        order = feedback.awaiting(self.customer, self.now)
        if order is None:
            return None
        feedback.take_score(order, *score, self.message)
        services.link_message(self.message, order)
        with translation.override(self.customer.language):
            return self.render("feedback_thanks", score=score[0], order=order)

    def _question(self, command):
        """A question answered from the shop's data, or by staff's list of answers
        (orders/questions.py), with a reminder of a quote still waiting for YES (left as
        it is); None when the text asks nothing we can answer so."""
        if command.kind not in QUESTIONS_OVER:
            return None
        found = questions.answer(self.message.body, lambda: self.menu, self.now, command)
        # Staff's answers before our "not on our menu" guess, and for any other chat.
        if (found is None and command.kind == "chat") or (
            found is not None and found.template == "answer_not_on_menu"
        ):
            found = questions.staff_answer(self.message.body, self.customer.language) or found
        if found is None:
            return None
        if command.kind == "status" and Order.objects.active().of(self.customer).exists():
            return None  # "how long?" with an order in progress asks about that order
        waiting = texts.waiting_context(services.pending_quote(self.customer, self.now))
        # In Spanish when the question is worded in Spanish (a new customer's "¿a qué hora
        # cierran?"), else in the customer's language.
        if found.spanish:
            with translation.override("es"):
                return self.render(found.template, waiting=waiting, **found.context)
        return self.render(found.template, waiting=waiting, **found.context)

    def _change(self):
        """A change in words to the quote waiting for YES (orders/edits.py): the whole new
        quote, or which line it is about; None when the text is no change to it."""
        waiting = services.pending_quote(self.customer, self.now)
        if waiting is None:
            return self._change_placed()
        change = edits.read(self.message.body, waiting, self.entries, self.menu.by_code)
        if change is None:
            return None
        if change.ask:
            self.outcome = "asked"
            return self.render("which_line", names=change.ask, first=change.ask[0].lower())
        address = change.address
        if address == "?":
            address = self.customer.address
            if not address:
                self.outcome = "asked"
                return self.render("address_for_change")
        try:
            quote = services.quote_order(
                self.customer, list(change.lines), self.menu, address=address, now=self.now,
                scheduled_for=change.when, deal=waiting.deal,
            )  # fmt: skip
        except OrderError as error:
            return self._cannot_quote(error)
        return self._quote_reply(
            "quote", quote, asked=change.when, refused=quote.deal_refused, left_out=change.gone
        )

    def _change_placed(self):
        """A change in words to the customer's latest order, once placed: made while the
        kitchen has not started it (received or being prepared: the board shows the new
        items, the customer gets the new total), else they are told to call."""
        order = Order.objects.active().of(self.customer).order_by("-id").first()
        if order is None:
            return None
        placed = SimpleNamespace(
            lines=services.order_lines(order),
            address=order.address if order.fulfilment == Fulfilment.DELIVERY else "",
            scheduled_for=None,
        )
        change = edits.read(self.message.body, placed, self.entries, self.menu.by_code)
        if change is None or change.gone:
            return None  # nothing to change, or it would drop what has left the menu since
        services.link_message(self.message, order)
        if change.ask:
            self.outcome = "asked"
            return self.render("which_line", names=change.ask, first=change.ask[0].lower())
        address = self.customer.address if change.address == "?" else change.address
        try:
            order = services.change_order(order, list(change.lines), self.menu, address, self.now)
        except (services.OutsideDeliveryArea, services.BelowDeliveryMinimum, SoldOut) as error:
            return self._cannot_quote(error)
        except OrderError:
            order.refresh_from_db()
            return self.render("too_late_to_change", order=order)
        items = [texts.line_words(item) for item in order.items.all()]
        return self.render(
            "order_changed", order=order, lines=items, total=texts.money(order.total)
        )

    def _answer_to_our_question(self, command):
        """What we just asked for is the first reading of the next text: after "Where should
        we deliver?", a text that looks like an address (a number and a word) and is no
        command of its own is that address, for the order we asked it for. Any other text
        but MENU, STATUS and HELP drops the question."""
        asked = services.question_asked(self.customer, self.now)
        if asked is None or command.kind in ("menu", "status", "help"):
            return command
        services.forget_question(self.customer)
        body = self.message.body or ""
        if asked["what"] != "address":
            return command
        if command.kind == "order" and not command.lines and command.address not in ("", "?"):
            address = command.address
        elif command.kind in ("chat", "suggest", "order") and not command.lines:
            said = DELIVER_TO.search(body)  # "deliver to 7 Elm Road": the address after it
            address = " ".join((said["address"] if said else body).split()).strip(" .,!;:-")[:200]
            if not (re.search(r"\d", address) and re.search(r"[^\W\d_]{2}", address)):
                return command
        else:
            return command
        ordered = parse(asked["text"], self.entries)
        if ordered.kind != "order" or ordered.address != "?":
            return command
        return replace(ordered, address=address, language_said="")

    def _reply(self, command):
        # Ordering ahead with a time ("1 L PEP at 7pm") works while closed, and so does the
        # YES to a quote for a time when we are open (what the quote promised).
        ahead = command.kind in ("order", "reorder") and command.scheduled_for is not None
        if command.kind == "yes" and not is_open(self.now):
            waiting = services.pending_quote(self.customer, self.now)
            ahead = waiting is not None and waiting.scheduled_for is not None
        if command.kind not in WORKS_WHEN_CLOSED and not ahead and not is_open(self.now):
            return self.render("closed", opens=next_opening_words(self.now))
        if command.kind in ("order", "reorder", "yes") and (paused := self._paused(command)):
            self.outcome = "asked"
            return self.render("paused", until=clock(paused, self.now))
        return getattr(self, f"on_{command.kind}")(command)

    def _paused(self, command):
        """When new orders are taken again, if staff paused them (the board) and this one is
        not for a time after that: an order with a time, or YES to a quote for one, is."""
        paused = shop.paused_until(self.now)
        if paused is None:
            return None
        if command.kind == "yes":
            waiting = services.pending_quote(self.customer, self.now)
            later = waiting is not None and waiting.scheduled_for is not None
            return None if later and waiting.scheduled_for >= paused else paused
        if command.scheduled_for is not None:
            at = command.scheduled_for
            wanted = local(self.now).replace(hour=at.hour, minute=at.minute, second=0)
            return None if wanted >= paused else paused
        return paused

    # --- keywords ---------------------------------------------------------------------------

    def on_menu(self, command):
        return self.render(
            "menu", sections=self.menu.sections, sold_out=self.menu.sold_out(self.now)
        )

    def on_help(self, command):
        return self.render("help")

    def on_order(self, command):
        """Quote the order, or say what stops us, in this order: sizes we do not make, too
        many of one item, items not on the menu, a phrase that fits several items, a delivery
        without an address. Every such reply also says what happened to a quote still waiting
        for YES (it still waits: YES places exactly what that earlier quote showed)."""
        if command.unsupported_sizes:
            return self.refuse("sizes_we_make", **self._sizes(command))
        if command.too_many:
            return self.refuse("too_many", names=command.too_many, most=MAX_QUANTITY)
        deal, unknown = None, command.unknown
        for word in command.unknown:
            if found := self.menu.deal_for(word):
                deal, unknown = found, tuple(w for w in unknown if w != word)
        command = replace(command, unknown=unknown)
        if command.unknown and not command.lines:
            return self.refuse("unknown_items", unknown=command.unknown)
        if len(command.lines) > settings.ORDER_MAX_LINES:
            count, most = len(command.lines), settings.ORDER_MAX_LINES
            return self.refuse("too_many_lines", count=count, most=most)
        if command.ambiguous:
            return self.refuse("which_one", **self._choices(command.ambiguous[0]))
        if command.address == "?":
            services.ask_question(self.customer, "address", self.message.body, self.now)
            return self.refuse("address_needed", saved=self.customer.address)
        try:
            quote = services.quote_order(
                self.customer, command.lines, self.menu, address=command.address,
                now=self.now, scheduled_for=command.scheduled_for, deal=deal,
            )  # fmt: skip
        except OrderError as error:
            return self._cannot_quote(error)
        # What is clear is quoted; what we could not read is named, not a reason to refuse all.
        return self._quote_reply(
            "quote", quote, asked=command.scheduled_for, left_out=command.unknown,
            refused=quote.deal_refused,
        )  # fmt: skip

    def refuse(self, template, **context):
        """An ORDER we could not quote: the reply, reminding of a quote still waiting."""
        waiting = texts.waiting_context(services.pending_quote(self.customer, self.now))
        self.outcome = "asked"
        return self.render(template, waiting=waiting, **context)

    def _cannot_quote(self, error):
        if isinstance(error, SoldOut):
            return self.refuse("sold_out", out=error.out, instead=error.instead)
        if isinstance(error, services.OutsideDeliveryArea):
            zips = shop.zip_codes()
            return self.refuse("outside_area", zip=error.zip_code, zips=zips)
        if isinstance(error, services.BelowDeliveryMinimum):
            return self.refuse(
                "below_minimum",
                minimum=texts.money(shop.delivery_minimum()),
                subtotal=texts.money(error.subtotal),
            )
        return self.refuse("unknown_items", unknown=[])

    def _sizes(self, command):
        by_code = self.menu.by_code
        lines = [line for line in command.lines if line.code in by_code]
        sized = [line for line in lines if line.code in command.unsized] or lines
        first = sized[0] if sized else None
        return {
            "sizes": command.unsupported_sizes,
            "items": [
                {"code": i.code, "name": i.name, "prices": texts.size_prices(i)}
                for i in (by_code[line.code] for line in sized)
            ],
            "example": texts.order_example(
                first.quantity if first else 1, "L", first.code if first else self._a_pizza()
            ),
        }

    def _a_pizza(self):
        pizzas = [i.code for i in self.items if i.category == "pizza"]
        return pizzas[0] if pizzas else ""

    def _choices(self, choice):
        by_code = self.menu.by_code
        items = [by_code[code] for code in choice.options if code in by_code]
        size = choice.line.size
        first = items[0] if items else None
        sized = first is not None and any(first.prices)
        return {
            "phrase": choice.phrase,
            "options": [
                {"code": i.code, "name": i.name, "price": texts.size_price(i, size)} for i in items
            ],
            "example": texts.order_example(
                choice.line.quantity, size if sized else "", first.code if first else ""
            ),
        }

    def on_reorder(self, command):
        try:
            quote, missing = services.quote_reorder(
                self.customer, self.menu, now=self.now, scheduled_for=command.scheduled_for
            )
        except OrderError as error:
            return self._cannot_quote(error)
        if quote is None:
            return self.render("howto", missing=missing)
        return self._quote_reply("reorder", quote, missing=missing, asked=command.scheduled_for)

    def _quote_reply(self, template, quote, asked=None, **context):
        """The quote as the customer reads it. One that does not fit a text (MAX_BODY) is
        withdrawn: YES places only what the customer was shown in full, total and all."""
        context.update(texts.quote_context(quote, asked, self.now))
        if self.channel == "voice":
            context["spoken"] = [texts.spoken_line(line) for line in quote.lines]
            context["total_words"] = texts.spoken_money(quote.total)
        text = self.render(template, **context)
        if len(text) >= MAX_BODY:
            services.withdraw_quote(quote)
            return self.refuse("quote_too_long")
        self.outcome = "quoted"
        return text

    def on_yes(self, command):
        quote = services.latest_quote(self.customer)
        if quote is None or quote.state in (Quote.State.REPLACED, Quote.State.DECLINED):
            return self.render("nothing_pending")
        if quote.state == Quote.State.PLACED:
            return self.render("already_placed", order=quote.order)
        try:
            order = services.place_order(quote, now=self.now)
        except SoldOut as error:  # since it was quoted: withdrawn, nothing waits now
            self.outcome = "asked"
            return self.render("sold_out", out=error.out, instead=error.instead, since=True)
        except OrderError:
            return self.render("quote_expired", minutes=settings.ORDER_QUOTE_MINUTES)
        services.link_message(self.message, order)
        self.outcome, self.order = "placed", order
        placed = self.render("placed", **texts.placed_context(order, quote, self.now))
        # settings.ORDER_PLACED_HOOKS may add a line (campaigns' one-time offer).
        hooks = [import_string(path) for path in getattr(settings, "ORDER_PLACED_HOOKS", ())]
        extra = [hook(order, self.message, self.customer.language) for hook in hooks]
        return "\n".join([placed, *(line for line in extra if line)])

    def on_no(self, command):
        dropped = Quote.objects.filter(customer=self.customer, state=Quote.State.PENDING).update(
            state=Quote.State.DECLINED
        )
        return self.render("declined" if dropped else "nothing_pending")

    def on_status(self, command):
        orders = services.latest_active_orders(self.customer, 5)
        if not orders:
            return self.render("no_orders")
        return self.render("status", rows=texts.status_rows(orders, self.now))

    def on_cancel(self, command):
        order = Order.objects.active().of(self.customer).order_by("-id").first()
        if order is None:
            dropped = Quote.objects.filter(
                customer=self.customer, state=Quote.State.PENDING
            ).update(state=Quote.State.DECLINED)
            return self.render("declined" if dropped else "nothing_to_cancel")
        services.link_message(self.message, order)
        try:
            moved = services.cancel_order(order, by=Actor.CUSTOMER, notify=False)
        except OrderError:
            order.refresh_from_db()
            return self.render("cannot_cancel", order=order)
        paid = moved.order.paid > moved.order.refunded
        return self.render(
            "cancelled", order=moved.order, paid=texts.money(moved.order.paid) if paid else ""
        )

    def on_suggest(self, command):
        return self.render("did_you_mean", suggestion=command.suggestion)

    def on_chat(self, command):
        """Free text goes to staff. Never silence: the first gets the acknowledgement, more
        while it waits a short "added to your message"; a customer with an order in progress
        gets its status with either (what they most often ask)."""
        _, first = services.record_inquiry(self.message, self.customer)
        orders = services.latest_active_orders(self.customer, 3)
        if orders:
            rows = texts.status_rows(orders, self.now)
            return self.render("chat_with_order", rows=rows, again=not first)
        return self.render("acknowledged" if first else "acknowledged_again")
