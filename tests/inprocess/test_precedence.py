"""A FLASH queued behind a backlog of ROUTINE traffic while the peer is unreachable leaves first
when the peer comes back: it takes the next sequence number, and the peer stores it first."""

from __future__ import annotations

from hotline.envelope import Receipt, open_signed
from hotline.storage import InboxRow
from hotline.testing import InProcessNetwork, wait_until
from tests.inprocess.helpers import text

BACKLOG = 200  # several dispatch batches (64 each), within the window (512)


def transcript_positions(rows: list[InboxRow]) -> dict[int, int]:
    """Sequence number -> where the receiver's signed receipt says it stored the envelope."""
    positions: dict[int, int] = {}
    for signed in {row.receipt for row in rows}:  # one receipt names a whole batch
        receipt = Receipt.from_opened(open_signed(signed, "receipt"))
        positions |= {entry.seq: entry.index for entry in receipt.entries}
    return {row.seq: positions[row.seq] for row in rows}


async def test_a_flash_queued_behind_routine_traffic_during_an_outage_leaves_first(pair: InProcessNetwork) -> None:
    saceur, genstab = pair
    await genstab.stop()
    routine = await saceur.desk.enqueue([text("GENSTAB", f"routine {i}") for i in range(BACKLOG)])
    [flash] = await saceur.desk.enqueue([text("GENSTAB", "FLASH: return to base", "FLASH")])
    assert flash.number == BACKLOG + 1  # numbered (named) in the order of arrival
    await pair.clock.advance(60)  # an outage of a minute: the dialer retries, nothing is signed
    assert {row.seq for row in await saceur.desk.outbox()} == {None}

    await genstab.start()

    async def all_delivered() -> bool:
        [status] = await saceur.desk.status()
        return bool(status["queue_depth"] == status["in_flight"] == 0)

    await wait_until(all_delivered, f"{BACKLOG + 1} messages to be delivered", timeout=30)
    outbox = await saceur.desk.outbox()
    assert {row.state for row in outbox} == {"delivered"}
    seq = {row.number: row.seq for row in outbox}
    assert seq[flash.number] == 1, "the FLASH is signed first, under the next sequence number"
    assert [seq[q.number] for q in routine] == list(range(2, BACKLOG + 2)), "the ROUTINE in their order"

    inbox = await genstab.desk.inbox()
    assert sorted(row.seq for row in inbox) == list(range(1, BACKLOG + 2)), "gapless, each once"
    stored_at = transcript_positions(inbox)
    assert stored_at[1] < min(stored_at[s] for s in range(2, BACKLOG + 2)), "GENSTAB stored the FLASH first"
    ordinary = sorted(range(2, BACKLOG + 2), key=stored_at.__getitem__)
    assert ordinary == list(range(2, BACKLOG + 2)), "the ROUTINE are stored in sequence order"
