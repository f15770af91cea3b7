"""The shop's opening hours and clock, in one place: SHOP_HOURS / SHOP_TIME_ZONE parsed (pure
functions, so orders.apps checks them at start-up), "open now?", "open when?", and every
time turned into what a person reads or hears.

    24/7
    mon-thu 11:00-22:00; fri-sat 11:00-23:30; sun 12:00-21:00
    mon,wed 11:30-14:00,17:00-22:00; fri 18:00-02:00   (past midnight: closes next day)
"""

import re
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import dateformat, timezone
from django.utils.translation import gettext, pgettext

from . import shop

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAY_ALIASES = {
    "monday": "mon", "tuesday": "tue", "tues": "tue", "wednesday": "wed", "thursday": "thu",
    "thur": "thu", "thurs": "thu", "friday": "fri", "saturday": "sat", "sunday": "sun",
}  # fmt: skip
_ALWAYS = {"24/7", "always", "24x7"}
_TIME = re.compile(r"^([0-9]{1,2})(?::([0-9]{2}))?$")


class HoursError(ValueError):
    """SHOP_HOURS or SHOP_TIME_ZONE cannot be understood; the message says why."""


@dataclass(frozen=True)
class Span:
    weekday: int  # 0 = Monday
    opens: time
    minutes: int  # how long it stays open (may run past midnight)


