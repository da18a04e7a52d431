"""The co-signed transcript: our log's latest checkpoint, and every equivocation on record; and
the record of declarations each party signed into it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hotline.api.deps import NodeDesk
from hotline.views import declaration_item, iso

router = APIRouter()


@router.get("/v1/transcript")
async def transcript(desk: NodeDesk) -> dict[str, Any]:
    """Our log's latest checkpoint and who cosigned it; every equivocation on record."""
    latest = await desk.latest_checkpoint()
    checkpoint = None
    if latest is not None:
        checkpoint = {
            "origin": desk.transcript_origin,
            "size": latest.size,
            "signed_at": iso(latest.at_ms),
            "cosigned_by": [witness for witness, _ in latest.cosignatures],
            "note": latest.cosigned_note,
        }
    equivocations = [
        {
            "log": e.log,
            "ours": e.log == desk.party,
            "reason": e.reason,
            "detail": e.detail,
            "at": iso(e.at_ms),
            "held": e.held,
            "offered": e.offered,
        }
        for e in await desk.equivocations()
    ]
    # The peers our checkpoints are offered to now: in a network, our log's quorum (log/quorum.py),
    # with those of it that are away (the next in rank stands in for each) and its size.
    quorum = desk.transcript_witnesses
    return {
        "checkpoint": checkpoint,
        "witnesses": quorum["now"],
        "quorum": {"size": quorum["size"], "away": quorum["away"]},
        "equivocations": equivocations,
    }


@router.get("/v1/declarations")
async def declarations(desk: NodeDesk) -> dict[str, Any]:
    """Every arsenal declaration sent or received, oldest as-of date first: the five figures,
    the deployed launchers New START counted, the serial, and what superseded or questioned it;
    and those stored that no longer read as a declaration (``unreadable``: serial and why), said
    rather than left out unseen."""
    found, unreadable = await desk.declarations()
    return {"declarations": [declaration_item(d) for d in found], "unreadable": unreadable}
