"""Charts drawn on the server as SVG: no script, no outside resource, nothing the console's
content-security policy forbids, and they print.

One chart is one category of declared figures over time: a line of points per party, and the
limit as a dashed line. Each point is a link to the evidence of the declaration it shows (what
``hotline verify`` checks offline) and carries its values in ``data-`` attributes and a
``<title>`` (a tooltip, and what a screen reader says); a declaration the other side questioned
has a ring and a link to the question; one superseded by a later declaration for the same date
is drawn hollow, off the line. The page beside it gives the same numbers as a table.

Built with ``xml.etree.ElementTree``, which escapes every text and attribute.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 28, 44  # the margins around the plot area
FEW_DATES = 8  # up to this many as-of dates, each has its tick; beyond, the years do
SHAPES = ("circle", "square", "diamond", "triangle")  # one per party, so print and colour blindness lose nothing


@dataclass(frozen=True)
class Point:
    day: date
    value: int
    serial: str
    label: str  # the tooltip: who declared what, as of when
    superseded: bool = False
    questioned_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Series:
    party: str
    points: tuple[Point, ...]  # oldest first


@dataclass(frozen=True)
class Words:
    """What the chart says, in the reader's language."""

    title: str
    limit: str  # "New START limit: 1,550"
    questioned: str  # "questioned by {serial}"
    number: Callable[[int], str]
    year: Callable[[date], str]  # the label of a year's tick
    month: Callable[[date], str] = date.isoformat  # the label of an as-of date's tick


def chart(series: Sequence[Series], limit: int, words: Words, chart_id: str) -> str:
    """The SVG of one category, as text to put in the page."""
    days = [p.day for s in series for p in s.points]
    low, high = _time_range(days)
    top = _nice_top(max([limit, *(p.value for s in series for p in s.points)]))
    x = _scale(low.toordinal(), high.toordinal(), LEFT, WIDTH - RIGHT)
    y = _scale(0, top, HEIGHT - BOTTOM, TOP)
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "class": "chart",
            "role": "img",
            "id": chart_id,
            "aria-labelledby": f"{chart_id}-title",
        },
    )
    ET.SubElement(svg, "title", {"id": f"{chart_id}-title"}).text = words.title
    _axes(svg, x, y, days, top, words)
    limit_y = f"{y(limit):.1f}"
    ET.SubElement(svg, "line", {"class": "limit", "x1": str(LEFT), "x2": str(WIDTH - RIGHT),
                                "y1": limit_y, "y2": limit_y, "data-limit": str(limit)})  # fmt: skip
    for n, one in enumerate(series):
        _series(svg, one, n, x, y, words)
    _legend(svg, series, words)
    return ET.tostring(svg, encoding="unicode")


def _series(svg: ET.Element, one: Series, n: int, x: Scale, y: Scale, words: Words) -> None:
    group = ET.SubElement(svg, "g", {"class": f"series party-{n % len(SHAPES)}", "data-party": one.party})
    standing = [p for p in one.points if not p.superseded]
    if len(standing) > 1:
        path = " ".join(f"{x(p.day.toordinal()):.1f},{y(p.value):.1f}" for p in standing)
        ET.SubElement(group, "polyline", {"class": "line", "points": path})
    for point in one.points:
        cx, cy = x(point.day.toordinal()), y(point.value)
        link = ET.SubElement(group, "a", {"href": f"/messages/{point.serial}/evidence"})
        attributes = {
            "class": "point superseded" if point.superseded else "point",
            "data-party": one.party,
            "data-as-of": point.day.isoformat(),
            "data-value": str(point.value),
            "data-serial": point.serial,
        }
        marker = _marker(link, SHAPES[n % len(SHAPES)], cx, cy, attributes)
        ET.SubElement(marker, "title").text = point.label
        for question in point.questioned_by:
            asked = ET.SubElement(group, "a", {"href": f"/messages/{question}", "class": "question"})
            ET.SubElement(asked, "circle", {"class": "questioned", "cx": f"{cx:.1f}", "cy": f"{cy:.1f}", "r": "9",
                                            "data-serial": point.serial})  # fmt: skip
            ET.SubElement(asked, "title").text = words.questioned.format(serial=question)


def _marker(parent: ET.Element, shape: str, cx: float, cy: float, attributes: dict[str, str]) -> ET.Element:
    if shape == "circle":
        return ET.SubElement(parent, "circle", {**attributes, "cx": f"{cx:.1f}", "cy": f"{cy:.1f}", "r": "4.5"})
    if shape == "square":
        return ET.SubElement(parent, "rect", {**attributes, "x": f"{cx - 4:.1f}", "y": f"{cy - 4:.1f}",
                                              "width": "8", "height": "8"})  # fmt: skip
    corners = [(0, -5.5), (5.5, 0), (0, 5.5), (-5.5, 0)] if shape == "diamond" else [(0, -5.5), (5, 4), (-5, 4)]
    points = " ".join(f"{cx + dx:.1f},{cy + dy:.1f}" for dx, dy in corners)
    return ET.SubElement(parent, "polygon", {**attributes, "points": points})


