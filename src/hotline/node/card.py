"""Identity cards: what two parties exchange out of band to pin each other.

A card is one line with no spaces, so it survives e-mail, chat and copy-paste intact:

    hotline:1:<PARTY>:<signing key>:<TLS certificate>:<address>,<address>...[:witness]
    hotline:2:<PARTY>:<signing key>:<TLS certificate>:<next key>:<log>:<address>,...[:witness]

Version 2 adds the commitment to the party's *next* signing key (``crypto/rotation.py``: a peer
follows a rotation only to that key, so a thief of the current key cannot rotate to its own) and
the tag that names the party's log (its first key's: the log keeps its name when keys change).
A party's node writes version 2 once it has a commitment; version 1 cards are still read.

A party that runs several nodes on one shared store (one active, the others standing by) names
every node on each path, in node order: ``<node 1's address>|<node 2's address>``. A peer dials
the node it last found active, and another in turn when it does not answer.

A neutral party that only witnesses the others' transcripts (it sends and takes no messages)
says so with the ``:witness`` suffix, which the fingerprint covers: nobody can turn a party into
a witness, or a witness into a party, without the fingerprint read aloud changing.

Keys and certificate are unpadded base64url; the certificate is DER. The TLS certificate
travels whole (not only its pin) because Python's ``ssl`` has no verification callback: the
pinned peer certificate itself becomes the trust anchor for that connection. Its SHA-256 SPKI
pin is what ``peer list`` shows and what the node checks after each handshake.

The fingerprint covers party name, signing key and TLS key, but not the addresses: a party
may move without re-pairing, but never change who it is. The addresses on a card are therefore
not protected by the fingerprint: a tampered address can only make the link fail (the TLS and
signing keys are checked), never let anyone else in.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from hotline.crypto import KeySet, VerifyKey, fingerprint, spki_pin
from hotline.envelope.model import PARTY_PATTERN
from hotline.errors import EncodingError, PairingError
from hotline.log.witness import key_tag
from hotline.protocol.fields import MAX_NODES
from hotline.protocol.paths import MAX_PATHS
from hotline.storage.records import PeerRecord

PREFIX = "hotline"
CARD_VERSION = "1"
CARD_VERSION_NEXT = "2"  # with the next key's commitment and the log's tag
LOG_TAG = re.compile(r"^[0-9a-f]{32}$")
WITNESS = "witness"
ADDRESS = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise PairingError(f"the card's {what} is not base64url") from None


def parse_address(text: str) -> tuple[str, int]:
    match = ADDRESS.match(text)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise PairingError(f"{text!r} is not HOST:PORT")
    return match.group(1).strip("[]"), int(match.group(2))


@dataclass(frozen=True)
class IdentityCard:
    party: str
    sign_key: bytes
    tls_cert: bytes
    addresses: tuple[str, ...]
    witness: bool = False  # a neutral party that only witnesses
    next_key: bytes | None = None  # the commitment to the next signing key (version 2)
    log: str | None = None  # the log's tag, when it is not the signing key's own (after a rotation)

    @property
    def tls_pin(self) -> str:
        return spki_pin(self.tls_cert)

    @property
    def log_tag(self) -> str:
        """The tag in the party's log name: its first signing key's, kept across rotations."""
        return self.log or key_tag(self.sign_key)

    @property
    def fingerprint(self) -> str:
        role = (WITNESS.encode(),) if self.witness else ()
        if self.next_key is None:
            return fingerprint(self.party.encode(), self.sign_key, self.tls_pin.encode(), *role)
        later = (self.next_key, self.log_tag.encode())
        return fingerprint(self.party.encode(), self.sign_key, self.tls_pin.encode(), *later, *role)

    def as_peer(self, added_ms: int) -> PeerRecord:
        """The record a node keeps once this card is pinned."""
        return PeerRecord(self.party, self.sign_key, self.tls_cert, self.addresses, self.line(), added_ms)

    def line(self) -> str:
        keys = [self.party, b64(self.sign_key), b64(self.tls_cert)]
        if self.next_key is not None:
            keys = [*keys, b64(self.next_key), self.log_tag]
        version = CARD_VERSION if self.next_key is None else CARD_VERSION_NEXT
        fields = [PREFIX, version, *keys, ",".join(self.addresses)]
        return ":".join(fields + ([WITNESS] if self.witness else []))

    @classmethod
    def parse(cls, line: str) -> IdentityCard:
        compact = "".join(line.split())  # e-mail wraps long lines: drop all whitespace
        version = compact.split(":", 2)[1] if compact.count(":") >= 2 else None
        parts = compact.split(":", 7 if version == CARD_VERSION_NEXT else 5)
        if len(parts) not in (6, 8) or parts[0] != PREFIX:
            raise PairingError("not a hotline identity card (expected hotline:2:PARTY:KEY:CERT:NEXT:LOG:ADDRESSES)")
        if parts[1] not in (CARD_VERSION, CARD_VERSION_NEXT):
            raise PairingError(f"card version {parts[1]!r} is not supported (this node reads versions 1 and 2)")
        next_key = log = None
        if parts[1] == CARD_VERSION_NEXT:
            if len(parts) != 8:
                raise PairingError("a version 2 card has PARTY:KEY:CERT:NEXT:LOG:ADDRESSES")
            next_key = unb64(parts[5], "next key's commitment")
            if len(next_key) != 32:
                raise PairingError("the card's next key's commitment is not 32 bytes")
            log = parts[6]
            if not LOG_TAG.match(log):
                raise PairingError("the card's log tag is not 32 hex digits")
            parts = [*parts[:5], parts[7]]
        party = parts[2]
        if not PARTY_PATTERN.match(party):
            raise PairingError(f"{party!r} is not a party name (capital letters, digits, - and _)")
        sign_key = unb64(parts[3], "signing key")
        try:
            VerifyKey(sign_key)
        except EncodingError as exc:
            raise PairingError(f"the card's signing key is invalid: {exc}") from None
        tls_cert = unb64(parts[4], "TLS certificate")
        try:
            spki_pin(tls_cert)
        except EncodingError:
            raise PairingError("the card's TLS certificate is damaged (not a DER X.509 certificate)") from None
        # Every address ends in :PORT, so a trailing :witness cannot be part of one.
        witness = parts[5].endswith(":" + WITNESS)
        addresses = tuple(a for a in parts[5].removesuffix(":" + WITNESS).split(",") if a)
        if not addresses:
            raise PairingError("the card lists no address")
        if len(addresses) > MAX_PATHS:
            raise PairingError(f"the card lists {len(addresses)} addresses; a party has at most {MAX_PATHS} paths")
        for path in addresses:
            alternatives = path.split("|")
            if len(alternatives) > MAX_NODES:
                raise PairingError(
                    f"the card names {len(alternatives)} nodes on a path; a party has at most {MAX_NODES}"
                )
            for address in alternatives:
                parse_address(address)
        own = log is not None and log == key_tag(sign_key)
        return cls(party, sign_key, tls_cert, addresses, witness, next_key, None if own else log)


def log_tag_of(peer: PeerRecord) -> str:
    """The tag naming a pinned peer's log (its card's: its first key's, across rotations)."""
    return IdentityCard.parse(peer.card).log_tag


