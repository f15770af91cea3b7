"""Menu, customers, quotes, orders with their status state machine and history, inquiries."""

import re
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from phonenumber_field.modelfields import PhoneNumberField

ORDER_NUMBER_OFFSET = 1000  # order 1 is "#1001": a short number that does not look like the first


class MenuItem(models.Model):
    class Category(models.TextChoices):
        PIZZA = "pizza", "Pizza"
        SIDE = "side", "Side"
        DRINK = "drink", "Drink"

    code = models.CharField(max_length=8, unique=True, help_text="What customers text, e.g. PEP")
    name = models.CharField(max_length=60)
    category = models.CharField(max_length=10, choices=Category.choices)
    aliases = models.CharField(
        max_length=200, blank=True, help_text="Other names customers use, comma-separated"
    )
    available = models.BooleanField(default=True)
    sold_out_until = models.DateTimeField(
        null=True, blank=True, help_text="Sold out tonight ('86'): back by itself at this time"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def alias_list(self):
        return tuple(a.strip() for a in self.aliases.split(",") if a.strip())

    def clean(self):
        _refuse_shared_names(self)


def _refuse_shared_names(instance):
    """A name, code or alias another row already answers to is an error (orders.names)."""
    from .names import conflicts

    if found := conflicts(instance):
        raise ValidationError({"aliases": found})


class Size(models.TextChoices):
    NONE = "", pgettext_lazy("size", "One size")
    SMALL = "S", pgettext_lazy("size", "Small")
    MEDIUM = "M", pgettext_lazy("size", "Medium")
    LARGE = "L", pgettext_lazy("size", "Large")


class MenuPrice(models.Model):
    """The price of one size of a menu item (size "" for items that come in one size)."""

    item = models.ForeignKey(MenuItem, on_delete=models.CASCADE, related_name="prices")
    size = models.CharField(max_length=1, choices=Size.choices, blank=True)
    price = models.DecimalField(max_digits=7, decimal_places=2)

    class Meta:
        ordering = ["price"]
        constraints = [models.UniqueConstraint(fields=["item", "size"], name="one_price_per_size")]

    def __str__(self):
        return f"{self.item.code} {self.size or '-'} {self.price}"


def languages():
    """settings.LANGUAGES, read when asked: a new language needs no migration."""
    return settings.LANGUAGES


class Customer(models.Model):
    phone = PhoneNumberField(unique=True)
    name = models.CharField(max_length=80, blank=True)
    address = models.CharField("delivery address", max_length=200, blank=True)
    language = models.CharField(
        max_length=8,
        choices=languages,
        default="en",
        help_text="The language of every text, call prompt and page the customer gets. Set "
        "from their texts when a text clearly says which (orders.services.remember_language).",
    )
    # What we just asked them (orders.services.ask_question): {"what", "text", "at"} or {}.
    asked = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.name} ({self.phone})" if self.name else str(self.phone)


class Fulfilment(models.TextChoices):
    PICKUP = "pickup", "Pickup"
    DELIVERY = "delivery", "Delivery"


class Deal(models.Model):
    """A price a promotion promises ("2 large pizzas for $25"), applied by a quote when the
    customer texts its code with the order ("2 L PEP 2FOR25"): the `quantity` dearest units
    of the matching pizzas (category, and size when given) cost `price` together. Limits:
    the dates it runs, and how many orders each customer may place with it."""

    code = models.CharField(
        max_length=20, unique=True,
        help_text="What customers text with their order, one word of letters and digits: 2FOR25",
    )  # fmt: skip
    description = models.CharField(max_length=100, help_text="e.g. 2 large pizzas for $25")
    category = models.CharField(max_length=10, choices=MenuItem.Category.choices, default="pizza")
    size = models.CharField(max_length=1, choices=Size.choices, blank=True)
    quantity = models.PositiveSmallIntegerField(default=1)
    price = models.DecimalField(max_digits=7, decimal_places=2)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    uses_per_customer = models.PositiveSmallIntegerField(
        default=1, help_text="Orders each customer may place with it (0: no limit)"
    )
    active = models.BooleanField(default=True)

    def __str__(self):
        return f"{self.code}: {self.description}"

    def clean(self):
        if not re.fullmatch(r"[A-Za-z0-9]{3,20}", self.code or ""):
            raise ValidationError({"code": "One word of 3 to 20 letters and digits, e.g. 2FOR25."})
        self.code = self.code.upper()
        if self.quantity < 1:
            raise ValidationError({"quantity": "At least 1."})


