"""``[keys]`` in config.toml: what a party has said of its keys beyond the current ones."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from hotline.node.card import LOG_TAG


@dataclass(frozen=True)
class KeySettings:
    """``[keys]``: what the party has said of its keys beyond the current ones (``card.py``,
    version 2): the commitment to its next signing key, and its log's tag once the key that
    named the log has been rotated away."""

    next: bytes | None = None  # SHA-256 commitment (crypto/rotation.py), 32 bytes
    log: str | None = None  # 32 hex digits


def key_settings(raw: dict[str, Any]) -> KeySettings:
    table = dict(raw.get("keys", {}))
    unknown = set(table) - {"next", "log"}
    if unknown:
        raise ValueError(f"[keys] has an unknown setting {min(unknown)!r}")
    next_key = None
    if "next" in table:
        try:
            next_key = base64.urlsafe_b64decode(str(table["next"]) + "=" * (-len(str(table["next"])) % 4))
        except (binascii.Error, ValueError):
            next_key = b""
        if len(next_key) != 32:
            raise ValueError("[keys] next must be the next signing key's commitment: 32 bytes, base64url")
    log = table.get("log")
    if log is not None and not (isinstance(log, str) and LOG_TAG.match(log)):
        raise ValueError("[keys] log must be the log's tag: 32 hex digits")
    return KeySettings(next_key, log)