def keys_of(key: VerifyKey | KeySet) -> tuple[VerifyKey, ...]:
    """The keys a peer may sign with now: one, or its old and new while it rotates."""
    return key.keys if isinstance(key, KeySet) else (key,)


def vet_new_peer(own_party: str, pinned: list[PeerRecord], card: IdentityCard, replace: bool = False) -> None:
    """Refuse to pin ourselves, to change the keys of a party already pinned unless told to
    (``replace``: the ceremony again, after a compromise), or to give one party another's keys:
    a TLS pin names exactly one party, or a party could publish a card with its victim's
    certificate and have the victim's connections taken for its own."""
    if card.party == own_party:
        raise PairingError(f"{card.party} is this node's own party")
    for peer in pinned:
        if peer.party != card.party and peer.sign_key == card.sign_key:
            raise PairingError(f"{card.party}'s signing key is already pinned for {peer.party}; refusing")
        if peer.party != card.party and spki_pin(peer.tls_cert) == card.tls_pin:
            raise PairingError(f"{card.party}'s TLS key is already pinned for {peer.party}; refusing")
    same = next((p for p in pinned if p.party == card.party), None)
    if same is None or replace:
        return
    if same.sign_key != card.sign_key or spki_pin(same.tls_cert) != card.tls_pin:
        raise PairingError(
            f"{card.party} is already pinned with different keys. A key rotation needs no new card; after a"
            " compromise, confirm the new card's fingerprint by voice and pin it with --replace"
        )
    # The commitment to the next key is what a rotation is checked against: one may be added to
    # a pin that had none (a version 2 card, read aloud), never changed without --replace.
    held = IdentityCard.parse(same.card)
    if held.next_key is not None and (card.next_key != held.next_key or card.log_tag != held.log_tag):
        raise PairingError(
            f"{card.party}'s card commits to another next key (or names another log) than the one pinned:"
            " confirm its fingerprint by voice and pin it with --replace"
        )


def check_fingerprint(card: IdentityCard, expected: str) -> None:
    """Compare the fingerprint read aloud by the other side with the card's, ignoring spaces."""
    if "".join(expected.split()) != "".join(card.fingerprint.split()):
        raise PairingError(
            # The card's own fingerprint is not shown: an operator under pressure must not be
            # able to copy the right-looking number from the error instead of from the phone.
            f"fingerprint mismatch: the card does not match the fingerprint you were told ({expected});"
            " do not pin it: have the other party's officer read theirs again, from `hotline identity`"
        )
