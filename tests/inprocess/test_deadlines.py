"""Acknowledgement deadlines between two nodes on one manual clock: every stage of DESIGN.md's
escalation table reached at its moment, on both sides, announced once; an acknowledgement
settles it; a readiness check goes out at the watch change and is the loudest alert unanswered."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from hotline.envelope import Precedence, cbor
from hotline.testing import QUIET_WATCH, InProcessNetwork, ManualClock, in_process_network
from hotline.watch import DEFAULT_DEADLINES, outcome, parse_watch_changes
from hotline.watch.escalation import Outcome
from tests.inprocess.helpers import announcements, arrived, in_state, send, stages, text

R, S = "receiver", "sender"
# Precedence -> what stands at (GENSTAB, receiving; SACEUR, sending) at the start, at half the
# deadline and when it is due: (stage, who is called), or None.
ESCALATION = {
    "FLASH": (
        (("alarm", "duty_officer"), None),
        (("approaching", "supervisor"), ("approaching", "duty_officer")),
        (("overdue", "commander"), ("overdue", "commander")),
    ),
    "IMMEDIATE": (
        (None, None),
        (("approaching", "supervisor"), ("approaching", "duty_officer")),
        (("overdue", "commander"), ("overdue", "supervisor")),
    ),
    "PRIORITY": ((None, None), (None, None), (("overdue", "supervisor"), ("overdue", "supervisor"))),
    "ROUTINE": ((None, None), (None, None), (("overdue", "supervisor"), ("overdue", "supervisor"))),
}


def utc_ms(hour: int, minute: int) -> int:
    """A time of 2026-11-23 (UTC), in milliseconds."""
    return int(dt.datetime(2026, 11, 23, hour, minute, tzinfo=dt.UTC).timestamp() * 1000)


@pytest.mark.parametrize("precedence", list(ESCALATION))
async def test_an_unacknowledged_message_escalates_through_its_stages_on_both_sides(
    pair: InProcessNetwork, precedence: str
) -> None:
    saceur, genstab = pair
    clock = pair.clock
    start = clock.wall_ms()
    deadline = DEFAULT_DEADLINES[Precedence(precedence)] * 1000
    heard = {R: announcements(genstab), S: announcements(saceur)}
    sent = await send(saceur, text("GENSTAB", "Acknowledge, please.", precedence))
    serial = f"SACEUR-{sent.number:06d}"
    await arrived(genstab, serial)

    def standing(at: int) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
        found = []
        for node, side in ((genstab, R), (saceur, S)):
            alerts = stages(node.desk.alerts())
            assert all(a[:2] == (serial, side) for a in alerts), alerts
            found.append(alerts[0][2:] if alerts else None)
        assert clock.wall_ms() == at
        return found[0], found[1]

    at_start, at_half, at_due = ESCALATION[precedence]
    assert standing(start) == at_start
    await clock.advance((deadline // 2 - 1) / 1000)
    assert standing(start + deadline // 2 - 1) == at_start  # not a millisecond early
    await clock.advance(0.001)
    assert standing(start + deadline // 2) == at_half
    await clock.advance((deadline // 2 - 1) / 1000)
    assert standing(start + deadline - 1) == at_half
    await clock.advance(0.001)
    assert standing(start + deadline) == at_due

    # Each stage was announced once, at its moment, on the side it calls (what the hook is told).
    for side, column in ((R, 0), (S, 1)):
        expected: list[tuple[int, str, str]] = []
        for at, row in zip((start, start + deadline // 2, start + deadline), ESCALATION[precedence], strict=True):
            stage = row[column]
            if stage is not None and (not expected or expected[-1][1:] != stage):
                expected.append((at, *stage))
        assert [(at, a.stage.value, a.level.label) for at, a in heard[side]] == expected


async def test_one_advance_announces_every_stage_at_its_own_moment_and_an_acknowledgement_settles_it(
    pair: InProcessNetwork,
) -> None:
    saceur, genstab = pair
    clock = pair.clock
    start = clock.wall_ms()
    heard_receiver, heard_sender = announcements(genstab), announcements(saceur)
    sent = await send(saceur, text("GENSTAB", "Confirm the corridor is clear.", "FLASH"))
    serial = f"SACEUR-{sent.number:06d}"
    await arrived(genstab, serial)

    await clock.advance(599.999)  # through half the deadline, in one call
    assert [(at - start, a.stage.value) for at, a in heard_receiver] == [(0, "alarm"), (300_000, "approaching")]
    assert [(at - start, a.stage.value) for at, a in heard_sender] == [(300_000, "approaching")]

    # Acknowledged a millisecond before the deadline: in time, and nothing more is announced.
    acknowledged = await genstab.desk.acknowledge(serial, "майор Петров")
    assert genstab.desk.alerts() == []
    seen = await in_state(saceur, serial, "acknowledged")
    assert saceur.desk.alerts() == []
    assert seen.ack is not None
    assert acknowledged.ack is not None
    assert acknowledged.ack.at_ms == start + 599_999
    assert seen.ack.at_ms == start + 599_000  # the acknowledgement form carries whole seconds
    # Each side judges by its own clock: the sender by when the acknowledgement reached it.
    assert (seen.due_ms, seen.ack_received_ms) == (start + 600_000, start + 599_999)
    assert outcome(start + 600_000, start + 599_999, clock.wall_ms()) is Outcome.IN_TIME
    await clock.advance(3600)
    assert (saceur.desk.alerts(), genstab.desk.alerts()) == ([], [])
    assert len(heard_receiver) == 2
    assert len(heard_sender) == 1


async def test_a_readiness_check_goes_at_the_watch_change_and_unanswered_is_the_loudest_alert(tmp_path: Path) -> None:
    clock = ManualClock(utc_ms(17, 59))
    watch = replace(QUIET_WATCH, changes=parse_watch_changes(["18:00"]))
    async with in_process_network(tmp_path, clock=clock, watch=watch) as network:
        saceur, genstab = network
        await clock.advance(59.999)
        assert (await saceur.desk.outbox(), await genstab.desk.outbox()) == ([], [])
        await clock.advance(0.001)
        change = utc_ms(18, 0)
        for node, peer in ((saceur, "GENSTAB"), (genstab, "SACEUR")):
            [check] = await node.desk.outbox()
            assert (check.peer, check.kind, check.precedence, check.created_ms) == (
                peer,
                "readiness_check",
                "FLASH",
                change,
            )
            assert cbor.decode(check.body) == {"watch_change": "2026-11-23T18:00:00Z"}
        check_to_genstab = f"SACEUR-{(await saceur.desk.outbox())[0].number:06d}"
        check_to_saceur = f"GENSTAB-{(await genstab.desk.outbox())[0].number:06d}"
        await arrived(genstab, check_to_genstab)
        await arrived(saceur, check_to_saceur)
        assert stages(genstab.desk.alerts()) == [(check_to_genstab, R, "alarm", "duty_officer")]

        # Unanswered when due (the FLASH deadline): the loudest alert, calling the commander on
        # both sides: nobody may be on watch.
        await clock.advance(600)
        assert stages(genstab.desk.alerts()) == [
            (check_to_saceur, S, "overdue", "commander"),  # equally loud: by serial
            (check_to_genstab, R, "overdue", "commander"),
        ]
        assert all(a.loudest for a in genstab.desk.alerts() + saceur.desk.alerts())

        # GENSTAB answers SACEUR's check, late: it is settled on both sides; its own check stands.
        await clock.advance(1)
        await genstab.desk.acknowledge(check_to_genstab, "капитан Сидоров")
        assert stages(genstab.desk.alerts()) == [(check_to_saceur, S, "overdue", "commander")]
        seen = await in_state(saceur, check_to_genstab, "acknowledged")
        assert seen.due_ms is not None
        assert seen.ack_received_ms is not None
        assert outcome(seen.due_ms, seen.ack_received_ms, clock.wall_ms()) is Outcome.LATE
        assert stages(saceur.desk.alerts()) == [(check_to_saceur, R, "overdue", "commander")]
