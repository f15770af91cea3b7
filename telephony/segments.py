"""How many SMS segments a text costs: GSM-7 (160, or 153 per part) or UCS-2 (70, or 67)."""

from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs two septets (an escape, then the character).
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int


def analyse(text):
    text = text or ""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SegmentInfo(encoding, units, 1 if units else 0, single)
    return SegmentInfo(encoding, units, -(-units // multi), multi)


# Letters GSM-7 lacks, written as the look-alike it has: one "á" would make a whole Spanish text
# UCS-2 (67 characters a part instead of 153). é, ñ, ü, ¿ and ¡ are GSM-7 and stay.
_TO_GSM = str.maketrans("áíóúÁÍÓÚ", "aiouAIOU")


def gsm_letters(text):
    """`text` with á í ó ú (and capitals) written a i o u, as Spanish texters often do, so an
    accent alone does not cost the UCS-2 encoding; every other character is kept."""
    return (text or "").translate(_TO_GSM)


def count_segments(text):
    return analyse(text).segments
