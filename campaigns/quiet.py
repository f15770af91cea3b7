"""Quiet hours: a promotion reaches a phone only between CAMPAIGN_SEND_FROM and
CAMPAIGN_SEND_UNTIL in the recipient's local time.

The zone comes from the number (phonenumbers' time zone data); a number it cannot place
gets the shop's zone (SHOP_TIME_ZONE). A number whose prefix spans several zones (a US
area code split between Eastern and Central time, say) is texted only while it is
daytime in all of them: the latest morning and the earliest evening, so nobody in any
of those zones is woken up. Zones are kept as a comma-joined list of IANA names.
"""

from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from phonenumbers import timezone as phone_zones

from orders.hours import shop_zone

UNKNOWN = "Etc/Unknown"  # phonenumbers' answer for a number it cannot place


def zones_for(number):
    """The IANA zones of an E.164 number, comma-joined (the shop's when unknown)."""
    try:
        found = phone_zones.time_zones_for_number(phonenumbers.parse(str(number), None))
    except phonenumbers.NumberParseException:
        found = ()
    found = sorted(z for z in found if z != UNKNOWN)
    joined = ",".join(found)
    if not found or len(joined) > 255:
        return shop_zone().key
    return joined


def _parse(value):
    hours, _, minutes = str(value).partition(":")
    if int(hours) == 24:
        return time.max  # "24:00": the end of the day
    return time(int(hours), int(minutes or 0))


def window():
    """(from, until) local times, from CAMPAIGN_SEND_FROM / CAMPAIGN_SEND_UNTIL."""
    return _parse(settings.CAMPAIGN_SEND_FROM), _parse(settings.CAMPAIGN_SEND_UNTIL)


@cache
def _zones(joined):
    return tuple(ZoneInfo(name) for name in joined.split(","))


def is_open(zones, moment):
    """Whether `moment` (aware) is inside the sending window in every zone of `zones`."""
    start, until = window()
    return all(start <= moment.astimezone(zone).time() < until for zone in _zones(zones))


def opens_at(zones, moment):
    """The first instant at or after `moment` when `zones` are all inside the window."""
    if is_open(zones, moment):
        return moment
    start = window()[0]
    candidates = sorted(
        datetime.combine(moment.astimezone(zone).date() + timedelta(days=days), start, zone)
        for zone in _zones(zones)
        for days in range(3)
    )
    for candidate in candidates:
        if candidate > moment and is_open(zones, candidate):
            return candidate
    return None  # a window too narrow to overlap in these zones: never
