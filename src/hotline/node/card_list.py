"""A file of identity cards to pin at once: a network of many parties (issue 19).

One line per party, ``CARD FINGERPRINT``: the card as ``hotline identity`` prints it, then its
read-aloud fingerprint (the spaces in it are allowed). Blank lines and lines beginning with
``#`` are ignored. Every line is checked before anything is pinned, and the first that fails is
named by its number: a card that does not parse, a fingerprint that does not match, our own
party under other keys, a party listed twice, or a party already pinned with other keys (that is
a replacement, done one card at a time with ``--replace``, as after a compromise). Our own card,
exactly as we hold it, is passed over: the network's one list serves every party in it.

The fingerprints are what makes the file trustworthy, so they must not come from the same place
as the cards: docs/operations.md ("A network of many parties") says how a network gets them.
"""

from __future__ import annotations

from collections.abc import Sequence

from hotline.errors import EncodingError, PairingError
from hotline.node.card import IdentityCard, check_fingerprint, vet_new_peer
from hotline.storage import PeerRecord

MAX_LINES = 10_000


def parse_card_list(text: str, own: IdentityCard, pinned: Sequence[PeerRecord]) -> list[IdentityCard]:
    """The cards in ``text`` but our own, each checked against its fingerprint, our card and
    ``pinned`` (and the lines before it); ``PairingError`` naming the first line that fails."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise PairingError(f"the file has {len(lines)} lines; at most {MAX_LINES} cards are pinned at once")
    cards: list[IdentityCard] = []
    seen: dict[str, int] = {}
    known = list(pinned)
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        card_text, _, fingerprint = line.partition(" ")
        if not fingerprint.strip():
            raise PairingError(f"line {number}: a card, a space, then its fingerprint; nothing was pinned")
        if card_text.split(":")[2:3] and card_text.split(":")[2] in seen:
            party = card_text.split(":")[2]
            raise PairingError(f"line {number}: {party} is listed twice (line {seen[party]} too); nothing was pinned")
        try:
            card = IdentityCard.parse(card_text)
            check_fingerprint(card, fingerprint)
            if _same_keys(card, own):
                seen[card.party] = number
                continue
            vet_new_peer(own.party, known, card, replace=False)
        except (PairingError, EncodingError, ValueError) as exc:
            raise PairingError(f"line {number}: {exc}; nothing was pinned") from None
        seen[card.party] = number
        known.append(card.as_peer(0))
        cards.append(card)
    if not cards:
        raise PairingError("the file holds no card but ours (lines of CARD FINGERPRINT; # begins a comment)")
    return cards


def _same_keys(card: IdentityCard, own: IdentityCard) -> bool:
    """``card`` is ours: our party, signing key and TLS certificate (our addresses may differ)."""
    return (card.party, card.sign_key, card.tls_cert) == (own.party, own.sign_key, own.tls_cert)
