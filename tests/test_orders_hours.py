"""Opening hours: SHOP_HOURS / SHOP_TIME_ZONE are parsed, checked at start-up, and obeyed."""

import os
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from orders.hours import HoursError, describe_opening, parse_hours, parse_time_zone

NY = ZoneInfo("America/New_York")
WEEK = "mon-thu 11:00-22:00; fri-sat 11:00-23:30; sun 12:00-21:00"


def at(day, hour, minute=0):
    """2026-03-02 is a Monday: at(0, 12) is Monday noon in New York."""
    return datetime(2026, 3, 2 + day, hour, minute, tzinfo=NY)


@pytest.mark.parametrize(
    "when, is_open",
    [
        (at(0, 10, 59), False), (at(0, 11), True), (at(0, 21, 59), True), (at(0, 22), False),
        (at(4, 23, 15), True), (at(4, 23, 30), False), (at(6, 11, 30), False), (at(6, 12), True),
    ],
)  # fmt: skip
def test_a_week_of_hours_is_open_when_it_says(when, is_open):
    assert parse_hours(WEEK).is_open(when) is is_open


def test_hours_past_midnight_close_the_next_day():
    hours = parse_hours("fri 18:00-02:00")
    assert hours.is_open(at(5, 1, 30))  # Saturday 1:30 AM
    assert not hours.is_open(at(5, 2, 0))


def test_several_windows_and_day_lists():
    hours = parse_hours("mon,wed 11:30-14:00,17:00-22:00")
    assert hours.is_open(at(2, 12)) and not hours.is_open(at(2, 15)) and hours.is_open(at(2, 18))
    assert not hours.is_open(at(1, 12))


def test_24_7_is_always_open():
    assert parse_hours("24/7").is_open(at(3, 4))


def test_the_next_opening_is_found_and_described():
    hours = parse_hours(WEEK)
    now = at(0, 23)
    opening = hours.next_opening(now)
    assert opening == at(1, 11)
    assert describe_opening(opening, now) == "tomorrow at 11:00 AM"
    assert describe_opening(hours.next_opening(at(0, 9)), at(0, 9)) == "at 11:00 AM"
    sunday_night = at(6, 22)
    assert (
        describe_opening(hours.next_opening(sunday_night), sunday_night) == "tomorrow at 11:00 AM"
    )
    assert describe_opening(parse_hours("mon 11:00-12:00").next_opening(at(1, 9)), at(1, 9)) == (
        "on Monday at 11:00 AM"
    )


@pytest.mark.parametrize(
    "value, says",
    [
        ("", "empty"), ("mon-fri", "needs days and times"), ("funday 11:00-22:00", "not a day"),
        ("mon 11-22:99", "not a time"), ("mon 25:00-26:00", "not a time"),
        ("mon 11:00", "not a range"),
        ("mon 11h-22h", "not a time like 11:00"),
    ],
)  # fmt: skip
def test_malformed_hours_say_what_is_wrong(value, says):
    with pytest.raises(HoursError, match=says):
        parse_hours(value)


def test_a_malformed_time_zone_says_what_is_wrong():
    with pytest.raises(HoursError, match="not a time zone"):
        parse_time_zone("Mars/Olympus_Mons")
    assert parse_time_zone("Europe/Rome").key == "Europe/Rome"


@pytest.mark.parametrize(
    "name, value", [("SHOP_HOURS", "mon 9-"), ("SHOP_TIME_ZONE", "Nowhere/Town")]
)
def test_the_app_refuses_to_start_with_a_malformed_value(settings, name, value):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        apps.get_app_config("orders").ready()


def test_manage_py_stops_with_a_clear_message_on_malformed_hours():
    env = {**os.environ, "SHOP_HOURS": "someday 9 to 5"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], capture_output=True, text=True, env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "SHOP_HOURS" in result.stderr
    assert "ImproperlyConfigured" in result.stderr
