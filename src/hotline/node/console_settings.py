"""``[console]`` in config.toml: the console's sessions, sign-in throttle, names, proxies, and
its own HTTPS listener."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from hotline.errors import PairingError
from hotline.node.card import parse_address


@dataclass(frozen=True)
class ConsoleSettings:
    """The web console's sessions: a watch and its handover at most, and signed out when left."""

    session_lifetime: float = 13 * 3600.0  # seconds from sign-in; a watch is 12 hours
    session_idle: float = 30 * 60.0  # seconds without a request; an open board keeps it alive
    # Addresses of the reverse proxies whose X-Forwarded-For and -Proto are believed. Every
    # client of the loopback API comes from 127.0.0.1, so by default nobody's are: otherwise
    # any local process could write the address of its choice into the audit trail.
    trusted_proxies: tuple[str, ...] = ()
    # The Host names the console and the API answer to (besides the API's own address,
    # localhost and 127.0.0.1): any other name is refused, so that a page on another site
    # cannot reach this one through a name it rebinds to 127.0.0.1.
    hosts: tuple[str, ...] = ()
    # Sign-in: after this many wrong passwords in a row (per account, and per source address),
    # each further try waits twice as long as the last; after signin_lockout_after the account
    # or address is locked for signin_lockout seconds, and even the right password is refused.
    signin_free_failures: int = 3
    signin_lockout_after: int = 10
    signin_lockout: float = 900.0
    # The console's own HTTPS listener (``--console HOST:PORT``), for the watch floor's browsers:
    # empty, the console is on the loopback API address only (reached through a tunnel). Its
    # certificate and key: the organisation's (paths, absolute or in the node directory), or by
    # default console.crt and console.key, made at init (or at the first start without them).
    listen: str = ""
    cert: str = ""
    key: str = ""


def console_settings(raw: dict[str, Any]) -> ConsoleSettings:
    console = dict(raw.get("console", {}))
    seconds = {"session_lifetime", "session_idle", "signin_lockout"}
    counts = {"signin_free_failures", "signin_lockout_after"}
    texts = {"listen", "cert", "key"}
    unknown = set(console) - seconds - counts - texts - {"trusted_proxies", "hosts"}
    if unknown:
        raise ValueError(f"[console] has an unknown setting {min(unknown)!r}")
    proxies = console.pop("trusted_proxies", [])
    if not isinstance(proxies, list) or not all(_is_ip(p) for p in proxies):
        raise ValueError('[console] trusted_proxies must list IP addresses, such as ["127.0.0.1"]')
    hosts = console.pop("hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) and _HOST_NAME.match(h) for h in hosts):
        raise ValueError('[console] hosts must list host names, such as ["hotline.watch.example"]')
    listening = {name: console.pop(name, "") for name in sorted(texts)}
    for name, value in listening.items():
        if not isinstance(value, str):
            raise ValueError(f"[console] {name} must be text")  # noqa: TRY004 - load_config turns ValueError into ConfigError
    if listening["listen"]:
        try:
            parse_address(listening["listen"])
        except PairingError as exc:
            raise ValueError(f"[console] listen: {exc}") from None
    if bool(listening["cert"]) != bool(listening["key"]):
        raise ValueError("[console] cert and key go together: name both, or neither (console.crt and console.key)")
    for name, value in console.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            unit = "a whole number" if name in counts else "a number of seconds"
            raise ValueError(f"[console] {name} must be {unit}, more than 0")
        if name in counts and not isinstance(value, int):
            raise ValueError(f"[console] {name} must be a whole number, more than 0")
    values: dict[str, Any] = {name: value if name in counts else float(value) for name, value in console.items()}
    settings = ConsoleSettings(
        **values,
        trusted_proxies=tuple(proxies),
        hosts=tuple(h.lower() for h in hosts),
        **listening,
    )
    if settings.signin_lockout_after <= settings.signin_free_failures:
        raise ValueError("[console] signin_lockout_after must be more than signin_free_failures")
    return settings


# A DNS name or an IP address as a Host header names it (no port, no scheme, no wildcard).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}$|^\[[0-9A-Fa-f:.]+\]$")


def _is_ip(text: object) -> bool:
    try:
        ipaddress.ip_address(str(text))
    except ValueError:
        return False
    return isinstance(text, str)
