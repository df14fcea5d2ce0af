"""Horizontal bar charts drawn on the server as SVG: no script, a text summary and the table that
holds the same numbers beside each one (the chart itself is hidden from screen readers)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

SCALE_MAX = Decimal(5)


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | None
    percent: int  # of the 1–5 scale's maximum
    y: int


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    height: int


BAR_HEIGHT = 22
GAP = 30


def bars(rows: list[tuple[str, Decimal | None]]) -> Chart:
    """One bar per (label, mean of 1–5); a missing mean draws no bar."""
    out = []
    for i, (label, value) in enumerate(rows):
        percent = 0 if value is None else int(Decimal(value) / SCALE_MAX * 100)
        out.append(Bar(label=str(label), value=value, percent=percent, y=i * GAP + 18))
    return Chart(bars=out, height=max(1, len(out)) * GAP + 10)