class Quote(models.Model):
    """A priced order waiting for the customer's YES. `lines` is a list of
    {"item_id", "code", "name", "size", "quantity", "unit_price", "modifiers", "note",
    "assumed_size"} with prices as strings. YES places exactly this."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for YES"
        PLACED = "placed", "Placed"
        REPLACED = "replaced", "Replaced"
        DECLINED = "declined", "Declined"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="quotes")
    lines = models.JSONField(default=list)
    # The money, as the customer was quoted it: total = subtotal + tax + delivery_fee.
    subtotal = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    tax = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    delivery_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=8, decimal_places=2)
    # A time the customer asked for ("for pickup at 7pm"), moved into opening hours; None: asap.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    # A promotion's deal the customer texted (Deal), and what it took off the food.
    deal = models.ForeignKey("Deal", null=True, blank=True, on_delete=models.SET_NULL)
    discount = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    fulfilment = models.CharField(max_length=10, choices=Fulfilment.choices)
    address = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    order = models.OneToOneField(
        "Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="quote"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["customer", "state", "-id"], name="quote_pending")]

    def __str__(self):
        return f"Quote {self.pk} for {self.customer} ({self.state})"


class Status(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    RECEIVED = "received", "Received"
    PREPARING = "preparing", "Preparing"
    BAKING = "baking", "Baking"
    QUALITY_CHECK = "quality_check", "Quality check"
    READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
    PICKED_UP = "picked_up", "Picked up"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


S = Status
# The stages no move leaves (the end of each path below, and cancelled; a test checks it
# against the transitions); every other stage is active. Other lists of stages are made
# from these, the transitions and PATHS, never written out again.
FINISHED = (S.PICKED_UP, S.DELIVERED, S.CANCELLED)
ACTIVE = tuple(s for s in S.values if s not in FINISHED)
# Waiting to be paid before the kitchen sees it (PAYMENT_REQUIRED_ABOVE, orders/payment.py):
# active, but on no path (each starts at received; a test checks these are the active
# stages no path has), so on no board column and late against no promise.
BEFORE_KITCHEN = (S.AWAITING_PAYMENT,)
CUSTOMER_MAY_CANCEL = (S.AWAITING_PAYMENT, S.RECEIVED, S.PREPARING)
# Reaching one of these keeps the promised time: ready to pick up, or at the door.
PROMISE_MET = (S.READY_FOR_PICKUP, S.DELIVERED)
# Still being made or on its way: the promised time means something for these.
IN_PROGRESS = tuple(s for s in ACTIVE if s not in PROMISE_MET + BEFORE_KITCHEN)
# What a customer reads in STATUS: "#1042 (pickup): in the oven, ready about 7:45 PM".
STAGE_WORDS = {
    S.AWAITING_PAYMENT: pgettext_lazy("stage", "waiting for payment"),
    S.RECEIVED: pgettext_lazy("stage", "in the queue"),
    S.PREPARING: pgettext_lazy("stage", "being prepared"),
    S.BAKING: pgettext_lazy("stage", "in the oven"),
    S.QUALITY_CHECK: pgettext_lazy("stage", "getting a final check"),
    S.READY_FOR_PICKUP: pgettext_lazy("stage", "ready for pickup"),
    S.PICKED_UP: pgettext_lazy("stage", "picked up"),
    S.OUT_FOR_DELIVERY: pgettext_lazy("stage", "out for delivery"),
    S.DELIVERED: pgettext_lazy("stage", "delivered"),
    S.CANCELLED: pgettext_lazy("stage", "cancelled"),
}

# Short words for a stage: the order page's progress bar, the board's shared column.
STEP_LABELS = {
    S.AWAITING_PAYMENT: pgettext_lazy("step", "To pay"),
    S.RECEIVED: pgettext_lazy("step", "Order in"),
    S.PREPARING: pgettext_lazy("step", "Preparing"),
    S.BAKING: pgettext_lazy("step", "In the oven"),
    S.QUALITY_CHECK: pgettext_lazy("step", "Final check"),
    S.READY_FOR_PICKUP: pgettext_lazy("step", "Ready"),
    S.PICKED_UP: pgettext_lazy("step", "Picked up"),
    S.OUT_FOR_DELIVERY: pgettext_lazy("step", "On its way"),
    S.DELIVERED: pgettext_lazy("step", "Delivered"),
}


def _is_pickup(order):
    return order.fulfilment == Fulfilment.PICKUP


def _is_delivery(order):
    return order.fulfilment == Fulfilment.DELIVERY


class OrderQuerySet(models.QuerySet):
    def active(self):
        """Orders not finished (ACTIVE)."""
        return self.filter(status__in=ACTIVE)

    def last_kept(self):
        """The newest order that was not cancelled (the one "the usual" repeats), or None."""
        return self.exclude(status=S.CANCELLED).order_by("-id").first()

    def of(self, customer_or_phone):
        """A customer's orders: by the Customer, or by their number (E.164)."""
        if isinstance(customer_or_phone, Customer):
            return self.filter(customer=customer_or_phone)
        return self.filter(customer__phone=customer_or_phone)

    def by_number(self, number):
        """The order a customer calls `#1042` (or `1042`), or an empty queryset."""
        digits = "".join(ch for ch in str(number) if ch in "0123456789")[:12]
        if not digits or int(digits) <= ORDER_NUMBER_OFFSET:
            return self.none()
        return self.filter(pk=int(digits) - ORDER_NUMBER_OFFSET)


