"""Starting for real: `manage.py setup_shop` makes the owner's login with a password they
choose, the shop's details and an empty or starter menu, and no demo agents or logins;
`seed_demo` refuses with DEBUG off unless forced.

Seen in a production trial: the only way to a menu, staff and agents was seed_demo, which
put two demo agents on shift at example numbers (the support line really rang one) and
created four logins, a superuser among them, with one shared printed password.
"""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from orders.models import MenuItem, ShopSettings
from support.models import Agent

pytestmark = pytest.mark.django_db
PASSWORD = "a long owner pass phrase 7"


def setup_shop(*args, password=PASSWORD, monkeypatch=None):
    out = io.StringIO()
    monkeypatch.setenv("SETUP_SHOP_PASSWORD", password)
    call_command("setup_shop", "--noinput", *args, stdout=out)
    return out.getvalue()


def test_a_real_shop_gets_its_owner_its_details_and_no_demo(monkeypatch, client):
    out = setup_shop(
        "--owner", "maria", "--address", "12 Main St", "--hours", "mon-sun 11:00-22:00",
        "--tax-rate", "0.08875", "--delivery-fee", "3.50", "--zip-codes", "10001, 10002",
        monkeypatch=monkeypatch,
    )  # fmt: skip

    (owner,) = get_user_model().objects.all()  # one login: the owner's
    assert owner.username == "maria" and owner.is_superuser and owner.is_staff
    assert owner.check_password(PASSWORD)
    assert [g.name for g in owner.groups.all()] == ["Owner"]
    shop = ShopSettings.objects.get(pk=1)
    assert (shop.address, shop.hours) == ("12 Main St", "mon-sun 11:00-22:00")
    assert (shop.tax_rate, shop.delivery_fee) == (Decimal("0.08875"), Decimal("3.50"))
    assert shop.delivery_zip_codes == "10001, 10002"
    assert not Agent.objects.exists()  # nobody's phone rings
    assert not MenuItem.objects.exists()
    assert "Menu: empty" in out and PASSWORD not in out
    login = client.post("/admin/login/", {"username": "maria", "password": PASSWORD})
    assert login.status_code == 302
    assert client.get("/staff/").status_code == 200


def test_a_starter_menu_on_request_and_a_second_run_keeps_the_password(monkeypatch):
    setup_shop("--menu", "starter", monkeypatch=monkeypatch)
    items = MenuItem.objects.count()
    assert items >= 10

    out = setup_shop(
        "--address", "4 Pine St", password="another one entirely 9", monkeypatch=monkeypatch
    )

    owner = get_user_model().objects.get(username="owner")
    assert owner.check_password(PASSWORD)  # unchanged without --reset-password
    assert "password unchanged" in out
    assert ShopSettings.objects.get(pk=1).address == "4 Pine St"
    assert MenuItem.objects.count() == items


def test_a_weak_password_or_bad_hours_change_nothing(monkeypatch):
    with pytest.raises(CommandError, match="Password refused"):
        setup_shop(password="123", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="hours"):
        setup_shop("--hours", "whenever", monkeypatch=monkeypatch)
    assert not get_user_model().objects.exists()
    assert not ShopSettings.objects.exists()


def test_without_a_password_in_noinput_mode_it_says_which_variable(monkeypatch):
    monkeypatch.delenv("SETUP_SHOP_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="SETUP_SHOP_PASSWORD"):
        call_command("setup_shop", "--noinput", stdout=io.StringIO())


def test_seed_demo_refuses_a_shop_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="setup_shop"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Agent.objects.exists() and not get_user_model().objects.exists()

    call_command("seed_demo", "--force", stdout=io.StringIO())
    assert Agent.objects.filter(on_shift=True).exists()  # what a demo is for
