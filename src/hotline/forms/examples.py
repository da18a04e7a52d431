"""A valid example of every form, as an operator writes it for ``hotline send --data``.

``hotline forms FORM --example`` prints one; the tests check each against its form, render it in
every language, and compare the notices word for word, so an example here can never drift from
what the node accepts.
"""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hotline.crypto import SigningKey
from hotline.crypto.rotation import RotationStatement, commitment
from hotline.log.witness import log_origin


def _rotation_example() -> dict[str, str]:
    """A real rotation statement between two fixed keys (the terminal makes these, not people)."""
    old, new = (SigningKey(Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)) for n in (1, 2))
    statement = RotationStatement(
        "SACEUR", log_origin("SACEUR", old.verify_key.raw), old.verify_key.raw, new.verify_key.raw,
        b"certificate", commitment(bytes(32)), 4096, 1_795_500_000_000,
    )  # fmt: skip
    return {"statement": _b64(statement.encode()), "signature": _b64(statement.sign(new))}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


EXAMPLES: dict[str, dict[str, Any]] = {
    "link_test": {"probe": 4711, "sent": "2026-11-24T06:00:05Z"},
    "key_rotation": _rotation_example(),
    "key_rotation_done": {"retired": _b64(bytes(range(32))), "log_size": 4096},
    "ack": {"by": "Maj. A. Petrov", "at": "2026-11-24T06:03:00Z", "auto": False, "remark": "Received in full"},
    "readiness_check": {"watch": "Watch 3", "watch_change": "2026-11-24T06:00:00Z", "duty_officer": "Lt Col J. Smith"},
    "missile_launch": {
        "missile_class": "slbm",
        "launch_window": {"start": "2026-11-24T06:00:00Z", "end": "2026-11-24T10:00:00Z"},
        "launch_area": {"shape": "circle", "centre": {"lat": "69.5", "lon": "33.75"}, "radius": 30, "unit": "nm"},
        "impact_area": {
            "shape": "polygon",
            "vertices": [
                {"lat": "64.9", "lon": "177.5"},
                {"lat": "65.1", "lon": "177.5"},
                {"lat": "65.1", "lon": "178.2"},
                {"lat": "64.9", "lon": "178.2"},
            ],
        },
    },
    "strategic_exercise": {
        "name": "Northern Vigil",
        "window": {"start": "2026-10-12T00:00:00Z", "end": "2026-10-26T18:00:00Z"},
        "forces": ["heavy_bombers", "tanker_aircraft", "command_and_control"],
        "heavy_bombers": 22,
        "area": {"shape": "circle", "centre": {"lat": "50.9", "lon": "4.5"}, "radius": 1200, "unit": "km"},
    },
    "air_deconfliction": {
        "activity": "air_refuelling",
        "area": {
            "shape": "polygon",
            "vertices": [{"lat": 57.5, "lon": 19.0}, {"lat": 58.0, "lon": 20.5}, {"lat": 57.0, "lon": 21.0}],
        },
        "window": {"start": "2026-11-24T22:00:00Z", "end": "2026-11-25T02:30:00Z"},
        "altitude": {"unit": "fl", "low": 250, "high": 310},
        "contact": {"callsign": "NATO 42", "frequency_mhz": "243"},
    },
    "incident_report": {
        "category": "unsafe_intercept",
        "occurred_at": "2026-11-23T14:12:00Z",
        "position": {"lat": "43.25", "lon": "33.5"},
        "units_involved": ["1 x RC-135W", "2 x Su-27"],
        "what_happened": "The fighters passed within 30 m of the aircraft's nose",
        "actions_taken": "The crew left the area; the incident was reported at once.",
    },
    "clarification_request": {
        "question": "What is the purpose of the naval activity observed west of the island?",
        "observed_at": "2026-11-23T09:30:00Z",
        "area": {"shape": "circle", "centre": {"lat": "-33.856", "lon": "-70.5"}, "radius": 1, "unit": "nm"},
    },
    "clarification": {"answer": "It was a scheduled search and rescue exercise."},
    "arsenal_declaration": {
        "as_of": "2026-09-01",
        "deployed_icbms": 400,
        "deployed_slbms": 240,
        "deployed_heavy_bombers": 60,
        "deployed_warheads": 1600,
        "deployed_and_non_deployed_launchers": 800,
    },
    "meeting_request": {
        "proposed_time": "2026-12-01T09:00:00Z",
        "format": "in_person",
        "place": "Vienna",
        "agenda": "Review of notification procedures",
    },
    "pre_agreed": {"code": "PA03", "reference": "GENSTAB-000042"},
    "free_text": {
        "text": "Уведомление получено.",
        "lang": "ru",
        "translation": {"text": "Notification received.", "lang": "en"},
    },
}

# Forms of a later version, where an operator would write them otherwise.
LATER_VERSIONS: dict[tuple[str, int], dict[str, Any]] = {
    ("ack", 2): {"by": "A. Petrov", "rank": "major", "at": "2026-11-24T06:03:00Z", "auto": False},
}


def example(kind: str, version: int) -> dict[str, Any] | None:
    return LATER_VERSIONS.get((kind, version)) or (EXAMPLES.get(kind) if version == 1 else None)
