"""A search of the message log, as the page's address carries it.

The filters live in the query string (``/messages?peer=GENSTAB&precedence=FLASH&from=2026-11-24``)
so that a watch officer can bookmark a search, refresh it, or hand it to the next watch. Every
value is checked here, and each one that is wrong is named in the reader's language: a search
never fails as a server error, and never quietly searches for something else.

Dates are whole days in UTC, both ends included, as a watch log counts them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hotline.console.paging import PageError, page_number
from hotline.envelope import Precedence
from hotline.forms import FORMS
from hotline.storage import MessageFilter

FIELDS = ("direction", "peer", "form", "precedence", "from", "to")  # what the search form sends
DIRECTIONS = {"sent": True, "received": False}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Search:
    found: MessageFilter
    page: int
    values: dict[str, str]  # as given, for the form to show again and the page links to keep


def read_search(query: Mapping[str, str], peers: Sequence[str], _: Callable[[str], str]) -> tuple[Search, list[str]]:
    """The search a query asks for, and what is wrong with it (empty when nothing is). With
    errors, the search returned asks for nothing in particular and must not be run."""
    values = {name: query.get(name, "").strip()[:80] for name in FIELDS}
    errors: list[str] = []
    direction, peer, kind, precedence = (values[n] or None for n in ("direction", "peer", "form", "precedence"))
    if direction is not None and direction not in DIRECTIONS:
        errors.append(_("Direction: choose incoming only, outgoing only, or both."))
    if peer is not None and peer not in peers:
        errors.append(_("Peer: “{value}” is not a peer of this node.").format(value=peer))
    if kind is not None and all(k != kind for k, _version in FORMS):
        errors.append(_("Form: “{value}” is not a form of the catalogue.").format(value=kind))
    if precedence is not None and precedence not in Precedence.__members__:
        errors.append(_("Precedence: “{value}” is not a precedence.").format(value=precedence))
    since = _day(values["from"], _("From (UTC date)"), errors, _)
    until = _day(values["to"], _("To (UTC date)"), errors, _)
    if since is not None and until is not None and since > until:
        errors.append(_("The dates are the wrong way round: the first is after the last."))
    try:
        page = page_number(query.get("page"), _)
    except PageError as exc:
        errors.append(str(exc))
        page = 1
    found = MessageFilter(
        peer=peer,
        kind=kind,
        precedence=precedence,
        since_ms=since,
        until_ms=None if until is None else until + DAY_MS,  # the whole of the last day
        sent=None if direction is None else DIRECTIONS.get(direction),
    )
    return Search(MessageFilter() if errors else found, page, values), errors


def _day(text: str, label: str, errors: list[str], _: Callable[[str], str]) -> int | None:
    """Midnight UTC of a ``YYYY-MM-DD`` day, in milliseconds; None for no date."""
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text) if DATE.fullmatch(text) else None
    except ValueError:  # a day that is none, such as 2026-02-30
        day = None
    if day is None:
        errors.append(_("{field}: “{value}” is not a date; write it as 2026-11-24.").format(field=label, value=text))
        return None
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1000)
