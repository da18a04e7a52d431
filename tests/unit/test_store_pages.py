"""The pages people read, on a real SQLite file: bounded, counted, in the order promised."""

from dataclasses import replace
from pathlib import Path

from hotline.storage import Draft, InboxRow, MessageFilter, PeerRecord, SqliteStore, open_store


def draft(peer: str, precedence: str, kind: str, created_ms: int, due_ms: int | None = 10**12) -> Draft:
    return Draft(peer, precedence, "UNCLASSIFIED", kind, 1, b"\xa0", None, created_ms, due_ms=due_ms)


def received(seq: int, precedence: str, kind: str, received_ms: int, due_ms: int | None) -> InboxRow:
    return InboxRow(
        "BRAVO", seq, seq, bytes([seq]) * 32, precedence, "UNCLASSIFIED", kind, b"\xa0", received_ms - 1,
        received_ms, b"env", due_ms=due_ms,
    )  # fmt: skip


async def filled(path: Path) -> SqliteStore:
    store = SqliteStore(path)
    for n, party in enumerate(("BRAVO", "CHARLIE")):
        await store.add_peer(PeerRecord(party, bytes([n]) * 32, bytes([n]), (), f"card-{party}", 0))
    # Ours: five ROUTINE to BRAVO at 1..5 s, a FLASH to CHARLIE at 6 s, and a link test at 7 s.
    await store.enqueue([draft("BRAVO", "ROUTINE", "free_text", n * 1000) for n in range(1, 6)])
    await store.enqueue([draft("CHARLIE", "FLASH", "incident_report", 6000)])
    await store.enqueue([draft("BRAVO", "ROUTINE", "link_test", 7000, None)])
    # Theirs, from BRAVO: a ROUTINE due late, a FLASH, a readiness check sent ROUTINE (chased as
    # FLASH), an IMMEDIATE, and an acknowledgement (which no one acknowledges).
    rows = [
        received(1, "ROUTINE", "free_text", 1500, 90_000),
        received(2, "FLASH", "free_text", 2500, 70_000),
        received(3, "ROUTINE", "readiness_check", 3500, 60_000),
        received(4, "IMMEDIATE", "free_text", 4500, 50_000),
        received(5, "ROUTINE", "ack", 5500, None),
    ]
    await store.store_inbound(rows, b"rcpt", 0, [])
    return store


async def test_awaiting_is_most_urgent_first_a_page_at_a_time(tmp_path: Path) -> None:
    store = await filled(tmp_path / "store.db")
    try:
        first = await store.awaiting_received(("readiness_check",), False, 0, 3)
        assert (first.total, [a.number for a in first.rows]) == (4, [3, 2, 4])  # FLASH-like by deadline
        second = await store.awaiting_received(("readiness_check",), False, 3, 3)
        assert (second.total, [a.number for a in second.rows]) == (4, [1])
        flash = await store.awaiting_received(("readiness_check",), True, 0, 10)
        assert (flash.total, [a.number for a in flash.rows]) == (2, [3, 2])
        plain = await store.awaiting_received((), True, 0, 10)  # without the rule, only the FLASH
        assert [a.number for a in plain.rows] == [2]
    finally:
        await store.close()


async def test_the_message_log_searches_both_ways_newest_first(tmp_path: Path) -> None:
    store = await filled(tmp_path / "store.db")
    try:
        every = await store.message_log("ALFA", MessageFilter(), 0, 100)
        # People's messages only: no link test, no acknowledgement; newest first, either way.
        assert [(m.sent, m.number) for m in every.rows][:4] == [(True, 6), (True, 5), (False, 4), (True, 4)]
        assert every.total == 10
        assert {m.kind for m in every.rows} == {"free_text", "incident_report", "readiness_check"}
        page = await store.message_log("ALFA", MessageFilter(), 8, 5)
        assert (page.total, len(page.rows), page.offset) == (10, 2, 8)
        flash = await store.message_log("ALFA", MessageFilter(precedence="FLASH"), 0, 100)
        assert [(m.sent, m.peer, m.number) for m in flash.rows] == [(True, "CHARLIE", 6), (False, "BRAVO", 2)]
        theirs = await store.message_log("ALFA", MessageFilter(sent=False, peer="BRAVO"), 0, 100)
        assert [m.number for m in theirs.rows] == [4, 3, 2, 1]
        assert all(m.party == "BRAVO" and m.state == "received" for m in theirs.rows)
        window = await store.message_log("ALFA", MessageFilter(since_ms=2000, until_ms=4000), 0, 100)
        assert [(m.sent, m.at_ms) for m in window.rows] == [(False, 3500), (True, 3000), (False, 2500), (True, 2000)]
        tests = await store.message_log("ALFA", MessageFilter(kind="link_test"), 0, 100)
        assert [(m.sent, m.number, m.party) for m in tests.rows] == [(True, 7, "ALFA")]
        none = await store.message_log("ALFA", MessageFilter(peer="DELTA"), 0, 100)
        assert (none.total, none.rows) == (0, [])
    finally:
        await store.close()


async def test_the_outbox_page_counts_what_people_wrote(tmp_path: Path) -> None:
    store = await filled(tmp_path / "store.db")
    try:
        page = await store.outbox_page(2, 3)
        assert (page.total, [r.number for r in page.rows]) == (6, [4, 3, 2])
    finally:
        await store.close()


async def test_a_reading_store_serves_the_pages(tmp_path: Path) -> None:
    store = await filled(tmp_path / "store.db")
    reader = open_store(tmp_path / "store.db", read_only=True)
    try:
        page = await reader.message_log("ALFA", replace(MessageFilter(), sent=True), 0, 2)
        assert (page.total, [m.number for m in page.rows]) == (6, [6, 5])
        assert (await reader.closed_alarms(0, 10)).total == 0
    finally:
        await reader.close()
        await store.close()


async def test_closed_alarms_come_a_page_at_a_time(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    try:
        for n in range(5):
            alarm = await store.raise_alarm("path_down", "BRAVO", str(n), "duty_officer", {}, n)
            if n != 2:
                await store.close_alarm(alarm.number, "boss", "checked", 10 + n)
        page = await store.closed_alarms(1, 2)
        assert (page.total, [a.number for a in page.rows]) == (4, [4, 2])
    finally:
        await store.close()


async def test_depths_and_the_oldest_awaiting_are_counted_in_one_read(tmp_path: Path) -> None:
    store = await filled(tmp_path / "store.db")
    try:
        assert await store.queue_depths() == {"BRAVO": 6, "CHARLIE": 1}
        assert await store.queue_depths() == {p: await store.queue_depth(p) for p in ("BRAVO", "CHARLIE")}
        assert await store.oldest_awaiting() == {"receiver": 1500, "sender": 1000}
    finally:
        await store.close()
