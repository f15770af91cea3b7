"""The staff board at /staff/: orders by stage, messages waiting, the support line.

Every action is a POST through the same services the admin uses; with htmx (HX-Request) the
answer is the refreshed panel with a notice, without it a redirect back to the board. Each
page and action needs a staff login and the model permissions in `access.PERMISSIONS`
(403 without them); the templates show only what `can` allows."""

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from orders import drivers as order_drivers
from orders import payment, shop, soldout, texts
from orders import services as orders
from orders.hours import clock, shop_zone
from orders.models import Customer, Inquiry, Order, Status
from pizzeria import alerts
from support import agents, callbacks
from support.models import Agent, Voicemail

from . import access, panels
from .forms import CancelForm, MoveForm, TextForm
from .services import find_customer, reply_to_inquiry, text_customer

PANELS = {
    "orders": "board/_orders.html",
    "inbox": "board/_inbox.html",
    "support": "board/_support.html",
    "tonight": "board/_tonight.html",
}
SEE_PANEL = {
    "orders": "see_orders",
    "inbox": "read_messages",
    "support": "see_support",
    "tonight": "sell_out",
}
# The red banner (pizzeria/alerts.py): for every staff login, fetched after the page and
# every 15 s, so the board's own render does not wait for its checks.
ALERTS = "board/_alerts.html"


def staff_required(what=None):
    """Staff only: others go to the admin's login (an htmx poll is told to go there too).
    With `what` (an entry of access.PERMISSIONS), staff without those permissions get 403."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if user.is_active and user.is_staff:
                if what:
                    access.require(user, what)
                with timezone.override(shop_zone()):  # times as the shop reads them
                    return view(request, *args, **kwargs)
            login = reverse("admin:login")
            if request.headers.get("HX-Request"):
                return HttpResponse(status=204, headers={"HX-Redirect": f"{login}?next=/staff/"})
            return redirect_to_login(request.get_full_path(), login)

        return wrapped

    return decorate


def _context(request, name, now=None):
    now = now or timezone.now()
    context = {"now": now, "can": access.allowed(request.user)}
    if name == "orders":
        drivers = list(order_drivers.on_shift())
        return {
            **context, "columns": panels.order_columns(now), "drivers": drivers,
            # Orders awaiting payment, or flagged, exist only with payment by link on.
            "pay_online": payment.online(),
            "payments": panels.payments_to_check() if payment.online() else [],
        }  # fmt: skip
    if name == "inbox":
        return {**context, "inquiries": panels.inbox()}
    if name == "support":
        return {**context, "support": panels.support_panel()}
    if name == "tonight":
        return {**context, "tonight": panels.tonight(now), "pauses": PAUSES}
    raise Http404(name)


@require_GET
@staff_required()
def board(request):
    now = timezone.now()
    can = access.allowed(request.user)
    context = {"now": now, "can": can}
    for name in PANELS:
        if can[SEE_PANEL[name]]:
            context.update(_context(request, name, now))
    return render(request, "board/board.html", context)


@require_GET
@staff_required()
def alerts_panel(request):
    return render(request, ALERTS, {"problems": alerts.problems()})


@require_GET
@staff_required()
def panel(request, name):
    if name not in PANELS:
        raise Http404(name)
    access.require(request.user, SEE_PANEL[name])
    return render(request, PANELS[name], _context(request, name))


def _done(request, name, text, level=messages.SUCCESS):
    """After an action: the refreshed panel with `text` (htmx), or back to the board."""
    if request.headers.get("HX-Request"):
        flash = {"text": text, "level": messages.DEFAULT_TAGS[level]}
        return render(request, PANELS[name], {**_context(request, name), "flash": flash})
    messages.add_message(request, level, text)
    return redirect("board:board")


def _form_error(form):
    return " ".join(error for errors in form.errors.values() for error in errors)


@require_POST
@staff_required("move_orders")
def move_order(request, order_id):
    form = MoveForm(request.POST)
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return _done(request, "orders", "That order no longer exists.", messages.ERROR)
    if not form.is_valid():
        return _done(request, "orders", _form_error(form), messages.ERROR)
    to, driver = form.cleaned_data["to"], None
    if to == Status.OUT_FOR_DELIVERY and order_drivers.on_shift().exists():
        driver = order_drivers.on_shift().filter(pk=form.cleaned_data.get("driver")).first()
        if driver is None:
            return _done(request, "orders", "Pick the driver taking it.", messages.ERROR)
    try:
        moved = orders.advance_order(order, to, by=request.user, driver=driver)
    except orders.OrderError as exc:
        return _done(request, "orders", str(exc), messages.ERROR)
    return _done(request, "orders", moved.describe())


@require_POST
@staff_required("move_orders")
def cancel_order(request, order_id):
    form = CancelForm(request.POST)
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return _done(request, "orders", "That order no longer exists.", messages.ERROR)
    if not form.is_valid():
        return _done(
            request, "orders", "Say why the order is cancelled: the customer reads it.",
            messages.ERROR,
        )  # fmt: skip
    try:
        moved = orders.cancel_order(order, by=request.user, reason=form.cleaned_data["reason"])
    except orders.OrderError as exc:
        return _done(request, "orders", str(exc), messages.ERROR)
    return _done(request, "orders", moved.describe())


@require_POST
@staff_required("take_payments")
def paid_at_door(request, order_id):
    """One tap: the order's total was paid at the door (cash, or the card machine)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return _done(request, "orders", "That order no longer exists.", messages.ERROR)
    try:
        taken = payment.mark_paid_at_door(order, by=request.user)
    except orders.OrderError as exc:
        return _done(request, "orders", str(exc), messages.ERROR)
    paid = texts.money(taken.order.paid)
    return _done(request, "orders", f"Order #{order.number}: {paid} paid at the door.")


