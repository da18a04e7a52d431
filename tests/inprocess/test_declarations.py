"""The rhythm of declarations (issue #18, item 3): a scheduled declaration due and not sent is
an alarm on the side that owes it, and one not received on the side that waits for it; sending
it clears both. Two nodes in one process, one fake clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from hotline.node import SendRequest
from hotline.testing import ManualClock, in_process_network
from hotline.testing.inprocess import wait_until
from hotline.watch.alarms import Alarm
from hotline.watch.declaring import Schedule

# Both sides agreed: as of 1 March and 1 September, within 45 days.
AGREED = Schedule(((3, 1), (9, 1)), due_days=45, since=dt.date(2027, 3, 1))
DUE = int(dt.datetime(2027, 4, 16, tzinfo=dt.UTC).timestamp() * 1000)  # the end of 15 April: 1 March + 45 days
FIGURES = {"as_of": "2027-03-01", "deployed_icbms": 400, "deployed_slbms": 240, "deployed_heavy_bombers": 60,
           "deployed_warheads": 1500, "deployed_and_non_deployed_launchers": 790}  # fmt: skip


def kinds(alarms: list[Alarm]) -> set[tuple[str, str | None, str | None]]:
    return {(a.kind.value, a.peer, a.subject) for a in alarms if a.kind.value.startswith("declaration")}


async def test_a_missed_declaration_is_an_alarm_on_both_sides_until_it_is_sent(tmp_path: Path) -> None:
    clock = ManualClock(DUE - 120_000)  # two minutes before the first declarations fall due
    async with in_process_network(tmp_path, clock=clock, start=False) as network:
        saceur, genstab = network
        for node, peer in ((saceur, "GENSTAB"), (genstab, "SACEUR")):
            node.config = dataclasses.replace(node.config, declarations={peer: AGREED})
        await network.start()
        await network.wait_linked()
        # GENSTAB declares in time; SACEUR does not.
        await genstab.desk.send([SendRequest("SACEUR", "arsenal_declaration", FIGURES)], wait_dispatch=5)
        await clock.advance(60)
        assert not kinds(saceur.desk.alarms()), "nothing stands before the due date"
        await clock.advance(90)  # past the due time
        assert kinds(saceur.desk.alarms()) == {("declaration-due", "GENSTAB", "2027-03-01")}
        assert kinds(genstab.desk.alarms()) == {("declaration-missing", "SACEUR", "2027-03-01")}
        [due] = [a for a in saceur.desk.alarms() if a.kind.value == "declaration-due"]
        assert due.level.label == "duty_officer"

        await saceur.desk.send([SendRequest("GENSTAB", "arsenal_declaration", FIGURES)], wait_dispatch=5)

        async def cleared() -> bool:
            await clock.advance(2)
            return not kinds(saceur.desk.alarms()) and not kinds(genstab.desk.alarms())

        await wait_until(cleared, "both alarms to clear once SACEUR's declaration went")