@dataclass(frozen=True)
class Hours:
    """Opening hours; `closed` dates (holidays) have no opening, and an opening that starts
    the evening before one still runs past midnight as usual."""

    spans: tuple[Span, ...]
    always_open: bool = False
    closed: frozenset = frozenset()

    def is_open(self, when):
        """Whether the shop is open at `when` (an aware or naive local datetime)."""
        if self.always_open:
            return when.date() not in self.closed
        return any(start <= when < end for start, end in self._windows_around(when))

    def next_opening(self, when):
        """The next local datetime the shop opens after `when`, or None when it never does."""
        if self.always_open:
            day = when
            for _ in range(len(self.closed) + 1):
                if day.date() not in self.closed:
                    return day
                day = (day + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            return None
        days_ahead = 8 + len(self.closed)
        starts = [start for start, _ in self._windows_around(when, days_ahead) if start > when]
        return min(starts, default=None)

    def closes_at(self, when):
        """When the opening `when` falls in ends (a local datetime), or None when the shop
        is closed then or never closes."""
        if self.always_open:
            return None
        return max((end for start, end in self._windows_around(when) if start <= when < end),
                   default=None)  # fmt: skip

    def _windows_around(self, when, days_ahead=1):
        day0 = when.replace(hour=0, minute=0, second=0, microsecond=0)
        for offset in range(-1, days_ahead + 1):
            day = day0 + timedelta(days=offset)
            if day.date() in self.closed:
                continue
            for span in self.spans:
                if span.weekday == day.weekday():
                    start = day.replace(hour=span.opens.hour, minute=span.opens.minute)
                    yield start, start + timedelta(minutes=span.minutes)


def _day_index(word, raw):
    word = _DAY_ALIASES.get(word, word)
    if word not in DAYS:
        raise HoursError(
            f"SHOP_HOURS: {word!r} in {raw!r} is not a day; use mon, tue, wed, thu, fri, sat, sun."
        )
    return DAYS.index(word)


def _days(spec, raw):
    result = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            first, last = (_day_index(p.strip(), raw) for p in part.split("-", 1))
            day = first
            result.append(day)
            while day != last:
                day = (day + 1) % 7
                result.append(day)
        else:
            result.append(_day_index(part, raw))
    if not result:
        raise HoursError(f"SHOP_HOURS: no days in {raw!r}.")
    return result


def _clock(text, raw):
    match = _TIME.match(text.strip())
    if not match:
        raise HoursError(f"SHOP_HOURS: {text.strip()!r} in {raw!r} is not a time like 11:00.")
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour == 24 and minute == 0:
        return 24 * 60
    if hour > 23 or minute > 59:
        raise HoursError(f"SHOP_HOURS: {text.strip()!r} in {raw!r} is not a time of day.")
    return hour * 60 + minute


def parse_hours(value):
    """Parse a SHOP_HOURS value into Hours, or raise HoursError saying what is wrong."""
    text = (value or "").strip().lower()
    if not text:
        raise HoursError("SHOP_HOURS is empty; set it like 'mon-sun 11:00-22:00' or '24/7'.")
    if text in _ALWAYS:
        return Hours(spans=(), always_open=True)
    spans = []
    for rule in filter(None, (r.strip() for r in text.split(";"))):
        days_part, _, times_part = rule.partition(" ")
        if not times_part.strip():
            raise HoursError(
                f"SHOP_HOURS: {rule!r} needs days and times, like 'mon-fri 11:00-22:00'."
            )
        days = _days(days_part, rule)
        for window in times_part.replace(" ", "").split(","):
            if "-" not in window:
                raise HoursError(
                    f"SHOP_HOURS: {window!r} in {rule!r} is not a range like 11:00-22:00."
                )
            opens_text, closes_text = window.split("-", 1)
            opens, closes = _clock(opens_text, rule), _clock(closes_text, rule)
            if opens >= 24 * 60:
                raise HoursError(f"SHOP_HOURS: {rule!r} cannot open at 24:00.")
            minutes = closes - opens if closes > opens else closes + 24 * 60 - opens
            for day in days:
                spans.append(Span(day, time(opens // 60, opens % 60), minutes))
    if not spans:
        raise HoursError("SHOP_HOURS has no opening times; set it like 'mon-sun 11:00-22:00'.")
    return Hours(spans=tuple(spans))


def parse_time_zone(name):
    """ZoneInfo for a SHOP_TIME_ZONE value, or HoursError saying what is wrong."""
    try:
        return ZoneInfo((name or "").strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HoursError(
            f"SHOP_TIME_ZONE {name!r} is not a time zone; use a name like America/New_York."
        ) from exc


def _time_of_day(value):
    """ "7:45 PM": the same in every language the shop speaks (US customers read it so)."""
    return value.strftime("%I:%M %p").lstrip("0")


def describe_opening(opening, now):
    """'at 11:00 AM', 'tomorrow at 11:00 AM' or 'on Monday at 11:00 AM' (both local): when
    `opening`, or any other time, is as a person says it, in the active language."""
    clock = _time_of_day(opening)
    days = (opening.date() - now.date()).days
    if days <= 0:
        return gettext("at %(time)s") % {"time": clock}
    if days == 1:
        return gettext("tomorrow at %(time)s") % {"time": clock}
    day = dateformat.format(opening, "l")  # the weekday's name, in the active language
    return gettext("on %(day)s at %(time)s") % {"day": day, "time": clock}


# --- the shop's clock: SHOP_HOURS and SHOP_TIME_ZONE, read in one place -----------------------


@lru_cache(maxsize=8)
def _parsed_hours(value):
    return parse_hours(value)


@lru_cache(maxsize=8)
def _parsed_zone(name):
    return parse_time_zone(name)


def shop_hours():
    """The opening hours now: the owner's (orders.shop, set in the admin) or SHOP_HOURS,
    parsed, without the days the owner closed."""
    hours = _parsed_hours(shop.hours_text())
    closed = shop.closed_dates()
    return replace(hours, closed=closed) if closed else hours


def shop_zone():
    return _parsed_zone(settings.SHOP_TIME_ZONE)


def local(value):
    """`value` (aware) in the shop's time zone: the one way a time is turned into what a
    person reads or hears (texts, the phone line, the board, reports)."""
    return timezone.localtime(value, shop_zone())


def is_open(now=None):
    return shop_hours().is_open(local(now or timezone.now()))


def next_opening_words(now=None):
    """'tomorrow at 11:00 AM' and the like, in the shop's time zone."""
    here = local(now or timezone.now())
    opening = shop_hours().next_opening(here)
    return describe_opening(opening, here) if opening else gettext("soon")


def clock(value, now=None):
    """A time as a customer reads it: '7:45 PM', or 'Sat 11:00 AM' when not today (the
    weekday in the active language)."""
    if value is None:
        return gettext("soon")
    here, there = local(now or timezone.now()), local(value)
    text = _time_of_day(there)
    if here.date() == there.date():
        return text
    day = dateformat.format(there, "D")
    return pgettext("weekday and time", "%(day)s %(time)s") % {"day": day, "time": text}


def when_words(value, now=None):
    """A time as the phone line says it: 'at 7:45 PM', 'tomorrow at 11:00 AM' or
    'on Monday at 11:00 AM', in the shop's time zone."""
    return describe_opening(local(value), local(now or timezone.now()))


@dataclass(frozen=True)
class Opening:
    is_open: bool
    hours: str = ""  # the hours in words, e.g. "Monday to Thursday, 11:00 to 22:00"
    next_opening: str = ""  # "tomorrow at 11:00 AM"


_A_MONDAY = date(2024, 1, 1)


def spoken_hours(hours_text):
    """SHOP_HOURS as the phone line reads it out, in the active language."""
    days_named = {
        short: dateformat.format(_A_MONDAY + timedelta(days=index), "l")
        for index, short in enumerate(DAYS)
    }
    to, and_ = pgettext("from ... to ...", "to"), pgettext("this and that", "and")
    rules = []
    for rule in filter(None, (r.strip() for r in hours_text.lower().split(";"))):
        days, _, times = rule.partition(" ")
        for short, name in days_named.items():
            days = days.replace(short, name)
        days = days.replace("-", f" {to} ").replace(",", f" {and_} ")
        times = times.replace(" ", "").replace("-", f" {to} ").replace(",", f" {and_} ")
        rules.append(f"{days}, {times}")
    return "; ".join(rules)


def opening(now=None):
    """Whether the shop is open now and, when it is not, its hours and next opening."""
    here = local(now or timezone.now())
    if shop_hours().is_open(here):
        return Opening(True)
    upcoming = shop_hours().next_opening(here)
    return Opening(
        False,
        hours=spoken_hours(shop.hours_text()),
        next_opening=describe_opening(upcoming, here) if upcoming else "",
    )
