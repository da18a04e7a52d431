"""One message to several parties, or to all (issue 19): a copy per channel, each signed on its
own channel with that channel's own sequence, shown as one entry; every addressee's deadline and
escalation its own, on a manual clock; and all or none queued."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hotline.envelope import Envelope, cbor, open_signed, serial
from hotline.errors import NotFoundError
from hotline.node import SendError
from hotline.testing import InProcessNetwork, in_process_network, wait_until
from tests.inprocess.helpers import arrived, in_state, stages, text

PARTIES = {"SACEUR": "en", "GENSTAB": "ru", "OSCE": "en", "NRRC": "en"}
FLASH_DUE_MS = 600_000


@pytest.fixture
async def mesh(tmp_path: Path) -> InProcessNetwork:  # type: ignore[misc]
    async with in_process_network(tmp_path, PARTIES) as network:
        yield network


async def test_a_flash_to_every_party_is_one_entry_of_copies_each_signed_on_its_own_channel(
    mesh: InProcessNetwork,
) -> None:
    saceur = mesh["SACEUR"]
    # One earlier message to GENSTAB, so that the channels' sequences differ.
    await saceur.desk.send([text("GENSTAB", "Earlier.")], wait_dispatch=5.0)
    copies = await saceur.desk.send([text("*", "Launch detected; not ours.", "FLASH")], wait_dispatch=5.0)

    assert [c.peer for c in copies] == ["GENSTAB", "NRRC", "OSCE"]  # every pinned party, in order
    first = copies[0].number
    assert {c.broadcast for c in copies} == {first}
    assert [c.seq for c in copies] == [2, 1, 1]  # each channel's own gapless sequence
    assert len({c.envelope_id for c in copies}) == 3  # a signature per channel
    for copy in copies:
        assert copy.envelope is not None
        envelope = Envelope.from_opened(open_signed(copy.envelope, "envelope"))
        assert (envelope.recipient, envelope.seq, envelope.number) == (copy.peer, copy.seq, copy.number)
        received = await arrived(mesh[copy.peer], serial("SACEUR", copy.number))
        assert cbor.decode(received.body)["text"] == "Launch detected; not ours."

    # The outbox shows it as one entry, its first copy carrying the others.
    [entry, earlier] = await saceur.desk.outbox()
    assert (entry.number, [c.peer for c in entry.copies]) == (first, ["NRRC", "OSCE"])
    assert earlier.copies == ()
    assert earlier.broadcast is None
    page = await saceur.desk.outbox_page(0)
    assert (page.total, [row.number for row in page.rows]) == (2, [first, earlier.number])
    assert [c.peer for c in page.rows[0].copies] == ["NRRC", "OSCE"]
    # Any copy's serial finds the whole.
    found = await saceur.desk.find_message(serial("SACEUR", copies[2].number))
    assert found.sent is not None
    assert sorted(c.peer for c in found.sent.copies) == ["GENSTAB", "NRRC"]


async def test_every_addressee_has_its_own_deadline_and_escalation(mesh: InProcessNetwork) -> None:
    saceur, clock = mesh["SACEUR"], mesh.clock
    start = clock.wall_ms()
    copies = await saceur.desk.send([text("GENSTAB,OSCE,NRRC", "Confirm receipt.", "FLASH")], wait_dispatch=5.0)
    by_party = {c.peer: serial("SACEUR", c.number) for c in copies}
    for party, name in by_party.items():
        await arrived(mesh[party], name)
    await mesh["OSCE"].desk.acknowledge(by_party["OSCE"], "Duty officer Lind")
    await in_state(saceur, by_party["OSCE"], "acknowledged")

    await clock.advance(FLASH_DUE_MS / 2000)
    assert sorted(stages(saceur.desk.alerts())) == [
        (by_party["GENSTAB"], "sender", "approaching", "duty_officer"),
        (by_party["NRRC"], "sender", "approaching", "duty_officer"),
    ]
    await mesh["NRRC"].desk.acknowledge(by_party["NRRC"], "Watch officer Hale")
    await in_state(saceur, by_party["NRRC"], "acknowledged")
    await clock.advance(FLASH_DUE_MS / 2000)
    assert clock.wall_ms() == start + FLASH_DUE_MS
    # Only GENSTAB's copy is overdue; the others were acknowledged in time, each on its own.
    assert stages(saceur.desk.alerts()) == [(by_party["GENSTAB"], "sender", "overdue", "commander")]
    found = await saceur.desk.find_message(by_party["NRRC"])
    assert found.sent is not None
    acknowledged = {c.peer: c.ack.by for c in (found.sent, *found.sent.copies) if c.ack is not None}
    assert acknowledged == {"OSCE": "Duty officer Lind", "NRRC": "Watch officer Hale"}


async def test_a_message_to_several_is_queued_for_all_or_for_none(mesh: InProcessNetwork) -> None:
    saceur = mesh["SACEUR"]
    refusals = {
        "GENSTAB,WARSAW": "'WARSAW' is not a pinned peer",
        "GENSTAB,,OSCE": "a party's name is missing",
        "GENSTAB,": "a party's name is missing",
        "GENSTAB,OSCE,GENSTAB": "GENSTAB named more than once",
        "GENSTAB,SACEUR": "SACEUR is this node's own party",
        "*,GENSTAB": "'\\*' means every party: give it alone",
        "": "no addressee",
        "SACEUR": "SACEUR is this node's own party",
    }
    for to, why in refusals.items():
        with pytest.raises(SendError, match=why):
            await saceur.desk.send([text(to, "Not sent.")])
    sent = await saceur.desk.send([text("GENSTAB", "A question.")], wait_dispatch=5.0)
    assert sent[0].envelope_id is not None
    reply = replace(text("GENSTAB,OSCE", "An answer."), reply_to=sent[0].envelope_id)
    with pytest.raises(SendError, match="a reply answers one party's message"):
        await saceur.desk.send([reply])
    assert [row.number for row in await saceur.desk.outbox()] == [sent[0].number]  # nothing else queued
    with pytest.raises(NotFoundError):
        await saceur.desk.find_message(serial("SACEUR", sent[0].number + 1))


async def test_two_messages_to_several_sent_together_stay_two_entries(mesh: InProcessNetwork) -> None:
    """Defect found in review: the copies of every message to several in one call were joined
    into one entry (the second message hidden in the first, GENSTAB listed twice)."""
    saceur = mesh["SACEUR"]
    copies = await saceur.desk.send([text("*", "One."), text("GENSTAB,OSCE", "Two.")], wait_dispatch=5.0)
    assert len(copies) == 5
    entries = await saceur.desk.outbox()
    assert len(entries) == 2
    by_text = {cbor.decode(e.body)["text"]: sorted([e.peer, *(c.peer for c in e.copies)]) for e in entries}
    assert by_text == {"One.": ["GENSTAB", "NRRC", "OSCE"], "Two.": ["GENSTAB", "OSCE"]}


async def test_a_retried_message_to_several_queues_nothing_twice(mesh: InProcessNetwork) -> None:
    saceur = mesh["SACEUR"]
    request = replace(text("*", "Once only.", "IMMEDIATE"), ref="circular-7")
    first = await saceur.desk.send([request], wait_dispatch=5.0)
    again = await saceur.desk.send([request], wait_dispatch=5.0)
    assert [c.number for c in again] == [c.number for c in first]
    assert [c.ref for c in first] == ["circular-7:GENSTAB", "circular-7:NRRC", "circular-7:OSCE"]
    assert len(await saceur.desk.outbox()) == 1


async def test_an_absent_party_delays_no_one_and_is_an_alarm_of_its_own(tmp_path: Path) -> None:
    """One peer down: a FLASH to all reaches the others at once, and only the absent one's copy
    waits; after the grace, its own alarm says which party is unreachable."""
    async with in_process_network(tmp_path, PARTIES) as network:
        saceur = network["SACEUR"]
        await network["NRRC"].stop()

        async def gone() -> bool:
            return not any(entry["connected"] for entry in await saceur.desk.status() if entry["peer"] == "NRRC")

        await wait_until(gone, "SACEUR to see NRRC gone")
        copies = await saceur.desk.send([text("*", "All stations, report.", "FLASH")], wait_dispatch=5.0)
        delivered = {c.peer: c for c in copies}
        for party in ("GENSTAB", "OSCE"):
            await in_state(saceur, serial("SACEUR", delivered[party].number), "delivered")
        nrrc = (await saceur.desk.find_message(serial("SACEUR", delivered["NRRC"].number))).sent
        assert nrrc is not None
        assert nrrc.delivered_ms is None
        grace = saceur.config.alarms.peer_unreachable
        await network.clock.advance(grace + 1)
        unreachable = [a.peer for a in saceur.desk.alarms() if a.kind.value == "peer-unreachable"]
        assert unreachable == ["NRRC"]
