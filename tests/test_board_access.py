"""The board follows Django's permissions: each panel and action needs its model permission
(staff/board/access.py), buttons the user may not use are not shown, and posting to them
directly answers 403. seed_demo's groups: Kitchen, Front desk, Owner."""

import io

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from orders.models import Driver, Inquiry, Order
from orders.models import Status as S
from support.models import Agent, Voicemail
from telephony.models import Message
from tests.factories import AgentFactory, CustomerFactory, OrderFactory, VoicemailFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def perm(dotted):
    app, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app, codename=codename)


def staff_with(django_user_model, *perms, username="lee"):
    user = django_user_model.objects.create(username=username, is_staff=True)
    user.user_permissions.add(*[perm(p) for p in perms])
    return user


def in_group(django_user_model, name, username="kim"):
    call_command("seed_demo", "--force", stdout=io.StringIO())
    user = django_user_model.objects.create(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def things(db):
    customer = CustomerFactory()
    message = Message.objects.create(
        direction="in", from_number=str(customer.phone), to_number="+15005550006",
        body="Do you have gluten free?", status="received",
    )  # fmt: skip
    return {
        "order": OrderFactory(customer=customer),
        "customer": customer,
        "inquiry": Inquiry.objects.create(message=message, customer=customer),
        "agent": AgentFactory(on_shift=False),
        "voicemail": VoicemailFactory(),
    }


# (what, url name, the object it acts on, POST data)
ACTIONS = [
    ("move an order", "board:move", "order", {"to": S.PREPARING}),
    ("cancel an order", "board:cancel", "order", {"reason": "out of dough"}),
    ("reply to a message", "board:reply", "inquiry", {"text": "Yes we do"}),
    ("mark a message done", "board:inquiry-done", "inquiry", {}),
    ("text a customer", "board:text", "customer", {"text": "Your usual?"}),
    ("start an agent's shift", "board:shift", "agent", {"on": "1"}),
    ("mark a voicemail done", "board:voicemail-done", "voicemail", {}),
    ("call a voicemail back", "board:voicemail-call-back", "voicemail", {}),
]
PAGES = [
    ("the orders panel", reverse("board:panel", args=["orders"])),
    ("messages waiting", reverse("board:panel", args=["inbox"])),
    ("the support panel", reverse("board:panel", args=["support"])),
    ("the reports", "/staff/reports/"),
    ("finding a customer", reverse("board:find") + "?q=%2B14155550100"),
]


def state():
    """What the actions would change: rows of every model, order statuses, shifts, answers."""
    return (
        {m._meta.label: m._default_manager.count() for m in apps.get_models()},
        list(Order.objects.values_list("status", flat=True)),
        list(Agent.objects.values_list("on_shift", flat=True)),
        list(Inquiry.objects.values_list("answered_at", flat=True)),
        list(Voicemail.objects.values_list("done_at", flat=True)),
    )


@pytest.mark.parametrize("what,name,target,data", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_staff_without_permissions_are_refused_each_action_with_403(
    client, django_user_model, things, what, name, target, data
):
    client.force_login(staff_with(django_user_model))
    before = state()
    url = reverse(name, args=[things[target].pk])
    assert client.post(url, data, headers=HTMX).status_code == 403, what
    assert client.post(url, data).status_code == 403, what
    assert state() == before


@pytest.mark.parametrize("what,url", PAGES, ids=[p[0] for p in PAGES])
def test_staff_without_permissions_are_refused_each_page_with_403(
    client, django_user_model, things, what, url
):
    client.force_login(staff_with(django_user_model))
    assert client.get(url).status_code == 403, what


def test_staff_without_permissions_cannot_read_a_customers_thread(
    client, django_user_model, things
):
    client.force_login(staff_with(django_user_model))
    response = client.get(reverse("board:customer", args=[things["customer"].pk]))
    assert response.status_code == 403
    assert b"gluten free" not in response.content


def test_staff_without_permissions_see_an_empty_board_that_says_why(
    client, django_user_model, things
):
    client.force_login(staff_with(django_user_model))
    html = client.get("/staff/").content.decode()
    assert f"#{things['order'].number}" not in html
    assert "gluten free" not in html and str(things["customer"].phone) not in html
    assert 'id="support"' not in html and 'id="find-q"' not in html and "Reports</a>" not in html
    assert "may not see anything on the board" in html


# --- the kitchen: move orders only ------------------------------------------------------------


def test_the_kitchen_moves_orders_but_sees_no_messages_support_or_buttons_for_them(
    client, django_user_model, things
):
    client.force_login(in_group(django_user_model, "Kitchen"))
    order = things["order"]
    html = client.get("/staff/").content.decode()
    assert f'id="order-{order.pk}"' in html and "Start preparing →" in html
    assert reverse("board:customer", args=[order.customer_id]) not in html  # no thread link
    assert "gluten free" not in html and 'id="inbox"' not in html and 'id="support"' not in html
    assert 'id="find-q"' not in html and "Reports</a>" not in html

    response = client.post(reverse("board:move", args=[order.pk]), {"to": S.PREPARING})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == S.PREPARING


@pytest.mark.parametrize(
    "what,name,target,data",
    [a for a in ACTIONS if a[1] not in ("board:move", "board:cancel")],
    ids=[a[0] for a in ACTIONS if a[1] not in ("board:move", "board:cancel")],
)
def test_the_kitchen_is_refused_everything_but_moving_orders(
    client, django_user_model, things, what, name, target, data
):
    client.force_login(in_group(django_user_model, "Kitchen"))
    before = state()
    response = client.post(reverse(name, args=[things[target].pk]), data, headers=HTMX)
    assert response.status_code == 403, what
    assert state() == before


# --- the front desk and the owner -------------------------------------------------------------


def test_the_front_desk_sees_every_panel_and_button_but_not_the_reports(
    client, django_user_model, things
):
    client.force_login(in_group(django_user_model, "Front desk"))
    things["agent"].user = None
    html = client.get("/staff/").content.decode()
    for shown in ("Start preparing →", "Cancel order", "gluten free", 'name="text"',
                  "Mark done", "Start shift", ">Call back</button>", 'class="quiet">Done<',
                  'id="find-q"'):  # fmt: skip
        assert shown in html, shown
    assert "Reports</a>" not in html
    assert client.get("/staff/reports/").status_code == 403
    page = client.get(reverse("board:customer", args=[things["customer"].pk])).content.decode()
    assert "Send text" in page


def test_texting_needs_its_own_permission_besides_reading_threads(
    client, django_user_model, things
):
    client.force_login(staff_with(django_user_model, "telephony.view_message"))
    page = client.get(reverse("board:customer", args=[things["customer"].pk])).content.decode()
    assert "gluten free" in page and "Send text" not in page
    inbox = client.get(reverse("board:panel", args=["inbox"])).content.decode()
    assert "gluten free" in inbox and 'name="text"' not in inbox and "Mark done" not in inbox
    url = reverse("board:text", args=[things["customer"].pk])
    assert client.post(url, {"text": "hi"}).status_code == 403
    assert not Message.objects.filter(direction="out").exists()


def test_the_owner_sees_the_reports_and_the_promotions(client, django_user_model, things):
    client.force_login(in_group(django_user_model, "Owner"))
    html = client.get("/staff/").content.decode()
    assert "Reports</a>" in html and "Start preparing →" in html and "Mark done" in html
    assert client.get("/staff/reports/").status_code == 200
    assert client.get("/admin/campaigns/campaign/").status_code == 200
    assert client.get("/admin/campaigns/campaign/add/").status_code == 200


def test_a_superuser_may_do_everything(admin_client, things):
    html = admin_client.get("/staff/").content.decode()
    assert "Reports</a>" in html and "Start preparing →" in html and ">Call back</button>" in html
    assert admin_client.get("/staff/reports/").status_code == 200


# --- seed_demo's groups and logins ------------------------------------------------------------


def test_seed_demo_creates_the_groups_and_their_logins_once(django_user_model, capsys):
    call_command("seed_demo", "--force")
    first = capsys.readouterr().out
    call_command("seed_demo", "--force")
    second = capsys.readouterr().out

    def perms(name):
        group = Group.objects.get(name=name)
        return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}

    assert perms("Kitchen") == {
        "orders.view_order", "orders.change_order",
        "orders.change_menuitem", "orders.change_topping", "orders.change_crust",
        "orders.pause_orders",
    }  # fmt: skip
    front_desk = perms("Front desk")
    assert {"telephony.send_sms", "support.call_back", "orders.change_inquiry"} <= front_desk
    assert "orders.view_reports" not in front_desk and "campaigns.add_campaign" not in front_desk
    assert {"orders.view_reports", "campaigns.add_campaign", "telephony.send_sms"} <= perms("Owner")
    assert Group.objects.count() == 3
    for username, group in [("kitchen", "Kitchen"), ("frontdesk", "Front desk"),
                            ("owner", "Owner")]:  # fmt: skip
        user = django_user_model.objects.get(username=username)
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert f"login: {username} / pizza-" in first
    assert django_user_model.objects.count() == 4
    assert first.splitlines()[-4:] == second.splitlines()[-4:]
    assert "Orders: 1 demo driver(s) on shift." in first and "demo driver" not in second
    assert Driver.objects.get().on_shift
