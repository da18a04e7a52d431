"""Latched alarms in the SQLite store (``storage/alarms.py``): counted while they stand, closed by
a person with a remark, kept for the record, on a real file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.errors import AlarmError, NotFoundError
from hotline.storage import SqliteStore, StoredAlarm

START_MS = 1_795_000_000_000
FACTS = {"reason": "two roots at size 40", "ours": False, "equivocation": 3}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "store.db")
    try:
        yield store
    finally:
        await store.close()


async def test_a_new_store_has_no_alarms(store: SqliteStore) -> None:
    assert await store.open_alarms() == []
    assert await store.alarm_history(10) == []


async def test_raising_an_alarm_keeps_its_facts(store: SqliteStore) -> None:
    raised = await store.raise_alarm("equivocation", "GENSTAB", "log", "commander", FACTS, START_MS)
    assert raised == StoredAlarm(
        number=raised.number,
        kind="equivocation",
        peer="GENSTAB",
        subject="log",
        level="commander",
        facts=FACTS,
        raised_ms=START_MS,
        last_ms=START_MS,
        count=1,
    )
    assert await store.open_alarms() == [raised]


async def test_the_same_cause_raised_again_counts_on_the_open_alarm(store: SqliteStore) -> None:
    first = await store.raise_alarm("serial-reused", "GENSTAB", "GENSTAB-000042", "supervisor", {}, START_MS)
    again = await store.raise_alarm("serial-reused", "GENSTAB", "GENSTAB-000042", "supervisor", {}, START_MS + 5)
    assert again.number == first.number
    assert again.count == 2
    assert (again.raised_ms, again.last_ms) == (START_MS, START_MS + 5)
    assert await store.open_alarms() == [again]


async def test_a_cause_without_peer_or_subject_is_counted_too(store: SqliteStore) -> None:
    await store.raise_alarm("alleged-equivocation", None, None, "duty_officer", {}, START_MS)
    again = await store.raise_alarm("alleged-equivocation", None, None, "duty_officer", {}, START_MS + 1)
    assert again.count == 2
    assert len(await store.open_alarms()) == 1


@pytest.mark.parametrize(
    ("kind", "peer", "subject"),
    [
        ("serial-reused", "GENSTAB", "GENSTAB-000043"),  # another subject
        ("serial-reused", "MOD", "GENSTAB-000042"),  # another peer
        ("numbering-refused", "GENSTAB", "GENSTAB-000042"),  # another kind
        ("serial-reused", "GENSTAB", None),  # no subject is not the same subject
        ("serial-reused", None, "GENSTAB-000042"),
    ],
)
async def test_another_cause_is_another_alarm(
    store: SqliteStore, kind: str, peer: str | None, subject: str | None
) -> None:
    first = await store.raise_alarm("serial-reused", "GENSTAB", "GENSTAB-000042", "supervisor", {}, START_MS)
    other = await store.raise_alarm(kind, peer, subject, "supervisor", {}, START_MS + 1)
    assert other.number != first.number
    assert (first.count, other.count) == (1, 1)
    assert [a.number for a in await store.open_alarms()] == [first.number, other.number]


async def test_calls_in_one_turn_count_on_one_alarm(store: SqliteStore) -> None:
    """Raised a hundred times in one group commit: still one line, seen a hundred times."""
    futures = [
        store.raise_alarm("alleged-equivocation", "MOD", "log", "duty_officer", {}, START_MS + i) for i in range(100)
    ]
    results = [await future for future in futures]
    assert {r.number for r in results} == {results[0].number}
    assert [r.count for r in results] == list(range(1, 101))
    (alarm,) = await store.open_alarms()
    assert (alarm.count, alarm.last_ms) == (100, START_MS + 99)


async def test_closing_records_who_why_and_when_and_keeps_the_alarm(store: SqliteStore) -> None:
    raised = await store.raise_alarm("equivocation", "GENSTAB", "log", "commander", FACTS, START_MS)
    kept = await store.raise_alarm("serial-reused", "MOD", "MOD-000001", "supervisor", {}, START_MS + 1)
    closed = await store.close_alarm(raised.number, "Maj. Petrov", "both stores copied for the inquiry", START_MS + 60)
    assert closed.number == raised.number
    assert (closed.closed_ms, closed.closed_by, closed.remark) == (
        START_MS + 60,
        "Maj. Petrov",
        "both stores copied for the inquiry",
    )
    assert (closed.kind, closed.facts, closed.count, closed.raised_ms) == ("equivocation", FACTS, 1, START_MS)

    assert await store.open_alarms() == [kept]
    assert await store.alarm_history(10) == [kept, closed]  # newest first, closed ones included


async def test_the_same_cause_after_closing_opens_a_new_alarm(store: SqliteStore) -> None:
    first = await store.raise_alarm("serial-reused", "GENSTAB", "GENSTAB-000042", "supervisor", {}, START_MS)
    await store.close_alarm(first.number, "Capt. Smith", "refused, evidence kept", START_MS + 10)
    second = await store.raise_alarm("serial-reused", "GENSTAB", "GENSTAB-000042", "supervisor", {}, START_MS + 20)
    assert second.number != first.number
    assert (second.count, second.raised_ms, second.closed_ms) == (1, START_MS + 20, None)
    assert [a.number for a in await store.open_alarms()] == [second.number]
    history = await store.alarm_history(10)
    assert [(a.number, a.count, a.closed_ms) for a in history] == [
        (second.number, 1, None),
        (first.number, 1, START_MS + 10),
    ]


async def test_the_history_is_newest_first_and_limited(store: SqliteStore) -> None:
    numbers = [
        (await store.raise_alarm("serial-reused", "GENSTAB", f"GENSTAB-{i:06}", "supervisor", {}, START_MS + i)).number
        for i in range(5)
    ]
    assert [a.number for a in await store.alarm_history(3)] == numbers[::-1][:3]
    assert [a.number for a in await store.alarm_history(100)] == numbers[::-1]


async def test_closing_an_unknown_alarm_is_not_found(store: SqliteStore) -> None:
    with pytest.raises(NotFoundError, match="no alarm number 999"):
        await store.close_alarm(999, "Maj. Petrov", "remark", START_MS)


async def test_an_alarm_is_closed_once(store: SqliteStore) -> None:
    raised = await store.raise_alarm("equivocation", "GENSTAB", "log", "commander", FACTS, START_MS)
    await store.close_alarm(raised.number, "Maj. Petrov", "first", START_MS + 1)
    with pytest.raises(AlarmError, match=r"already closed by Maj\. Petrov"):
        await store.close_alarm(raised.number, "Capt. Smith", "second", START_MS + 2)
    (closed,) = await store.alarm_history(10)
    assert (closed.closed_ms, closed.closed_by, closed.remark) == (START_MS + 1, "Maj. Petrov", "first")


async def test_a_refused_close_does_not_spoil_the_rest_of_the_batch(store: SqliteStore) -> None:
    """The store commits in groups; a close refused in the group leaves the others stored."""
    raised = await store.raise_alarm("equivocation", "GENSTAB", "log", "commander", FACTS, START_MS)
    refused = store.close_alarm(12345, "Maj. Petrov", "wrong number", START_MS + 1)
    accepted = store.close_alarm(raised.number, "Maj. Petrov", "right number", START_MS + 2)
    with pytest.raises(NotFoundError):
        await refused
    assert (await accepted).remark == "right number"
    assert await store.open_alarms() == []


async def test_everything_survives_closing_and_reopening_the_store(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = SqliteStore(path)
    try:
        closed = await store.raise_alarm("equivocation", "GENSTAB", "log", "commander", FACTS, START_MS)
        await store.raise_alarm("serial-reused", "MOD", "MOD-000007", "supervisor", {"n": 1}, START_MS + 1)
        counted = await store.raise_alarm("serial-reused", "MOD", "MOD-000007", "supervisor", {"n": 1}, START_MS + 2)
        closed = await store.close_alarm(closed.number, "Maj. Petrov", "checked", START_MS + 3)
        history = await store.alarm_history(10)
    finally:
        await store.close()

    reopened = SqliteStore(path)
    try:
        assert await reopened.open_alarms() == [counted]
        assert await reopened.alarm_history(10) == history == [counted, closed]
        again = await reopened.raise_alarm("serial-reused", "MOD", "MOD-000007", "supervisor", {}, START_MS + 4)
        assert (again.number, again.count, again.last_ms) == (counted.number, 3, START_MS + 4)
        with pytest.raises(AlarmError):
            await reopened.close_alarm(closed.number, "Capt. Smith", "again", START_MS + 5)
    finally:
        await reopened.close()
