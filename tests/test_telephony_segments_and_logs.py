"""Segment counting (what a text costs) and what reaches the logs."""

import logging

import pytest

from telephony.logging import MaskPhoneNumbers
from telephony.numbers import mask, to_e164
from telephony.segments import analyse


@pytest.mark.parametrize(
    "text, encoding, segments",
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters count double: 160 septets
        ("€" * 81, "GSM-7", 2),
        ("[" + "a" * 159, "GSM-7", 2),
        ("é" * 160, "GSM-7", 1),  # é is in the basic GSM-7 table
        ("ç" * 70, "UCS-2", 1),  # ç is not (only Ç is)
        ("ç" * 71, "UCS-2", 2),
        ("ы" * 134, "UCS-2", 2),
        ("ы" * 135, "UCS-2", 3),
        ("🍕" * 35, "UCS-2", 1),  # each emoji is two UTF-16 units
        ("🍕" * 36, "UCS-2", 2),
    ],
)
def test_segments_follow_the_gsm7_and_ucs2_rules(text, encoding, segments):
    info = analyse(text)
    assert (info.encoding, info.segments) == (encoding, segments)


@pytest.mark.parametrize("raw", ["+1 (415) 555-0199", "4155550199", "+14155550199", "415.555.0199"])
def test_the_ways_people_write_one_number_are_one_number(raw):
    assert to_e164(raw) == "+14155550199"


@pytest.mark.parametrize("raw", ["", "pizza", "123", None])
def test_things_that_are_not_numbers_are_none(raw):
    assert to_e164(raw) is None


def test_logs_mask_phone_numbers_and_hide_the_auth_token(settings):
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "texted %s with token %s",
        ("+14155550199", settings.TWILIO_AUTH_TOKEN), None,
    )  # fmt: skip
    MaskPhoneNumbers().filter(record)
    message = record.getMessage()
    assert "+14155550199" not in message
    assert mask("+14155550199") in message
    assert settings.TWILIO_AUTH_TOKEN not in message
