"""A peer whose traffic we hold is sent nothing by the node itself either (issue #17, item 3):
at a watch change, readiness checks go to the other peers only. Before this, a removed peer's
readiness check was refused by the node's own intake, and the node stopped."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from hotline.testing import QUIET_WATCH, ManualClock, in_process_network
from hotline.watch import parse_watch_changes


def utc_ms(hour: int, minute: int) -> int:
    return int(dt.datetime(2026, 11, 23, hour, minute, tzinfo=dt.UTC).timestamp() * 1000)


async def test_no_readiness_check_goes_to_a_peer_suspended_or_removed(tmp_path: Path) -> None:
    clock = ManualClock(utc_ms(17, 59))
    watch = replace(QUIET_WATCH, changes=parse_watch_changes(["18:00", "18:02"]))
    async with in_process_network(tmp_path, clock=clock, watch=watch) as network:
        saceur, genstab = network
        await saceur.desk.set_peer_state("GENSTAB", "suspended", "watch", "drill")
        await clock.advance(60)
        assert saceur.running
        assert await saceur.desk.outbox() == []
        [check] = await genstab.desk.outbox()  # GENSTAB's own check waits for SACEUR to resume
        assert check.kind == "readiness_check"

        await saceur.desk.set_peer_state("GENSTAB", "removed", "watch")
        await clock.advance(120)
        assert saceur.running, "the node sends nothing to a removed peer, and keeps running"
        assert await saceur.desk.outbox() == []
