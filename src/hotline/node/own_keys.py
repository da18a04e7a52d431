"""The party's own keys changed by hand: a commitment to a next key for a node made before
version 2 cards (``hotline keys commit``), and new keys after a compromise (``keys replace``).
A rotation is ``rotation.py``'s; these run with the node stopped."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from hotline.crypto import generate_signing_key, generate_tls_identity, load_signing_key, signing_key_pem
from hotline.crypto.rotation import commitment
from hotline.errors import ConfigError
from hotline.log import key_tag
from hotline.node.card import b64
from hotline.node.config import NEXT_KEY_FILE, replace_private, write_private, write_settings


def commit_next_key(directory: Path) -> Path:
    """A node made before version 2 cards: a next signing key (``next-signing.key``, 0600) and
    ``[keys] next`` committing to it. Refused if the party has committed already."""

    raw = tomllib.loads((directory / "config.toml").read_text())
    if "next" in raw.get("keys", {}):
        raise ConfigError("this party has committed to a next key already (its card is version 2)")
    upcoming = generate_signing_key()
    path = directory / NEXT_KEY_FILE
    write_private(path, signing_key_pem(upcoming))
    raw["keys"] = {**raw.get("keys", {}), "next": b64(commitment(upcoming.verify_key.raw))}
    write_settings(directory, raw)
    return path


def replace_own_keys(directory: Path, now_ms: int) -> None:
    """New signing, TLS and next keys in the node directory, the log keeping its name (``[keys]
    log`` names it by the key it had first). The caller keeps the old key in the store's history."""

    raw = tomllib.loads((directory / "config.toml").read_text())
    old = load_signing_key((directory / "signing.key").read_bytes()).verify_key.raw
    tls = generate_tls_identity(str(raw["party"]), dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC))
    upcoming = generate_signing_key()
    # config.toml first: a stop before the keys are written leaves the old keys and the log's
    # name, and `keys replace` can be run again.
    keys = raw.get("keys", {})
    raw["keys"] = {**keys, "log": keys.get("log", key_tag(old)), "next": b64(commitment(upcoming.verify_key.raw))}
    write_settings(directory, raw)
    for name, data in (("signing.key", signing_key_pem(generate_signing_key())), ("tls.key", tls.key_pem),
                       ("tls.crt", tls.cert_pem), (NEXT_KEY_FILE, signing_key_pem(upcoming))):  # fmt: skip
        replace_private(directory / name, data)