def new_order_token():
    """The random part of an order's page address (/o/<token>/): 128 bits, URL-safe."""
    return secrets.token_urlsafe(16)


class Driver(models.Model):
    """Someone who delivers orders: picked on the board when an order goes out, texted its
    details, and texts DONE 1042 from this phone when it is delivered (orders/drivers.py)."""

    name = models.CharField(max_length=100)
    phone = models.CharField("phone (E.164)", max_length=32, unique=True)
    is_active = models.BooleanField("active", default=True)
    on_shift = models.BooleanField(default=True, help_text="Offered on the board's cards")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Order(ConcurrentTransitionMixin, models.Model):
    """A placed order. Its status only changes through orders.services (advance_order,
    cancel_order), which lock the row and write an OrderEvent in the same transaction."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    fulfilment = models.CharField(max_length=10, choices=Fulfilment.choices)
    address = models.CharField("delivery address", max_length=200, blank=True)
    status = FSMField(choices=Status.choices, default=Status.RECEIVED, protected=True)
    # The money, as the customer was quoted it: total = subtotal + tax + delivery_fee.
    subtotal = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    tax = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    delivery_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    deal = models.ForeignKey("Deal", null=True, blank=True, on_delete=models.SET_NULL)
    discount = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("0"), help_text="What the deal took off"
    )
    promised_at = models.DateTimeField("promised time", null=True, blank=True)
    # What the confirmation promised: lateness is measured against it, whatever new
    # estimate the customer was given since (promised_at).
    first_promised_at = models.DateTimeField("first promised time", null=True, blank=True)
    # Scheduled orders ("deliver at 6:30"): when the kitchen should start it; None: at once.
    start_at = models.DateTimeField("kitchen starts", null=True, blank=True)
    opted_out_at = models.DateTimeField(
        "customer opted out of texts",
        null=True,
        blank=True,
        help_text="The customer texted STOP or CANCEL (an opt-out word) while this order was in "
        "progress: they get no more texts, and may have meant to cancel. Call before making.",
    )
    driver = models.ForeignKey(
        Driver, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    late_notices = models.PositiveSmallIntegerField(
        default=0, help_text="How many times the customer was texted a new estimate"
    )
    # Money taken (orders/payment.py): by card through the payment link (payments/) or at
    # the door, and refunded since; `payment_flag` says why a payment was not accepted.
    # `payment_due_by`: an order awaiting payment is cancelled then, reminded once before.
    paid = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    paid_by = models.CharField(
        max_length=10,
        blank=True,
        choices=[("card", "Card (payment link)"), ("door", "At the door")],
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(
        max_length=100, blank=True, help_text="The provider's id of the payment (Stripe)"
    )
    refunded = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    payment_flag = models.CharField(max_length=200, blank=True)
    payment_due_by = models.DateTimeField(null=True, blank=True)
    payment_reminded_at = models.DateTimeField(null=True, blank=True)
    # Feedback (orders/feedback.py): "How was your order? Reply 1-5" is due then (None once
    # decided), was sent then, and the customer's score and words.
    feedback_due_at = models.DateTimeField(null=True, blank=True)
    feedback_asked_at = models.DateTimeField(null=True, blank=True)
    feedback_score = models.PositiveSmallIntegerField(null=True, blank=True)
    feedback_comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The customer's page for this order (orders.pages): unguessable, never the number.
    token = models.CharField(max_length=32, unique=True, default=new_order_token, editable=False)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        # The day's reports at /staff/reports/ (orders, revenue, texts, calls).
        permissions = [
            ("view_reports", "Can see the day's reports"),
            ("text_delay", "Can text customers a delay (free text) from the admin"),
            ("call_customer", "Can have the shop call a customer about an order"),
            ("take_payment", "Can mark an order paid at the door"),
            ("refund_payment", "Can refund an order's payment"),
        ]
        indexes = [
            models.Index(
                fields=["status", "promised_at"], name="order_in_progress",
                condition=Q(status__in=list(IN_PROGRESS)),
            ),
            # The board (active stages, a few hundred among millions) and the admin list
            # filtered by stage, newest first (bench/run large).
            models.Index(fields=["status", "id"], name="order_status"),
            models.Index(
                fields=["feedback_due_at"], name="order_feedback_due",
                condition=Q(feedback_due_at__isnull=False),
            ),
        ]  # fmt: skip

    def __str__(self):
        return f"#{self.number}"

    @property
    def number(self):
        return self.pk + ORDER_NUMBER_OFFSET if self.pk else None

    @property
    def payment_state(self):
        """For staff and the receipt: "paid", "unpaid", "refunded" or "partly refunded"."""
        if self.refunded and self.refunded >= self.paid:
            return "refunded"
        if self.refunded:
            return "partly refunded"
        return "paid" if self.paid and self.paid >= self.total else "unpaid"

    @property
    def outstanding(self):
        """What is still to be paid (at the door, or by the link): nothing once cancelled."""
        if self.status == S.CANCELLED:
            return Decimal("0")
        return max(Decimal("0"), self.total - self.paid)

    @property
    def is_scheduled(self):
        return self.start_at is not None

    @property
    def stage_words(self):
        return STAGE_WORDS.get(self.status, self.status)

    # The state machine. Only orders.services calls these (inside its lock).
    @transition(
        status, source=S.AWAITING_PAYMENT, target=S.RECEIVED,
        custom={"label": "To the kitchen unpaid (pay at the door)"},
    )  # fmt: skip
    def confirm_payment(self):
        pass

    @transition(status, source=S.RECEIVED, target=S.PREPARING, custom={"label": "Start preparing"})
    def start_preparing(self):
        pass

    @transition(status, source=S.PREPARING, target=S.BAKING, custom={"label": "Into the oven"})
    def start_baking(self):
        pass

    @transition(status, source=S.BAKING, target=S.QUALITY_CHECK, custom={"label": "Quality check"})
    def check_quality(self):
        pass

    @transition(
        status, source=S.QUALITY_CHECK, target=S.READY_FOR_PICKUP, conditions=[_is_pickup],
        custom={"label": "Ready for pickup"},
    )  # fmt: skip
    def mark_ready(self):
        pass

    @transition(
        status, source=S.READY_FOR_PICKUP, target=S.PICKED_UP, conditions=[_is_pickup],
        custom={"label": "Picked up"},
    )  # fmt: skip
    def hand_over(self):
        pass

    @transition(
        status, source=S.QUALITY_CHECK, target=S.OUT_FOR_DELIVERY, conditions=[_is_delivery],
        custom={"label": "Out for delivery"},
    )  # fmt: skip
    def send_out(self):
        pass

    @transition(
        status, source=S.OUT_FOR_DELIVERY, target=S.DELIVERED, conditions=[_is_delivery],
        custom={"label": "Delivered"},
    )  # fmt: skip
    def mark_delivered(self):
        pass

    @transition(status, source=list(ACTIVE), target=S.CANCELLED, custom={"label": "Cancel…"})
    def cancel(self):
        pass


def happy_path(fulfilment):
    """The stages an order of this kind goes through, read off the transitions above:
    from `received`, the one move that is not cancelling, until none is left."""
    path = [S.RECEIVED]
    while True:
        here = Order(fulfilment=fulfilment, status=path[-1])
        onward = [
            t.target for t in here.get_available_status_transitions() if t.target != S.CANCELLED
        ]
        if not onward:
            return path
        path.append(onward[0])


# The happy path of each kind of order; cancelling is the only way off it.
PATHS = {fulfilment: happy_path(fulfilment) for fulfilment in Fulfilment}
# The steps of the paths side by side: a step holds the stages orders of each kind are in
# at that point (ready for pickup, or out for delivery). The board shows one column per
# step that is not finished.
STEPS = [tuple(dict.fromkeys(stages)) for stages in zip(*PATHS.values(), strict=True)]


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    menu_item = models.ForeignKey(MenuItem, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=60)
    size = models.CharField(max_length=1, choices=Size.choices, blank=True)
    quantity = models.PositiveSmallIntegerField()
    unit_price = models.DecimalField(max_digits=7, decimal_places=2)
    # What was chosen, as a snapshot like `name` and `unit_price` (see orders.menu.modifiers).
    modifiers = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=100, blank=True, help_text="For the kitchen")

    class Meta:
        ordering = ["id"]

    def __str__(self):
        size = f" ({self.size})" if self.size else ""
        return f"{self.quantity}x {self.name}{size}"

    @property
    def label(self):
        """ "Pepperoni", or "half Pepperoni / half Margherita" (orders.texts.line_label)."""
        from .texts import line_label

        return line_label(self)

    @property
    def extras(self):
        """For staff and the receipt: "with extra pepperoni, mushrooms, thin crust", "half
        with pepperoni / half with mushrooms" ("" for none; orders.texts.line_extras)."""
        from .texts import line_extras

        return line_extras(self)