def _inquiry_or_none(inquiry_id):
    return Inquiry.objects.select_related("customer").filter(pk=inquiry_id).first()


@require_POST
@staff_required("text_customers")
def reply(request, inquiry_id):
    inquiry = _inquiry_or_none(inquiry_id)
    if inquiry is None:
        return _done(request, "inbox", "That message no longer exists.", messages.ERROR)
    form = TextForm(request.POST)
    if not form.is_valid():
        return _done(request, "inbox", "Write a reply first (or mark it done).", messages.ERROR)
    try:
        sent = reply_to_inquiry(inquiry, form.cleaned_data["text"], by=request.user)
    except orders.OrderError as exc:
        return _done(request, "inbox", str(exc), messages.ERROR)
    return _done(request, "inbox", f"Reply to {inquiry.customer.phone} {_sent_words(sent)}.")


def _sent_words(message):
    if message is None or message.status == message.Status.FAILED:
        reason = message.error_message if message else "nothing to send"
        return f"not sent ({reason})"
    return "queued to send"


@require_POST
@staff_required("mark_done")
def mark_done(request, inquiry_id):
    inquiry = _inquiry_or_none(inquiry_id)
    if inquiry is None:
        return _done(request, "inbox", "That message no longer exists.", messages.ERROR)
    orders.answer_inquiry(inquiry, by=request.user)
    return _done(request, "inbox", f"Message from {inquiry.customer.phone} marked done.")


@require_POST
@staff_required("set_shifts")
def set_shift(request, agent_id):
    agent = Agent.objects.filter(pk=agent_id, is_active=True).first()
    if agent is None:
        return _done(request, "support", "That agent no longer exists.", messages.ERROR)
    on = request.POST.get("on") == "1"
    changed = agents.set_on_shift(agent, on)
    state = "on shift" if on else "off shift"
    text = f"{agent} is now {state}." if changed else f"{agent} was already {state}."
    return _done(request, "support", text)


@require_POST
@staff_required("sell_out")
def sold_out(request, kind, pk):
    """One tap: sold out tonight (back by itself at the next opening), or back on sale."""
    if kind not in soldout.KINDS:
        raise Http404(kind)
    out = request.POST.get("out") == "1"
    row = soldout.mark(kind, pk, out)
    if row is None:
        return _done(request, "tonight", "That is no longer on the menu.", messages.ERROR)
    if not out:
        return _done(request, "tonight", f"{row.name} is back on sale.")
    back = clock(row.sold_out_until)
    return _done(request, "tonight", f"{row.name} is sold out until {back}.")


