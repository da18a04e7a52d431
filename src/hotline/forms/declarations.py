"""The record of declarations: every ``arsenal_declaration`` sent or received, in the categories
and against the limits of the New START Treaty, which expired on 5 February 2026.

Under the treaty the parties exchanged full data twice a year; what mattered in the disputes
that followed was each party's own signed word. So the record keeps every declaration as signed
(serial, envelope id, transcript position), by party and as-of date: a later declaration for the
same party and date supersedes the earlier, and both stay in the record. A declaration the other
side questioned (a ``clarification_request`` replying to it) says by which messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from hotline.envelope import cbor, serial
from hotline.errors import EncodingError
from hotline.forms import schemas as s
from hotline.forms.catalogue import validate_body
from hotline.forms.i18n import N_

KIND = "arsenal_declaration"
QUESTION = "clarification_request"


@dataclass(frozen=True)
class Category:
    """One of the three limits of New START (Article II), and the figure of a declaration it
    counted."""

    key: str
    title: str  # N_(): translated where shown
    limit: int


# The order of Article II: warheads, deployed launchers, all launchers.
CATEGORIES = (
    Category("deployed_warheads", N_("Deployed warheads"), 1550),
    Category("deployed_launchers", N_("Deployed ICBMs, SLBMs and heavy bombers"), 700),
    Category(
        "deployed_and_non_deployed_launchers",
        N_("Deployed and non-deployed ICBM and SLBM launchers and heavy bombers"),
        800,
    ),
)
FIGURES = (
    "deployed_icbms",
    "deployed_slbms",
    "deployed_heavy_bombers",
    "deployed_warheads",
    "deployed_and_non_deployed_launchers",
)


@dataclass(frozen=True)
class Signed:
    """A message as the store holds it, enough to place it in the record."""

    party: str  # who signed it
    number: int
    envelope_id: bytes
    kind: str
    kind_version: int
    body: bytes  # canonical CBOR of the form body
    signed_ms: int
    log_index: int | None
    reply_to: bytes | None = None
    recipient: str | None = None  # whom it went to (ours: the peer; a peer's: us)


@dataclass(frozen=True)
class Declaration:
    party: str
    as_of: date
    figures: dict[str, int]  # the five declared, and deployed_launchers as New START counted them
    serial: str
    envelope_id: bytes
    signed_ms: int
    log_index: int | None
    superseded_by: str | None = None  # the serial of a later declaration for the same party and date
    questioned_by: tuple[str, ...] = field(default=())  # serials of clarification requests about it
    recipient: str | None = None
    number: int = 0  # the party's message number: a later word for the same date has a higher one

    def value(self, category: Category) -> int:
        return self.figures[category.key]


def declaration(message: Signed) -> Declaration:
    """The declaration a signed ``arsenal_declaration`` makes (its body was validated when it
    was sent or received; ``EncodingError`` if it is not one)."""
    body = validate_body(message.kind, message.kind_version, cbor.decode(message.body))
    assert isinstance(body, s.ArsenalDeclaration)
    figures = {name: int(getattr(body, name)) for name in FIGURES}
    figures["deployed_launchers"] = body.deployed_launchers
    return Declaration(
        message.party,
        body.as_of,
        figures,
        serial(message.party, message.number),
        message.envelope_id,
        message.signed_ms,
        message.log_index,
        recipient=message.recipient,
        number=message.number,
    )


def record(messages: Iterable[Signed], unreadable: list[str] | None = None) -> list[Declaration]:
    """Every declaration among ``messages``, oldest as-of date first (then by party, then in the
    party's own order: its message numbers, not the clock of whichever node signed), each marked
    with what superseded it (a later one of the same party, to the same recipient, for the same
    date) and who questioned it. One whose body no longer reads as a declaration is left out and
    named in ``unreadable`` (its serial and why), so that one bad message hides no other."""
    found = list(messages)
    declared = []
    for m in found:
        if m.kind != KIND:
            continue
        try:
            declared.append(declaration(m))
        except (EncodingError, ValueError) as exc:
            if unreadable is not None:
                unreadable.append(f"{serial(m.party, m.number)}: {exc}")
    questions: dict[bytes, list[str]] = {}
    for m in found:
        if m.kind == QUESTION and m.reply_to is not None:
            questions.setdefault(m.reply_to, []).append(serial(m.party, m.number))
    declared.sort(key=lambda d: (d.as_of, d.party, d.number))
    result: list[Declaration] = []
    for n, d in enumerate(declared):
        same = (d.party, d.recipient, d.as_of)
        later = next((e for e in declared[n + 1 :] if (e.party, e.recipient, e.as_of) == same), None)
        result.append(
            replace(
                d,
                superseded_by=None if later is None else later.serial,
                questioned_by=tuple(sorted(questions.get(d.envelope_id, ()))),
            )
        )
    return result


def current(declarations: Iterable[Declaration]) -> list[Declaration]:
    """Those not superseded: each party's word for each date, as it stands."""
    return [d for d in declarations if d.superseded_by is None]
