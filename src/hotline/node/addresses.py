"""The addresses a node is given: each must be one a peer can dial, and the operator API must
stay on this machine."""

from __future__ import annotations

import ipaddress

from hotline.errors import ConfigError, PairingError
from hotline.node.card import parse_address
from hotline.protocol.paths import MAX_PATHS


def check_addresses(listen: str, api: str, advertise: tuple[str, ...]) -> None:
    """Refuse addresses that cannot work, or that would expose the operator API."""
    try:
        listen_host, _ = parse_address(listen)
        api_host, _ = parse_address(api)
        for address in advertise:
            parse_address(address)
    except PairingError as exc:
        raise ConfigError(str(exc)) from None
    if len(advertise) > MAX_PATHS:
        raise ConfigError(f"{len(advertise)} addresses to advertise; a party has at most {MAX_PATHS} paths")
    if listen == api:
        raise ConfigError(f"--listen and --api are both {listen}; they need two ports")
    if not _is_loopback(api_host):
        raise ConfigError(f"--api {api} is not a loopback address: the operator API must not leave this machine")
    if listen_host in ("0.0.0.0", "::") and not advertise:  # noqa: S104 - checking, not binding
        raise ConfigError(f"--listen {listen} is not an address a peer can dial; give --advertise HOST:PORT")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
