"""Peers and forms as the API answers and the CLI prints them."""

from __future__ import annotations

import dataclasses
from typing import Any

from hotline.forms import FORMS, PRE_AGREED, describe, translations
from hotline.forms.examples import example
from hotline.node import IdentityCard
from hotline.storage import PeerRecord
from hotline.views.rows import iso


def peer_view(card: IdentityCard, peer: PeerRecord | None = None) -> dict[str, Any]:
    """A pinned peer: its card's facts, and whether traffic with it flows (``state``: active,
    suspended or removed, with when, by whom and why it was set)."""
    view: dict[str, Any] = {
        "party": card.party,
        "fingerprint": card.fingerprint,
        "tls_pin": card.tls_pin,
        "addresses": list(card.addresses),
        "state": peer.state if peer is not None else "active",
    }
    if peer is not None and peer.state_since_ms is not None:
        view["state_since"] = iso(peer.state_since_ms)
        view["state_by"] = peer.state_by
        view["state_remark"] = peer.state_remark
    return view


def forms_view(lang: str) -> list[dict[str, Any]]:
    return [
        {
            "kind": spec.kind,
            "version": spec.version,
            "title": translations(lang).gettext(spec.title),
            "composable": spec.composable,
            "needs_reply_to": spec.needs_reply_to,
            "fields": [dataclasses.asdict(f) for f in describe(spec, lang)],
            "schema": spec.schema.model_json_schema(),
            "example": example(spec.kind, spec.version),
            # The pre-agreed catalogue: each code with its text in both languages, as agreed.
            **({"codes": [vars(text) for text in PRE_AGREED.values()]} if spec.kind == "pre_agreed" else {}),
        }
        for spec in FORMS.values()
    ]
