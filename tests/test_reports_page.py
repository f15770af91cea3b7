"""The reports page: staff only, a chosen day, SVG charts with their numbers, CSV download."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.test_reports_numbers import DAY, tuesday  # noqa: F401 (the hand-built day)

pytestmark = pytest.mark.django_db
URL = "/staff/reports/"


def test_the_url_is_under_staff():
    assert reverse("reports:day") == URL


def test_people_not_logged_in_are_sent_to_the_admin_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith("/admin/login/?next=")


def test_logged_in_non_staff_are_sent_to_the_admin_login(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("cook", password="pw"))
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response.url


@pytest.mark.usefixtures("tuesday")
def test_a_chosen_day_shows_its_numbers_beside_svg_charts(admin_client):
    page = admin_client.get(URL, {"day": "2026-03-10"}).content.decode()
    assert "Tuesday 10 March 2026" in page
    assert '<div class="label">Orders</div><div class="value">4</div>' in page
    assert '<div class="value">$75</div>' in page and "55.6%" in page and "50 s" in page
    assert page.count('<svg class="chart"') == 3
    assert "<title>18:00 · 2 orders</title>" in page
    assert "11.7 min" in page and "Hung up waiting" in page
    assert "handset unreachable" in page
    assert "cdn" not in page.lower()


def test_the_default_day_is_today_in_the_shop_time_zone(admin_client, monkeypatch, settings):
    settings.SHOP_TIME_ZONE = "America/New_York"
    late_evening = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)  # 10 PM on the 10th in New York
    monkeypatch.setattr("django.utils.timezone.now", lambda: late_evening)
    response = admin_client.get(URL)
    assert response.context["report"].day.isoformat() == "2026-03-10"
    assert "today, so far" in response.content.decode()


@pytest.mark.parametrize("bad", ["yesterday", "2026-02-30", "9999-12-31", "<script>"])
def test_a_bad_day_shows_today_with_a_note_never_an_error(admin_client, bad):
    response = admin_client.get(URL, {"day": bad})
    assert response.status_code == 200
    assert "showing today" in response.content.decode()
    assert "<script>" not in response.content.decode().split("<main>")[1]


def test_a_bad_day_in_a_csv_request_is_a_400(admin_client):
    assert admin_client.get(URL, {"day": "nope", "format": "csv"}).status_code == 400


@pytest.mark.usefixtures("tuesday")
def test_the_csv_has_the_same_numbers(admin_client):
    response = admin_client.get(URL, {"day": "2026-03-10", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="report-2026-03-10.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "item", "value"]
    values = {(section, item): value for section, item, value in rows[1:]}
    assert values[("orders", "orders")] == "4"
    assert values[("orders", "revenue")] == "75.00"
    assert values[("orders", "late")] == "2"
    assert values[("orders per hour", "18:00")] == "2"
    assert values[("average minutes in stage", "Baking")] == "11.7"
    assert values[("texts", "delivery rate %")] == "55.6"
    assert values[("text failures by error code", "30003 handset unreachable")] == "2"
    assert values[("calls", "voicemail")] == "1"
    assert values[("calls", "average wait before an agent answered (s)")] == "50"


@pytest.mark.usefixtures("tuesday")
def test_the_page_runs_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    # session, user, and the report's twelve (services.day_report)
    with django_assert_max_num_queries(14):
        assert admin_client.get(URL, {"day": DAY.isoformat()}).status_code == 200
