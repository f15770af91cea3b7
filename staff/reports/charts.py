"""Bar geometry for the server-rendered SVG charts (the templates draw the rectangles)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the number as shown beside the bar
    x: float
    y: float
    width: float
    height: float

    @property
    def middle_x(self):
        return round(self.x + self.width / 2, 1)

    @property
    def middle_y(self):
        return round(self.y + self.height / 2, 1)

    @property
    def end_x(self):
        return round(self.x + self.width, 1)


@dataclass(frozen=True)
class Chart:
    bars: list
    width: int
    height: int


def columns(items, width=640, height=180, gap=8):
    """Vertical bars for (label, value, text) items; the tallest is `height` pixels."""
    items = list(items)
    top = max((value for _, value, _ in items), default=0) or 1
    slot = width / max(len(items), 1)
    bars = []
    for i, (label, value, text) in enumerate(items):
        h = max(round(height * value / top, 1), 2)  # a zero still shows as a line
        bars.append(
            Bar(label, value, text, round(i * slot + gap / 2, 1), round(height - h, 1),
                round(slot - gap, 1), h)
        )  # fmt: skip
    return Chart(bars, width, height)


def rows(items, width=300, row_height=26, gap=10, left=150):
    """Horizontal bars for (label, value, text) items, after a `left`-pixel label column;
    the longest is `width` pixels."""
    items = list(items)
    top = max((value for _, value, _ in items), default=0) or 1
    bars = [
        Bar(label, value, text, left, i * (row_height + gap),
            max(round(width * value / top, 1), 2), row_height)
        for i, (label, value, text) in enumerate(items)
    ]  # fmt: skip
    return Chart(bars, left + width + 90, len(bars) * (row_height + gap) - gap)
