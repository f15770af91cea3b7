"""Staff pages and the admin: anonymous visitors go to the login page, non-staff are refused."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import URLPattern, reverse

from staff.board import urls as board_urls
from tests.factories import (
    AgentFactory,
    CustomerFactory,
    OrderFactory,
    ToppingFactory,
    VoicemailFactory,
)

pytestmark = pytest.mark.django_db
LOGIN = reverse("admin:login")


@pytest.fixture
def things(db):
    from orders.models import Inquiry
    from telephony.models import Message

    customer = CustomerFactory()
    message = Message.objects.create(
        direction="in", from_number=str(customer.phone), to_number="+15005550006", body="hi",
        status="received",
    )  # fmt: skip
    inquiry = Inquiry.objects.create(message=message, customer=customer)
    return {
        "order_id": OrderFactory(customer=customer).pk,
        "customer_id": customer.pk,
        "inquiry_id": inquiry.pk,
        "agent_id": AgentFactory().pk,
        "voicemail_id": VoicemailFactory().pk,
        "name": "orders",
        "kind": "topping",
        "pk": ToppingFactory().pk,
    }


def staff_urls(things):
    urls = ["/admin/", "/staff/reports/", "/staff/reports/?format=csv"]
    for pattern in board_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        kwargs = {arg: things[arg] for arg in pattern.pattern.converters}
        urls.append(reverse(f"board:{pattern.name}", kwargs=kwargs))
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        urls.append(reverse("admin:{}_{}_add".format(*info)))
    return urls


def row_counts():
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def assert_sent_to_login(response, url):
    if response.status_code == 204:  # an htmx request is told where to go
        assert response["HX-Redirect"].startswith(LOGIN), url
        return
    assert response.status_code == 302, (url, response.status_code)
    assert response["Location"].startswith(LOGIN), (url, response["Location"])


@pytest.mark.parametrize("who", ["anonymous", "logged-in customer"])
def test_every_staff_page_and_action_sends_non_staff_to_the_login_page(client, things, who):
    if who != "anonymous":
        user = get_user_model().objects.create_user("pat", password="pw-for-tests-only")
        client.force_login(user)
    urls = staff_urls(things)
    assert len(urls) > 20
    before = row_counts()

    for url in urls:
        for method in (client.get, client.post):
            response = method(url, {"to": "baking", "body": "hi", "reason": "x", "q": "1"})
            if response.status_code == 405:
                continue  # the other method is the one that does something
            assert_sent_to_login(response, url)

    assert row_counts() == before


def test_a_htmx_poll_from_a_logged_out_tablet_is_told_to_log_in(client, things):
    response = client.get("/staff/panels/orders/", headers={"HX-Request": "true"})
    assert_sent_to_login(response, "/staff/panels/orders/")


def test_staff_see_the_board_reports_and_admin(admin_client, things):
    for url in ("/staff/", "/staff/reports/", "/admin/"):
        assert admin_client.get(url).status_code == 200, url
