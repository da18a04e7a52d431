"""The *Transparency* page: each party's declared forces over time, one chart per category of
New START beside its expired limit, and the same numbers as tables.

The charts are ``charts.py``'s SVG; the tables give, for each as-of date, each party's figure as
it stands (a superseded declaration is listed below them, with what superseded it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date

from hotline.console.charts import Point, Series, Words, chart
from hotline.forms.declarations import CATEGORIES, Category, Declaration
from hotline.forms.formatting import Formatter


@dataclass(frozen=True)
class Panel:
    """One category: its chart, and its table (rows of as-of dates, a column per party)."""

    category: Category
    title: str
    svg: str
    parties: list[str]
    rows: list[tuple[date, list[Declaration | None]]]


def panels(declared: list[Declaration], party: str, lang: str) -> list[Panel]:
    """One panel per category, for the declarations ``declared`` (oldest first); ``party`` (us)
    is drawn first."""
    f = Formatter(lang)
    parties = sorted({d.party for d in declared} | {party}, key=lambda p: (p != party, p))
    standing = [d for d in declared if d.superseded_by is None]
    dates = sorted({d.as_of for d in standing})
    found = []
    for n, category in enumerate(CATEGORIES):
        title = f._(category.title)
        words = Words(
            title=title,
            limit=f._("New START limit: {limit}").format(limit=f.number(category.limit)),
            questioned=f._("Questioned in {serial}"),
            number=f.number,
            year=lambda day: str(day.year),
            month=lambda day: format_date(day, "LLL y", locale=f.locale),
        )
        series = [Series(p, tuple(_point(d, category, f) for d in declared if d.party == p)) for p in parties]
        svg = chart(series, category.limit, words, f"chart-{n + 1}")
        rows = [(day, [_at(standing, p, day) for p in parties]) for day in dates]
        found.append(Panel(category, title, svg, parties, rows))
    return found


def _point(d: Declaration, category: Category, f: Formatter) -> Point:
    label = f._("{party}, as of {date}: {value}").format(
        party=d.party, date=f.date(d.as_of), value=f.number(d.value(category))
    )
    return Point(d.as_of, d.value(category), d.serial, label, d.superseded_by is not None, d.questioned_by)


def _at(standing: list[Declaration], party: str, day: date) -> Declaration | None:
    return next((d for d in standing if d.party == party and d.as_of == day), None)


def context(declared: list[Declaration], party: str, lang: str) -> dict[str, Any]:
    return {
        "panels": panels(declared, party, lang),
        "declared": declared,
        "superseded": [d for d in declared if d.superseded_by is not None],
        "formatter": Formatter(lang),
    }