def _axes(svg: ET.Element, x: Scale, y: Scale, days: list[date], top: int, words: Words) -> None:
    axes = ET.SubElement(svg, "g", {"class": "axes"})
    for value in _ticks(top):
        ty = f"{y(value):.1f}"
        ET.SubElement(axes, "line", {"class": "grid", "x1": str(LEFT), "x2": str(WIDTH - RIGHT), "y1": ty, "y2": ty})
        label = {"x": str(LEFT - 8), "y": ty, "text-anchor": "end", "dominant-baseline": "middle"}
        ET.SubElement(axes, "text", label).text = words.number(value)
    few = len(set(days)) <= FEW_DATES
    for day in _time_ticks(days):
        tx = f"{x(day.toordinal()):.1f}"
        tick = {"class": "tick", "x1": tx, "x2": tx, "y1": str(HEIGHT - BOTTOM), "y2": str(HEIGHT - BOTTOM + 5)}
        ET.SubElement(axes, "line", tick)
        label = {"x": tx, "y": str(HEIGHT - BOTTOM + 20), "text-anchor": "middle"}
        ET.SubElement(axes, "text", label).text = words.month(day) if few else words.year(day)
    axis = {"class": "axis", "x1": str(LEFT), "x2": str(WIDTH - RIGHT), "y1": str(HEIGHT - BOTTOM)}
    ET.SubElement(axes, "line", {**axis, "y2": str(HEIGHT - BOTTOM)})


def _time_ticks(days: list[date]) -> list[date]:
    """Each as-of date while there are few (they are where the points are); else 1 January of
    the years, ten at most."""
    distinct = sorted(set(days))
    if len(distinct) <= FEW_DATES:
        return distinct
    low, high = _time_range(distinct)
    years = range(low.year + 1, high.year + 1)
    step = max(1, math.ceil(len(years) / 10))
    return [date(year, 1, 1) for year in years[::step]]


def _legend(svg: ET.Element, series: Sequence[Series], words: Words) -> None:
    """Above the plot: each party's mark, and at the right the limit's (off the lines it labels)."""
    legend = ET.SubElement(svg, "g", {"class": "legend"})
    for n, one in enumerate(series):
        lx = LEFT + 10 + n * 150
        marker = ET.SubElement(legend, "g", {"class": f"series party-{n % len(SHAPES)}"})
        _marker(marker, SHAPES[n % len(SHAPES)], lx, TOP - 12, {"class": "point"})
        label = {"x": str(lx + 10), "y": str(TOP - 12), "dominant-baseline": "middle"}
        ET.SubElement(legend, "text", label).text = one.party
    right, level = WIDTH - RIGHT, str(TOP - 12)
    ET.SubElement(
        legend, "line", {"class": "limit key", "x1": str(right - 28), "x2": str(right), "y1": level, "y2": level}
    )
    label = {
        "class": "limit-label",
        "x": str(right - 34),
        "y": level,
        "text-anchor": "end",
        "dominant-baseline": "middle",
    }
    ET.SubElement(legend, "text", label).text = words.limit


Scale = Callable[[float], float]


def _scale(low: float, high: float, out_low: float, out_high: float) -> Scale:
    span = (high - low) or 1

    def scale(value: float) -> float:
        return out_low + (value - low) * (out_high - out_low) / span

    return scale


def _time_range(days: list[date]) -> tuple[date, date]:
    """From a little before the first point to a little after the last: a year at least."""
    if not days:
        today = date(2026, 2, 5)  # New START expired: an empty chart still shows where it starts
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    first, last = min(days).toordinal(), max(days).toordinal()
    pad = max(30, (last - first) // 20)
    # Within the calendar: a date a peer typed as year 1 or 9999 still draws (where it is).
    low = max(date.min.toordinal(), first - pad)
    high = min(date.max.toordinal(), max(last + pad, low + 365))
    return date.fromordinal(low), date.fromordinal(high)


def _nice_top(value: int) -> int:
    """A round top for the value axis, a tenth or so above the largest value."""
    raw = max(1, value) * 1.1
    magnitude = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= raw:
            return int(top)
    return int(10 * magnitude)


def _ticks(top: int) -> list[int]:
    step = top / 5
    return [round(step * n) for n in range(6)]
