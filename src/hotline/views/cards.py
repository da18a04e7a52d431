"""Peers and forms as the API answers and the CLI prints them."""

from __future__ import annotations

import dataclasses
from typing import Any

from hotline.forms import FORMS, PRE_AGREED, describe, translations
from hotline.forms.examples import example
from hotline.node import IdentityCard


def peer_view(card: IdentityCard) -> dict[str, Any]:
    return {
        "party": card.party,
        "fingerprint": card.fingerprint,
        "tls_pin": card.tls_pin,
        "addresses": list(card.addresses),
    }


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
