"""The channel's own alarms on the manual clock: a peer unreachable and a FLASH undelivered are
raised when their graces run out (not a millisecond before), escalate, reach the open board at
that moment, and clear when the peer is back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hotline.node.bulletin import Subscription
from hotline.testing import QUIET_WATCH, ManualClock, build_network, in_process_network, wait_until
from hotline.testing.inprocess import InProcessNetwork
from hotline.watch.alarms import Alarm
from tests.inprocess.helpers import text


def board(alarms: list[Alarm]) -> list[tuple[str, str | None, str]]:
    return [(a.kind.value, a.peer, a.level.label) for a in alarms]


def notices(subscription: Subscription) -> set[str]:
    """What the open board was told since the last look (without waiting)."""
    topics, subscription.pending = subscription.pending, set()
    subscription.ready.clear()
    return topics


async def test_an_unreachable_peer_and_an_undelivered_flash_become_alarms_and_clear_on_return(tmp_path: Path) -> None:
    async with in_process_network(tmp_path) as network:
        await _unreachable_and_back(network)


async def _unreachable_and_back(network: InProcessNetwork) -> None:
    saceur, genstab = network
    clock = network.clock
    with saceur.desk.subscribe() as subscription:
        await genstab.stop()
        down_at = clock.wall_ms()
        [flash] = await saceur.desk.enqueue([text("GENSTAB", "FLASH: hold fire", "FLASH")])
        await clock.advance(29.999)
        assert saceur.desk.alarms() == []
        notices(subscription)

        await clock.advance(0.001)  # both graces (30 s) run out now
        assert board(saceur.desk.alarms()) == [  # no path at all: the loudest, first
            ("peer-unreachable", "GENSTAB", "duty_officer"),
            ("urgent-undelivered", "GENSTAB", "supervisor"),
        ]
        assert "alerts" in notices(subscription), "the lookout woke at the threshold and told the board"
        [unreachable] = [a for a in saceur.desk.alarms() if a.kind.value == "peer-unreachable"]
        assert (unreachable.since_ms, unreachable.facts["down_ms"]) == (down_at, 30_000)

        # Ten graces down, the supervisor is called; sixty, the commander.
        await clock.advance(270)
        assert ("peer-unreachable", "GENSTAB", "supervisor") in board(saceur.desk.alarms())
        await clock.advance(1500)
        assert ("peer-unreachable", "GENSTAB", "commander") in board(saceur.desk.alarms())
        assert "alerts" in notices(subscription)

        # GENSTAB is back: it dials SACEUR at once, the FLASH is delivered, both alarms clear.
        await genstab.start()
        await wait_until(lambda: not saceur.desk.alarms(), "SACEUR's alarms to clear")
        assert (await saceur.desk.find_message(f"SACEUR-{flash.number:06d}")).sent.state == "delivered"  # type: ignore[union-attr]
        assert genstab.desk.alarms() == []


async def test_a_peer_that_sends_no_link_tests_is_an_alarm_after_two_intervals(tmp_path: Path) -> None:
    watch = replace(QUIET_WATCH, link_test_interval=60.0)
    network = await build_network(tmp_path, watch=watch)
    saceur, genstab = network
    genstab.config = replace(genstab.config, watch=QUIET_WATCH)  # GENSTAB's link tests are off
    try:
        await network.start()
        await network.wait_linked()
        await network.clock.advance(119.999)
        assert saceur.desk.alarms() == []
        await network.clock.advance(0.001)
        assert board(saceur.desk.alarms()) == [("link-test-missing", "GENSTAB", "duty_officer")]
        assert genstab.desk.alarms() == []  # SACEUR's tests reach GENSTAB, which expects none anyway
    finally:
        await network.stop()


async def test_a_node_whose_peer_stays_unreachable_for_an_hour_keeps_running(tmp_path: Path) -> None:
    # No grace: each redial is refused by the kernel at once, and a thousand of them are needed
    # (the backoff's exponent once overflowed after 1024 of them, and the node stopped itself).
    async with in_process_network(tmp_path, clock=ManualClock(grace=0.0)) as network:
        saceur, genstab = network
        await genstab.stop()
        await network.clock.advance(3600)
        assert saceur.node is not None
        assert (saceur.node.failure, saceur.node.stopping) == (None, False)
        await genstab.start()
        await network.wait_linked()
