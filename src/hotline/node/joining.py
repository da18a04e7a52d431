"""Another node of a party whose store is a shared PostgreSQL database (``hotline init --join``).

The new node is the same party: the same signing key, TLS key and certificate and API token,
copied from the node directory named, and the same database (which holds the console's
accounts too). It has its own
addresses, registered in the database, so that the party's identity card names it on every path
beside the others. It starts as a standby: whichever node holds the lease is active.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

from hotline import storage
from hotline.errors import ConfigError
from hotline.node.addresses import check_addresses
from hotline.node.config import NodeConfig, load_config, write_settings

# What a node of the party shares with the others as files: the keys and the token (mode 0600
# kept) and the certificate. (The console's accounts are in the shared store.)
SHARED_FILES = ("signing.key", "tls.key", "tls.crt", "api.token")


def join_node(
    directory: Path,
    existing: Path,
    listen: str,
    api: str,
    advertise: tuple[str, ...] = (),
    console: dict[str, str] | None = None,
) -> NodeConfig:
    """Make ``directory`` another node of the party whose node is in ``existing``. Its console
    listener is ``console``'s, else the first node's address with a certificate of its own."""
    first = load_config(existing)
    if not first.store:
        raise ConfigError(
            f"the node in {existing} keeps its store in its own directory: only a party on a PostgreSQL"
            " database can have several nodes (hotline init --store postgresql://...)"
        )
    check_addresses(listen, api, advertise)
    if directory.resolve() == existing.resolve():
        raise ConfigError("--dir and --join name the same directory: the new node needs one of its own")
    if directory.exists() and any(directory.iterdir()):
        raise ConfigError(f"{directory} is not empty; a node directory must start empty")
    number = storage.register_node(first.store, listen, api, advertise or (listen,))
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    for name in SHARED_FILES:
        source = existing / name
        if source.exists():
            shutil.copy2(source, directory / name)  # with its mode: the keys stay 0600
    settings = tomllib.loads((existing / "config.toml").read_text())
    settings.update(listen=listen, api=api, advertise=list(advertise or (listen,)), node=number)
    # The first node's certificate is its own; so is its listener's address, unless it listens on
    # every address (then this node does too): another machine has other addresses.
    own_console = {k: v for k, v in settings.get("console", {}).items() if k not in ("cert", "key")}
    listen_host = str(own_console.get("listen", "")).rsplit(":", 1)[0].strip("[]")
    if listen_host not in ("", "0.0.0.0", "::"):  # noqa: S104 - compared with, never bound
        own_console.pop("listen")
    settings["console"] = {**own_console, **(console or {})}
    write_settings(directory, settings)
    return load_config(directory)
