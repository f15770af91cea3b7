"""Who may do what on the staff board and the reports: Django's model permissions.

Every board page needs a staff login (`is_staff`); what it shows and what it lets staff do
then follows the permissions below (a superuser has them all). A panel or button the user
may not use is not shown, and posting to it directly answers 403.

| on the board | needs |
|---|---|
| see the order cards | `orders.view_order` |
| move a card to its next stage, cancel an order | `orders.view_order`, `orders.change_order` |
| read messages waiting, a customer's page and texts, find a customer | `telephony.view_message` |
| text a customer, reply to a message waiting | `telephony.view_message`, `telephony.send_sms`¹ |
| mark a message waiting done | `telephony.view_message`, `orders.change_inquiry` |
| see the support line (callers on hold, agents, voicemails) | `support.view_supportcall`,
  `support.view_voicemail` |
| start or end an agent's shift | the above and `support.change_agent` |
| mark an item, topping or crust sold out tonight, and back | `orders.change_menuitem`,
  `orders.change_topping`, `orders.change_crust` |
| set the kitchen's pace, pause new orders | `orders.pause_orders`¹ |
| mark a voicemail done | the above and `support.change_voicemail` |
| call a voicemail back | the above and `support.call_back`¹ |
| the day's reports (/staff/reports/) | `orders.view_reports`¹ |
| in the admin: add a delay (in staff's own words) | `orders.text_delay`¹ |
| in the admin: have the shop call a customer | `orders.call_customer`¹ |

¹ custom permissions, declared in the models' Meta (Message, Voicemail, Order).

The order admin follows the same rules: customers' numbers only with
`telephony.view_message` (masked otherwise, and no search by phone).

`manage.py seed_demo` creates three groups from this: Kitchen (move orders, mark sold out,
pace and pause),
Front desk (everything on the board) and Owner (every permission of the shop's apps: the
board, the reports, promotions and the rest of the admin).
"""

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied

SUPPORT_PANEL = ("support.view_supportcall", "support.view_voicemail")
MESSAGES = ("telephony.view_message",)
ORDERS = ("orders.view_order",)

PERMISSIONS = {
    "see_orders": ORDERS,
    "move_orders": (*ORDERS, "orders.change_order"),
    "read_messages": MESSAGES,
    "text_customers": (*MESSAGES, "telephony.send_sms"),
    "mark_done": (*MESSAGES, "orders.change_inquiry"),
    "see_support": SUPPORT_PANEL,
    "set_shifts": (*SUPPORT_PANEL, "support.change_agent"),
    "close_voicemails": (*SUPPORT_PANEL, "support.change_voicemail"),
    "call_back": (*SUPPORT_PANEL, "support.call_back"),
    "see_reports": ("orders.view_reports",),
    "sell_out": ("orders.change_menuitem", "orders.change_topping", "orders.change_crust"),
    "pace_kitchen": ("orders.pause_orders",),
    "take_payments": (*ORDERS, "orders.take_payment"),
    # In the admin: the actions that reach a customer (orders/admin.py).
    "text_delays": (*ORDERS, "orders.text_delay"),
    "call_customers": (*ORDERS, "orders.call_customer"),
}
BOARD = [name for name in PERMISSIONS if name != "see_reports"]

# Demo groups (seed_demo): name -> what they may do, or "*" for every permission of the
# shop's own apps.
GROUPS = {
    "Kitchen": ["move_orders", "sell_out", "pace_kitchen"],
    "Front desk": BOARD,
    "Owner": "*",
}
SHOP_APPS = ("orders", "telephony", "support", "campaigns")


def allowed(user):
    """{what: bool} for every entry of PERMISSIONS; templates read it as `can.move_orders`.
    Two queries for the first check of a request (Django caches a user's permissions)."""
    return {name: user.has_perms(perms) for name, perms in PERMISSIONS.items()}


def require(user, what):
    if not user.has_perms(PERMISSIONS[what]):
        raise PermissionDenied(f"Your login may not do this ({what.replace('_', ' ')}).")


def permissions_for(names):
    """The Permission rows behind the board abilities `names` (or "*": the shop's apps)."""
    if names == "*":
        return Permission.objects.filter(content_type__app_label__in=SHOP_APPS)
    wanted = {perm for name in names for perm in PERMISSIONS[name]}
    found = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in (perm.split(".") for perm in sorted(wanted))
    ]
    return found


def ensure_groups():
    """Create the demo groups that are missing, with their permissions. A group that exists
    is left as it is (staff may have changed it in the admin). Returns the names created."""
    created = []
    for name, abilities in GROUPS.items():
        group, new = Group.objects.get_or_create(name=name)
        if new:
            group.permissions.set(permissions_for(abilities))
            created.append(name)
    return created