class Actor(models.TextChoices):
    CUSTOMER = "customer", "Customer (SMS)"
    STAFF = "staff", "Staff"
    SYSTEM = "system", "System"


class OrderEvent(models.Model):
    """One thing that happened to an order. Rows are only ever added."""

    class Kind(models.TextChoices):
        PLACED = "placed", "Placed"
        STATUS = "status", "Status changed"
        CANCELLED = "cancelled", "Cancelled"
        DELAYED = "delayed", "Delayed"
        OPTED_OUT = "opted_out", "Customer opted out"
        CHANGED = "changed", "Changed by the customer"
        PAYMENT = "payment", "Payment"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.CharField(max_length=10, choices=Actor.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=300, blank=True)
    notified = models.BooleanField(default=False, help_text="A text to the customer was queued")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        change = f"{self.from_status} → {self.to_status}" if self.to_status else self.kind
        return f"#{self.order.number}: {change}"


class Inquiry(models.Model):
    """A text from a customer that is not a command: kept for staff to answer."""

    message = models.OneToOneField(
        "telephony.Message", on_delete=models.CASCADE, related_name="inquiry"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="inquiries")
    # Why it needs a person, when it is not a question: "Not answered: ...", "texted CANCEL...".
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reply = models.ForeignKey(
        "telephony.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "inquiries"
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["customer"], name="inquiry_unanswered", condition=Q(answered_at=None)
            )
        ]

    def __str__(self):
        return f"{self.customer}: {self.message.body[:40]}"

    @property
    def is_answered(self):
        return self.answered_at is not None


