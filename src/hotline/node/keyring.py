"""Which of our signing keys signs what, during a key rotation and outside one.

Outside a rotation there is one key. During one (``rotation.py``) there are two: a peer is
signed to with the new key only once it has receipted our rotation statement, since until then
it knows only the old one; our checkpoints carry both signatures, so that every witness can
verify them whichever key it has pinned (C2SP signed notes: a verifier skips a key it does not
know).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.crypto import SigningKey


@dataclass
class Keyring:
    current: SigningKey  # the key every peer pinned before the rotation began
    new: SigningKey | None = None  # the key rotated to, while the rotation is under way
    switched: set[str] = field(default_factory=set)  # peers that receipted our statement

    def for_peer(self, party: str) -> SigningKey:
        """The key to sign envelopes, receipts, rejections and cosignatures for ``party`` with."""
        if self.new is not None and party in self.switched:
            return self.new
        return self.current

    def log_keys(self) -> list[SigningKey]:
        """The keys that sign our checkpoints now."""
        return [self.current] if self.new is None else [self.current, self.new]

    def finished(self) -> SigningKey:
        """The rotation's end: the new key is the only one from now on; the old is returned."""
        assert self.new is not None, "no rotation under way"
        old, self.current, self.new = self.current, self.new, None
        self.switched.clear()
        return old
