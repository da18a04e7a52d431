"""Answering a peer that was restored from an older backup: what it lacks, from our copies.

The peer dials us on a connection that asks for ``RECOVERY_ALPN`` instead of a lane (mutual TLS
against its pinned certificate, as any link), sends one ``recover`` frame saying where its copy
stands, and reads the answer in parts: the newest checkpoint of its log that we cosigned, the
leaf hashes of its log we cosigned from its copy's size on, and every signed object between it
and us that our transcript holds from the first position it may lack. It checks all of it
itself (signatures, hashes, the cosigned root): we are a witness, not an authority. Once it has
rebuilt its store it tells us what it recovered and what it could not, which we keep in the
audit trail, and log, so that our watch knows too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from hotline.envelope import cbor
from hotline.envelope.signed import KINDS, open_signed
from hotline.errors import EncodingError, HotlineError, RemoteProtocolError
from hotline.node.station import Station
from hotline.protocol import FrameReader, FrameType, encode_frame
from hotline.storage import AuditEntry
from hotline.watch.alarms import Kind

log = structlog.get_logger("hotline.recovery")
LEAVES_PER_PART = 16_000  # 32 bytes each: half a megabyte, well under the frame limit
OBJECTS_PART_BYTES = 512 * 1024
ENTRIES_PER_READ = 500
REQUEST_WAIT = 30.0  # seconds a recovering peer has to ask once connected
ANSWER_LIMIT = 600.0  # seconds for the whole answer: a peer that stops reading is let go
REPORT_WAIT = 1800.0  # seconds for its report: it asks its other peers and rebuilds meanwhile
MAX_REPORT = 20_000  # characters of the peer's report kept


Latch = Callable[[Kind, str | None, str | None, dict[str, Any]], Awaitable[None]]


async def answer_recovery(
    station: Station,
    peer: str,
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    latch: Latch,
    answering: set[str],
) -> None:
    """Serve one recovery connection from ``peer`` (already authenticated by TLS); one at a
    time per peer (``answering``: the peers being answered)."""
    reader, writer = streams
    if peer in answering:
        writer.write(encode_frame(FrameType.ERROR, code="busy", detail="a recovery of yours is being answered"))
        writer.close()
        return
    answering.add(peer)
    frames = FrameReader()
    try:
        request = await _read(reader, frames, REQUEST_WAIT)
        size, ours_from, theirs_from = _request(request)
        log.warning("peer restored from an older backup is recovering from our copies", peer=peer, its_size=size)
        async with asyncio.timeout(ANSWER_LIMIT):
            sent = await _answer(station, peer, writer, size, ours_from, theirs_from)
        detail = f"restored from an older backup (its log at size {size}), it asked for what it lacks: we sent {sent}"
        await _audit(station, peer, "peer-recovering", detail)
        # It reports once it has rebuilt its store, after asking its other peers: that may take
        # as long as it waits for them. Not hearing is logged; the alarm is for a loss it reports.
        report = await _read(reader, frames, REPORT_WAIT)
        text = str(report.get("report", ""))[:MAX_REPORT]
        log.warning("peer recovered from our copies", peer=peer, report=text)
        await _audit(station, peer, "peer-recovered", text)
        if report.get("lost") is True:  # what it could not get back is for both watches to settle
            await latch(Kind.RESTORE_LOSSES, peer, None, {"report": text})
    except RemoteProtocolError as exc:
        log.warning("recovery request refused", peer=peer, code=exc.code, detail=exc.detail)
        with contextlib.suppress(ConnectionError, OSError):
            writer.write(encode_frame(FrameType.ERROR, code=exc.code, detail=exc.detail))
    except HotlineError as exc:  # our store failed to answer: the peer is told, and names us as the cause
        log.exception("cannot answer a recovery from our store", peer=peer)
        with contextlib.suppress(ConnectionError, OSError):
            writer.write(encode_frame(FrameType.ERROR, code="store-error", detail=str(exc)[:500]))
    except (ConnectionError, OSError, TimeoutError) as exc:
        log.warning("recovery connection ended before the peer reported", peer=peer, error=str(exc) or "timed out")
    finally:
        answering.discard(peer)
        writer.close()


async def _audit(station: Station, peer: str, action: str, detail: str) -> None:
    now = station.clock.wall_ms()
    await station.store.record_audit(AuditEntry(now, "(node)", None, action, peer, detail.strip()))


async def _read(reader: asyncio.StreamReader, frames: FrameReader, seconds: float) -> dict[str, Any]:
    async with asyncio.timeout(seconds):
        while (frame := frames.next_frame()) is None:
            data = await reader.read(1 << 16)
            if not data:
                raise ConnectionError("the peer closed the connection")
            frames.feed(data)
    kind, fields = frame
    if kind is not FrameType.RECOVER:
        raise RemoteProtocolError("unexpected-frame", f"a recovery connection carries recover frames, not {kind}")
    return fields


def _request(fields: dict[str, Any]) -> tuple[int, int, int]:
    values = [fields.get(name) for name in ("size", "ours_from", "theirs_from")]
    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63]
    if len(numbers) != len(values):
        raise RemoteProtocolError("malformed-frame", "recover needs integers size, ours_from and theirs_from")
    return numbers[0], numbers[1], numbers[2]


async def _answer(
    station: Station, peer: str, writer: asyncio.StreamWriter, size: int, ours_from: int, theirs_from: int
) -> int:
    store = station.store
    held = await store.witnessed_checkpoint(peer)
    writer.write(
        encode_frame(FrameType.RECOVERY, part="head", size=held[0] if held else 0, note=held[1] if held else None)
    )
    start = size
    while True:
        leaves = await store.witnessed_leaves(peer, start, LEAVES_PER_PART)
        if not leaves:
            break
        if leaves[0][0] != start:  # a gap in what we kept: the peer learns where ours stop
            break
        contiguous = [h for n, (i, h) in enumerate(leaves) if i == start + n]
        writer.write(encode_frame(FrameType.RECOVERY, part="leaves", first=start, hashes=b"".join(contiguous)))
        await writer.drain()
        start += len(contiguous)
        if len(contiguous) < len(leaves):
            break
    position = await store.exchanged_from(peer, ours_from, theirs_from)
    # Our rejections whose envelope we did not keep have no recorded position: sent as well.
    part = await store.unkept_rejections(peer, ours_from)
    sent, part_bytes = 0, sum(len(raw) for raw in part)
    while entries := await store.transcript_entries(position, ENTRIES_PER_READ):
        for _, raw in entries:
            if _between(raw, peer, station.party):
                part.append(raw)
                part_bytes += len(raw)
            if part_bytes >= OBJECTS_PART_BYTES:
                writer.write(encode_frame(FrameType.RECOVERY, part="objects", items=part))
                await writer.drain()
                sent, part, part_bytes = sent + len(part), [], 0
        position = entries[-1][0] + 1
    writer.write(encode_frame(FrameType.RECOVERY, part="objects", items=part))
    writer.write(encode_frame(FrameType.RECOVERY, part="end", count=sent + len(part)))
    await writer.drain()
    return sent + len(part)


def _between(raw: bytes, peer: str, us: str) -> bool:
    """Is this transcript entry a signed object exchanged between ``peer`` and us?"""
    try:
        outer = cbor.decode(raw)
        kind = outer[0] if isinstance(outer, list) and outer else None
        if kind not in KINDS:
            return False
        fields = open_signed(raw, str(kind)).fields
    except (EncodingError, IndexError, TypeError):
        return False
    return {fields.get("from"), fields.get("to")} == {peer, us}