# --- menu modifiers (issue 13) ----------------------------------------------------------------


class MenuModifier(models.Model):
    """What toppings and crusts share: a code and name customers may text (or an alias), whether
    it is offered now, and its place in the menu. `prices` gives what it adds per size."""

    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=60)
    aliases = models.CharField(
        max_length=200, blank=True, help_text="Other names customers use, comma-separated"
    )
    available = models.BooleanField(default=True)
    sold_out_until = models.DateTimeField(
        null=True, blank=True, help_text="Sold out tonight ('86'): back by itself at this time"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    @property
    def alias_list(self):
        return tuple(a.strip() for a in self.aliases.split(",") if a.strip())

    def clean(self):
        _refuse_shared_names(self)


class Topping(MenuModifier):
    """A topping a customer may add to a pizza, priced per size (a topping costs more on a
    large). Prices are three columns rather than a table so staff edit them in the list."""

    price_small = models.DecimalField("S", max_digits=6, decimal_places=2, default=Decimal("0"))
    price_medium = models.DecimalField("M", max_digits=6, decimal_places=2, default=Decimal("0"))
    price_large = models.DecimalField("L", max_digits=6, decimal_places=2, default=Decimal("0"))

    class Meta(MenuModifier.Meta):
        pass

    @property
    def prices(self):
        return {"S": self.price_small, "M": self.price_medium, "L": self.price_large}


class Crust(MenuModifier):
    """A crust, with what it adds to a pizza's price per size (gluten-free costs more)."""

    surcharge_small = models.DecimalField(
        "S +", max_digits=6, decimal_places=2, default=Decimal("0")
    )
    surcharge_medium = models.DecimalField(
        "M +", max_digits=6, decimal_places=2, default=Decimal("0")
    )
    surcharge_large = models.DecimalField(
        "L +", max_digits=6, decimal_places=2, default=Decimal("0")
    )

    class Meta(MenuModifier.Meta):
        pass

    @property
    def prices(self):
        return {"S": self.surcharge_small, "M": self.surcharge_medium, "L": self.surcharge_large}


class ShopSettings(models.Model):
    """The shop's settings the owner changes in the admin (one row; orders.shop reads it).
    An empty field uses the environment's value, shown beside it in the admin."""

    hours = models.CharField(
        "opening hours", max_length=300, blank=True,
        help_text="e.g. mon-thu 11:00-22:00; fri-sat 11:00-23:30; sun 12:00-21:00 (or 24/7)",
    )  # fmt: skip
    closed_dates = models.TextField(
        "days closed", blank=True,
        help_text="Holidays and other closed days, e.g. 2026-12-25, 2027-01-01",
    )  # fmt: skip
    tax_rate = models.DecimalField(
        max_digits=6, decimal_places=5, null=True, blank=True,
        help_text="Sales tax on the food, a fraction: 0.08875 for 8.875%",
    )  # fmt: skip
    delivery_fee = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    delivery_minimum = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True,
        help_text="The food (before tax) a delivery needs",
    )  # fmt: skip
    delivery_zip_codes = models.CharField(
        "ZIP codes delivered to", max_length=500, blank=True,
        help_text="Comma-separated; empty uses the environment's (DELIVERY_ZIP_CODES)",
    )  # fmt: skip
    address = models.CharField(
        "shop's address", max_length=200, blank=True,
        help_text="Given in pickup texts and on the order page",
    )  # fmt: skip
    kitchen_pizzas_per_10_min = models.PositiveSmallIntegerField(
        "kitchen's pace", null=True, blank=True,
        help_text="Pizzas the kitchen makes in 10 minutes: more waiting than that pushes the "
        "promised time back (empty: KITCHEN_PIZZAS_PER_10_MIN). Also on the board.",
    )  # fmt: skip
    paused_until = models.DateTimeField(
        "new orders paused until", null=True, blank=True,
        help_text="Set from the board (15, 30 or 60 minutes); ends by itself",
    )  # fmt: skip
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "shop settings"
        verbose_name_plural = "shop settings"
        permissions = [("pause_orders", "Can pause new orders and set the kitchen's pace")]

    def __str__(self):
        return "Shop settings"

    def clean(self):
        from .hours import HoursError, parse_hours
        from .shop import parse_dates

        errors = {}
        if self.hours.strip():
            try:
                parse_hours(self.hours)
            except HoursError as exc:
                errors["hours"] = str(exc).replace("SHOP_HOURS", "Opening hours")
        try:
            parse_dates(self.closed_dates)
        except ValueError as exc:
            errors["closed_dates"] = str(exc)
        if self.tax_rate is not None and not 0 <= self.tax_rate < 1:
            errors["tax_rate"] = "A fraction between 0 and 1: 0.08875 for 8.875%."
        for name in ("delivery_fee", "delivery_minimum"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                errors[name] = "An amount of 0 or more."
        if errors:
            raise ValidationError(errors)


class MenuVersion(models.Model):
    """One row whose token changes with every write to the menu (items, prices, toppings,
    crusts; orders.menu.menu_changed), in the writer's transaction. Every process keeps its
    last read of the menu under this token (orders.menu.current), so an edit made in the
    admin is seen by every worker's next text at the cost of one small query."""

    token = models.CharField(max_length=32)

    def __str__(self):
        return self.token


class ShopAnswer(models.Model):
    """A question customers ask that the shop's data cannot answer (parking, gift cards,
    allergens...), and staff's answer: sent when a text says one of its keywords, before
    the "we'll get back to you" (orders/questions.py). Keywords are words or phrases,
    comma-separated, matched as whole words, without accents or case."""

    question = models.CharField(max_length=120, help_text="For staff: what it is about")
    keywords = models.CharField(
        max_length=300, help_text="English words or phrases, comma-separated: parking, park"
    )
    keywords_es = models.CharField(
        "Spanish keywords", max_length=300, blank=True,
        help_text="Spanish words or phrases, comma-separated: estacionamiento, parqueo",
    )  # fmt: skip
    answer = models.TextField(max_length=300)
    answer_es = models.TextField("Spanish answer", max_length=300, blank=True)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "answer to a question"
        verbose_name_plural = "answers to questions"

    def __str__(self):
        return self.question

    def says(self, said, language):
        """Whether `said` (normalized, with a space at each end) holds one of the keywords
        (both languages' keywords are read: a Spanish customer may write in English)."""
        from .parser import normalize

        words = f"{self.keywords},{self.keywords_es}".split(",")
        return any(f" {normalize(w)} " in said for w in words if normalize(w))

    def answer_in(self, language):
        return self.answer_es if language == "es" and self.answer_es else self.answer
