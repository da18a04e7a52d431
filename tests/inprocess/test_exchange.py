"""A message between two nodes in this process: delivered, receipted, read, acknowledged."""

from __future__ import annotations

from pathlib import Path

from hotline.crypto import VerifyKey
from hotline.envelope import Receipt, cbor, open_signed
from hotline.storage import InboxRow
from hotline.testing import InProcessNetwork, InProcessNode, in_process_network, wait_until
from tests.inprocess.helpers import arrived, in_state, send, text


async def test_a_message_is_delivered_receipted_read_and_acknowledged(pair: InProcessNetwork) -> None:
    saceur, genstab = pair
    sent = await send(saceur, text("GENSTAB", "Exercise STEADFAST begins 0600Z.", "FLASH"))
    serial = f"SACEUR-{sent.number:06d}"
    assert (serial, sent.seq) == ("SACEUR-000001", 1)

    delivered = await in_state(saceur, serial, "delivered")
    received = await arrived(genstab, serial)
    assert (received.peer, received.seq, received.precedence) == ("SACEUR", 1, "FLASH")
    assert cbor.decode(received.body) == {"text": "Exercise STEADFAST begins 0600Z.", "lang": "en"}
    assert received.envelope_id == sent.envelope_id
    assert received.received_ms == pair.clock.wall_ms()  # the clock stood still meanwhile
    # The receipt SACEUR holds is GENSTAB's signature over the very envelope SACEUR sent.
    assert delivered.receipt is not None
    opened = open_signed(delivered.receipt, "receipt")
    opened.verify(VerifyKey(genstab.config.signing_key().verify_key.raw))
    receipt = Receipt.from_opened(opened)
    assert (receipt.sender, receipt.recipient) == ("GENSTAB", "SACEUR")
    assert [(e.seq, e.envelope_id) for e in receipt.entries] == [(1, sent.envelope_id)]

    # A person at GENSTAB acknowledges; SACEUR sees who did, and the watch on both sides is quiet.
    acknowledged = await genstab.desk.acknowledge(serial, "подполковник Иванов", "Принято.")
    assert acknowledged.ack is not None
    assert acknowledged.ack.by == "подполковник Иванов"
    assert genstab.desk.alerts() == []
    seen = await in_state(saceur, serial, "acknowledged")
    assert seen.ack is not None
    assert (seen.ack.by, seen.ack.remark, seen.ack.at_ms) == ("подполковник Иванов", "Принято.", pair.clock.wall_ms())
    message = await saceur.desk.find_message(serial)
    assert [(r.kind, r.reply_to) for r in message.replies_received] == [("ack", sent.envelope_id)]
    assert saceur.desk.alerts() == []

    [status] = await saceur.desk.status()
    assert (status["peer"], status["connected"], status["queue_depth"], status["in_flight"]) == ("GENSTAB", True, 0, 0)
    assert status["last_contact_ms"] == pair.clock.wall_ms()


async def test_messages_queued_while_the_peer_is_down_go_when_it_returns(pair: InProcessNetwork) -> None:
    saceur, genstab = pair
    [linked] = await saceur.desk.status()
    assert linked["rtt_ms"] is not None, "a round trip was measured while linked"
    await genstab.stop()
    queued = await saceur.desk.enqueue([text("GENSTAB", f"m{i}") for i in range(5)])
    [status] = await saceur.desk.status()
    assert (status["connected"], status["queue_depth"], status["next_seq_out"]) == (False, 5, 1)  # nothing signed
    # No round trip is shown for a link that is down: the last one measured would read as live.
    assert status["rtt_ms"] is None
    assert [path["rtt_ms"] for path in status["paths"]] == [None] * len(status["paths"])

    await genstab.start()  # it dials SACEUR at once: no backoff to wait out
    for q in queued:
        await in_state(saceur, f"SACEUR-{q.number:06d}", "delivered")
    inbox = await genstab.desk.inbox()
    assert sorted(r.seq for r in inbox) == [1, 2, 3, 4, 5]
    assert {cbor.decode(r.body)["text"] for r in inbox} == {f"m{i}" for i in range(5)}


async def test_three_parties_each_hear_from_each_other(tmp_path: Path) -> None:
    """A multilateral network is many channels: each node holds one to every other party."""
    parties = {"SACEUR": "en", "GENSTAB": "ru", "OSCE": "en"}
    async with in_process_network(tmp_path, parties) as network:
        for node in network:
            others = sorted(set(parties) - {node.party})
            assert [p.party for p in node.desk.peers()] == others
            for party in others:
                await send(node, text(party, f"{node.party} to {party}", "FLASH"))
        for node in network:

            async def everyone_heard(node: InProcessNode = node) -> list[InboxRow] | None:
                inbox = await node.desk.inbox()
                return inbox if len(inbox) == len(parties) - 1 else None

            inbox = await wait_until(everyone_heard, f"{node.party} to hear from every other party")
            heard = {(row.peer, cbor.decode(row.body)["text"]) for row in inbox}
            assert heard == {(p, f"{p} to {node.party}") for p in parties if p != node.party}
