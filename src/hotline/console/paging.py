"""Pages of rows, as a reader moves through them: which rows a page holds, how many are not
shown, and the links to the pages around it, with the rest of the query kept.

Every list the console shows is read a page at a time (``[bounds] page_rows``), whatever the
backlog: a page's size and the time it takes to build do not grow with the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

LAST_PAGE = 1_000_000  # beyond any store: keeps an OFFSET within SQLite's integers


class PageError(ValueError):
    """A page number that is none; the message says what was given, in the reader's language."""


def page_number(text: str | None, _: Callable[[str], str]) -> int:
    """The page a query asks for (1 when it names none)."""
    if text is None or text == "":
        return 1
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= LAST_PAGE:
        raise PageError(_("Page: “{value}” is not a page number (1, 2, 3…).").format(value=text[:40]))
    return int(text)


@dataclass(frozen=True)
class Paging:
    number: int  # counted from 1
    size: int  # rows on a full page
    total: int  # rows on every page together
    path: str  # the page's address, without its query
    query: Mapping[str, str] = field(default_factory=dict)  # the rest of the query, kept on every link

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The position of the first row shown, counted from 1 (0 when none is)."""
        return self.offset + 1 if self.offset < self.total else 0

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)

    @property
    def not_shown(self) -> int:
        return self.total - (self.last - self.first + 1 if self.first else 0)

    def href(self, number: int) -> str:
        query = {key: value for key, value in dict(self.query).items() if value and key != "page"}
        if number > 1:
            query["page"] = str(number)
        return f"{self.path}?{urlencode(query)}" if query else self.path

    @property
    def previous_href(self) -> str | None:
        return self.href(min(self.number - 1, self.pages)) if self.number > 1 else None

    @property
    def next_href(self) -> str | None:
        return self.href(self.number + 1) if self.number < self.pages else None