PAUSES = (15, 30, 60)


@require_POST
@staff_required("pace_kitchen")
def kitchen_pace(request):
    """The pizzas the kitchen makes in 10 minutes: the promised times follow it."""
    try:
        pace = int(request.POST.get("pace", ""))
    except ValueError:
        pace = -1
    if not 0 <= pace <= 500:
        return _done(request, "tonight", "Pizzas per 10 minutes: a number from 0 to 500.",
                     messages.ERROR)  # fmt: skip
    shop.save(kitchen_pizzas_per_10_min=pace)
    return _done(request, "tonight", f"Kitchen pace: {pace} pizzas per 10 minutes.")


@require_POST
@staff_required("pace_kitchen")
def pause_orders(request):
    """Pause new orders for 15, 30 or 60 minutes (it ends by itself), or take them again (0)."""
    try:
        minutes = int(request.POST.get("minutes", ""))
    except ValueError:
        minutes = -1
    if minutes not in (0, *PAUSES):
        return _done(request, "tonight", "Pause for 15, 30 or 60 minutes.", messages.ERROR)
    if not minutes:
        shop.save(paused_until=None)
        return _done(request, "tonight", "Taking new orders again.")
    until = timezone.now() + timedelta(minutes=minutes)
    shop.save(paused_until=until)
    return _done(request, "tonight", f"New orders paused until {clock(until)}.")


VOICEMAIL_GONE = "That voicemail no longer exists."


def _voicemail_or_none(voicemail_id):
    return Voicemail.objects.select_related("call").filter(pk=voicemail_id).first()


@require_POST
@staff_required("close_voicemails")
def voicemail_done(request, voicemail_id):
    voicemail = _voicemail_or_none(voicemail_id)
    if voicemail is None:
        return _done(request, "support", VOICEMAIL_GONE, messages.ERROR)
    if callbacks.mark_voicemails_done([voicemail], request.user):
        text = f"Voicemail from {voicemail.call.caller_number} marked done."
    else:
        text = f"Voicemail from {voicemail.call.caller_number} was already done."
    return _done(request, "support", text)


@require_POST
@staff_required("call_back")
def voicemail_call_back(request, voicemail_id):
    """Ring the agent phone of the staff member who clicked; answering calls the customer."""
    voicemail = _voicemail_or_none(voicemail_id)
    if voicemail is None:
        return _done(request, "support", VOICEMAIL_GONE, messages.ERROR)
    agent = Agent.objects.filter(user=request.user).first()
    try:
        callbacks.start_callback(voicemail, agent)
    except callbacks.CallbackError as exc:
        hint = " Link your login to an agent in the admin (Support › Agents)." if not agent else ""
        return _done(request, "support", f"{exc}{hint}", messages.ERROR)
    text = (
        f"Ringing your phone ({agent.phone}): answer it and press 1, and we call "
        f"{voicemail.call.caller_number}. Mark the voicemail done when you have talked."
    )
    return _done(request, "support", text)


@require_GET
@staff_required("read_messages")
def customer(request, customer_id):
    try:
        thread = panels.customer_thread(customer_id)
    except Customer.DoesNotExist:
        raise Http404("no such customer") from None
    context = {"thread": thread, "form": TextForm(), "can": access.allowed(request.user)}
    return render(request, "board/customer.html", context)


@require_POST
@staff_required("text_customers")
def text(request, customer_id):
    found = get_object_or_404(Customer, pk=customer_id)
    form = TextForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the text first.")
    else:
        try:
            answers = [a for a in request.POST.getlist("answers") if a.isdigit()]
            sent = text_customer(found, form.cleaned_data["text"], by=request.user, answers=answers)
        except orders.OrderError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Text to {found.phone} {_sent_words(sent)}.")
    return redirect("board:customer", found.pk)


@require_GET
@staff_required("read_messages")
def find(request):
    query = request.GET.get("q", "")
    found = find_customer(query)
    if found is None:
        messages.error(request, f"No customer found for “{query[:40]}”.")
        return redirect("board:board")
    return redirect("board:customer", found.pk)
