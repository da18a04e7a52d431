"""Who we are, whom we know, and how the links to them stand."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hotline.api.deps import FrontTally, NodeDesk
from hotline.api.models import CardIn, CardListIn, CatchUpIn, PeerStateIn, RotateIn
from hotline.node import IdentityCard, check_fingerprint, parse_card_list
from hotline.views import peer_view

router = APIRouter()


@router.get("/v1/identity")
async def identity(desk: NodeDesk) -> dict[str, Any]:
    card = desk.identity()
    answer = {"party": card.party, "card": card.line(), "fingerprint": card.fingerprint, "tls_pin": card.tls_pin}
    rotating = desk.rotation_under_way()
    return answer | ({"rotation": rotating} if rotating else {})


@router.post("/v1/keys/rotate")
async def rotate_keys(request: RotateIn, desk: NodeDesk) -> dict[str, Any]:
    """Rotate to the party's committed next signing key, and to a new TLS key: each peer is told
    over the channel and follows without a ceremony (docs/architecture.md, "Keys that change")."""
    return await desk.rotate_keys(request.next_key.encode(), request.by)


@router.get("/v1/peers")
async def peers(desk: NodeDesk) -> list[dict[str, Any]]:
    return [peer_view(IdentityCard.parse(peer.card), peer) for peer in desk.peers()]


async def _set_state(party: str, state: str, decision: PeerStateIn, desk: NodeDesk) -> dict[str, Any]:
    record = await desk.set_peer_state(party, state, decision.by, decision.remark)
    return peer_view(IdentityCard.parse(record.card), record)


@router.post("/v1/peers/{party}/suspend")
async def suspend_peer(party: str, decision: PeerStateIn, desk: NodeDesk) -> dict[str, Any]:
    """Hold all traffic with a peer, both ways, until resumed: both boards say so."""
    return await _set_state(party, "suspended", decision, desk)


@router.post("/v1/peers/{party}/resume")
async def resume_peer(party: str, decision: PeerStateIn, desk: NodeDesk) -> dict[str, Any]:
    return await _set_state(party, "active", decision, desk)


@router.post("/v1/peers/{party}/remove")
async def remove_peer(party: str, decision: PeerStateIn, desk: NodeDesk) -> dict[str, Any]:
    """Refuse a peer from now on; what was exchanged with it is kept and still verifies."""
    return await _set_state(party, "removed", decision, desk)


@router.post("/v1/peers/list", status_code=201)
async def add_peers(request: CardListIn, desk: NodeDesk) -> list[dict[str, Any]]:
    """Pin every party of a card list: every line checked first (card, fingerprint, not ours,
    not twice, no other party's keys), or none pinned and the first bad line named."""
    cards = parse_card_list(request.cards, desk.identity(), desk.peers())
    records = await desk.add_peers(cards, False, request.by)
    return [peer_view(card, record) for card, record in zip(cards, records, strict=True)]


@router.post("/v1/peers", status_code=201)
async def add_peer(request: CardIn, desk: NodeDesk) -> dict[str, Any]:
    card = IdentityCard.parse(request.card)
    check_fingerprint(card, request.fingerprint)
    [record] = await desk.add_peers([card], request.replace, request.by)
    return peer_view(card, record)


@router.post("/v1/peers/{party}/catch-up")
async def catch_up(party: str, decision: CatchUpIn, desk: NodeDesk) -> dict[str, Any]:
    """Resume numbering to a peer where it stands, after our store went back in time."""
    send_next = await desk.catch_up(party, decision.by, decision.remark)
    return {"peer": party, "send_next": send_next}


@router.get("/v1/status")
async def status(desk: NodeDesk, front: FrontTally) -> dict[str, Any]:
    port = desk.port()
    report: dict[str, Any] = {"party": desk.party, **desk.role(), "peers": await desk.status()}
    # The API port's own bounds: what is taken now, and what was refused since the node started.
    report["api_port"] = {"in_use": dict(front.taken()), "refused": dict(sorted(front.totals().items()))}
    if port is not None:
        report["peer_port"] = {
            "handshakes": port.handshakes,
            "handshakes_limit": port.handshakes_limit,
            "refused": port.refused,  # since the node started, by cause
        }
        report["file_handles"] = {
            "open": port.handles_open,
            "limit": port.handles_limit,
            "needed": port.handles_needed,  # by the bounds; a limit below it is a warning
            "short": port.handles_short,
        }
    return report
