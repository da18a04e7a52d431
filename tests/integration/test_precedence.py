"""Higher precedence overtakes lower between two real nodes: in the sender's queue, on the wire
(the urgent lane), and in the receiver's processing."""

from __future__ import annotations

from pathlib import Path

from tests.integration.harness import paired, query, wait_for

BACKLOG = 3000


def routine(count: int) -> list[dict[str, object]]:
    return [{"to": "GENSTAB", "body": {"text": f"routine {i}", "lang": "en"}} for i in range(count)]


async def test_a_flash_overtakes_routine_traffic_already_on_its_way(tmp_path: Path) -> None:
    async with paired(tmp_path) as (saceur, genstab):
        await wait_for(lambda: saceur.connected("GENSTAB"), 20, "both lanes to come up")
        for start in range(0, BACKLOG, 1000):
            await saceur.api("POST", "/v1/messages/batch", json={"messages": routine(min(1000, BACKLOG - start))})

        async def routine_on_the_wire() -> bool:  # signed and sent, not receipted yet
            [(count,)] = query(saceur, "SELECT count(*) FROM outbox WHERE state='sent'")
            return int(str(count)) >= 300

        await wait_for(routine_on_the_wire, 20, "hundreds of ROUTINE envelopes to be on their way")
        flash = await saceur.api(
            "POST",
            "/v1/messages",
            json={"to": "GENSTAB", "precedence": "FLASH", "body": {"text": "FLASH", "lang": "en"}},
        )

        async def all_delivered() -> bool:
            return not query(saceur, "SELECT 1 FROM outbox WHERE state != 'delivered' LIMIT 1")

        await wait_for(all_delivered, 60, "everything to be delivered")

    [(flash_seq,)] = query(saceur, "SELECT seq FROM outbox WHERE num=?", flash["number"])
    # At the receiver, the order in which envelopes were stored is the order of their receipts.
    stored = query(genstab, "SELECT seq, precedence, receipt_id FROM inbox ORDER BY receipt_id, seq")
    assert len(stored) == BACKLOG + 1
    assert sorted(int(str(seq)) for seq, _, _ in stored) == list(range(1, BACKLOG + 2)), "gapless, each once"
    order = [int(str(seq)) for seq, _, _ in stored]
    flash_at = order.index(int(str(flash_seq)))
    passed = [seq for seq in order[flash_at + 1 :] if seq < int(str(flash_seq))]
    # Signed after hundreds of ROUTINE envelopes, it was stored before many of them.
    assert len(passed) >= 100, f"the FLASH (number {flash_seq}) passed only {len(passed)} earlier envelopes"
    ordinary = [int(str(seq)) for seq, precedence, _ in stored if precedence == "ROUTINE"]
    assert ordinary == sorted(ordinary), "within a lane, envelopes are stored in sequence order"
