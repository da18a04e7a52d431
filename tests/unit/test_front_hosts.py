"""The Host names the node answers to."""

from __future__ import annotations

import pytest

from hotline.front.hosts import answered_names, host_name


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:7001", "127.0.0.1"),
        ("LocalHost", "localhost"),
        ("[::1]:7001", "[::1]"),
        ("[::1]", "[::1]"),
        ("hotline.watch.example:443", "hotline.watch.example"),
        ("::1", "::1"),  # not how a Host names an IPv6 address: kept whole, and refused
        ("", ""),
    ],
)
def test_host_name_drops_the_port(header: str, name: str) -> None:
    assert host_name(header) == name


def test_the_names_answered() -> None:
    names = answered_names("127.0.0.5", ["Hotline.Watch.Example"])
    assert names == {"localhost", "127.0.0.1", "[::1]", "127.0.0.5", "hotline.watch.example"}
    assert "[::1]" in answered_names("::1", [])
