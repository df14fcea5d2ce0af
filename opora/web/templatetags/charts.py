"""Charts drawn on the server as SVG: bars, stacked bars and lines, each with its text summary
and the table that holds the same numbers (the table is what a screen reader reads; the picture
is `role="img"` with a title and a description).

No script and no inline style (the strict CSP): sizes are SVG attributes, colours are classes
styled in `static/opora/dashboards.css`. A chart is built in the view (`bars`, `stacked`, `lines`), so
the same object renders the picture and exports its data (`Chart.columns`, `Chart.rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import template

register = template.Library()

WIDTH = 600  # the viewBox's width; the picture scales to the page (width="100%")
LABEL_ROW = 18  # the label above each horizontal bar
BAR = 14
ROW = LABEL_ROW + BAR + 8
LINE_HEIGHT = 200
SERIES_CLASSES = 8  # chart-s0 … chart-s7 in charts.css


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass
class Line:
    points: str
    css: str
    title: str


@dataclass
class Chart:
    """One picture and the table behind it. `rows` are the exported data, `columns` their
    headings; `summary` says in words what the picture shows."""

    key: str
    title: str
    summary: str
    columns: list[str]
    rows: list[list[Any]]
    height: int = 0
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, series name)

    @property
    def empty(self) -> bool:
        return not self.rows


def _number(value: Any) -> float:
    return float(value or 0)


def bars(
    key: str, title: str, summary: str, columns: list[str], rows: list[list[Any]], value: int = 1
) -> Chart:
    """Horizontal bars: one per row, its label the row's first cell, its length `row[value]`."""
    chart = Chart(key, title, summary, columns, rows)
    top = max((_number(r[value]) for r in rows), default=0) or 1
    for i, row in enumerate(rows):
        y = i * ROW
        length = _number(row[value]) / top * (WIDTH - 80)
        chart.texts.append(Text(0, y + 13, f"{row[0]}"))
        chart.rects.append(Rect(0, y + LABEL_ROW, round(length, 1), BAR, "chart-s0", f"{row[0]}"))
        chart.texts.append(Text(round(length, 1) + 6, y + LABEL_ROW + 11, f"{row[value]}"))
    chart.height = max(len(rows), 1) * ROW
    return chart


def stacked(
    key: str,
    title: str,
    summary: str,
    label: str,
    series: list[str],
    rows: list[list[Any]],
) -> Chart:
    """Horizontal stacked bars: each row is [label, value of series 0, value of series 1, …];
    the table adds the total."""
    columns = [label, *series]
    chart = Chart(key, title, summary, columns, rows)
    top = max((sum(_number(v) for v in r[1:]) for r in rows), default=0) or 1
    chart.legend = [(f"chart-s{i % SERIES_CLASSES}", name) for i, name in enumerate(series)]
    for i, row in enumerate(rows):
        y = i * ROW
        chart.texts.append(Text(0, y + 13, f"{row[0]}"))
        x = 0.0
        for j, v in enumerate(row[1:]):
            width = _number(v) / top * (WIDTH - 80)
            if width:
                css = f"chart-s{j % SERIES_CLASSES}"
                chart.rects.append(
                    Rect(round(x, 1), y + LABEL_ROW, round(width, 1), BAR, css, f"{series[j]}: {v}")
                )
            x += width
        total = sum(_number(v) for v in row[1:])
        chart.texts.append(Text(round(x, 1) + 6, y + LABEL_ROW + 11, f"{total:g}"))
    chart.height = max(len(rows), 1) * ROW
    return chart


def lines(
    key: str,
    title: str,
    summary: str,
    label: str,
    series: list[str],
    rows: list[list[Any]],
) -> Chart:
    """Lines over the rows (days): each row is [x label, value of series 0, …]."""
    chart = Chart(key, title, summary, [label, *series], rows)
    chart.height = LINE_HEIGHT + 24
    top = max((_number(v) for r in rows for v in r[1:]), default=0) or 1
    n = len(rows)
    step = (WIDTH - 40) / max(n - 1, 1)
    chart.legend = [(f"chart-s{i % SERIES_CLASSES}", name) for i, name in enumerate(series)]
    for j, name in enumerate(series):
        points = " ".join(
            f"{round(20 + i * step, 1)},{round(LINE_HEIGHT - _number(r[j + 1]) / top * (LINE_HEIGHT - 20), 1)}"
            for i, r in enumerate(rows)
        )
        chart.lines.append(Line(points, f"chart-line chart-s{j % SERIES_CLASSES}", name))
    if rows:
        chart.texts.append(Text(20, LINE_HEIGHT + 18, f"{rows[0][0]}"))
        chart.texts.append(Text(WIDTH - 20, LINE_HEIGHT + 18, f"{rows[-1][0]}", "end"))
    chart.texts.append(Text(0, 12, f"{top:g}"))
    return chart


@register.inclusion_tag("web/dashboards/_chart.html", takes_context=True)
def chart(context: Any, chart: Chart) -> dict[str, Any]:
    """The picture, its summary, its table and its export links."""
    request = context.get("request")
    query = request.GET.copy() if request is not None else {}
    links = []
    for fmt in ("csv", "xlsx"):
        q = query.copy() if hasattr(query, "copy") else {}
        q["export"] = fmt
        q["chart"] = chart.key
        links.append((fmt, q.urlencode() if hasattr(q, "urlencode") else ""))
    return {"chart": chart, "width": WIDTH, "links": links}
