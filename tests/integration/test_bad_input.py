"""Bad input at a real node: each is refused with a clear reason, the node keeps serving valid
traffic, and nothing from the bad frame reaches the inbox.

The test plays GENSTAB itself (it holds GENSTAB's keys; no GENSTAB process runs), so it can
send SACEUR any bytes at all over a genuine mutual-TLS link.
"""

import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hotline.crypto import generate_signing_key, generate_tls_identity
from hotline.envelope import Receipt, Rejection, open_signed
from hotline.forms import prepare_body
from hotline.log import Checkpoint, Ed25519Signer, leaf_hash, log_origin, sign_checkpoint
from hotline.protocol import REACH, FrameType, Lane, encode_frame
from hotline.testing import Party, sign_envelope
from tests.integration.harness import NodeProcess, configure, make_node, pin, wait_for
from tests.integration.rogue import RawPeer
from tests.integration.test_cli import hotline


class Attack:
    def __init__(self, node: NodeProcess, genstab: Path) -> None:
        self.node = node
        self.genstab = genstab
        self.party = Party("GENSTAB", key=_key(genstab))
        self.next_seq = 1

    def peer(self) -> RawPeer:
        return RawPeer(self.node.config, self.genstab / "tls.crt", self.genstab / "tls.key")

    async def linked(self) -> RawPeer:
        raw = self.peer()
        await raw.connect()
        raw.hello("GENSTAB", send_next=self.next_seq)
        hello = await raw.expect(FrameType.HELLO)
        assert hello["recv_next"] == self.next_seq
        return raw

    async def deliver_valid(self) -> bytes:
        """Prove the node still serves: a valid envelope gets a receipt that names it."""
        raw = await self.linked()
        signed = sign_envelope(self.party, "SACEUR", self.next_seq, f"valid #{self.next_seq}")
        raw.send(encode_frame(FrameType.ENVELOPE, obj=signed))
        frame = await raw.expect(FrameType.RECEIPT)
        [entry] = Receipt.from_opened(open_signed(frame["obj"], "receipt")).entries
        assert entry.seq == self.next_seq
        assert entry.envelope_id == open_signed(signed, "envelope").id
        await raw.close()
        self.next_seq += 1
        return signed

    def inbox(self) -> list[tuple[int, bytes]]:
        conn = sqlite3.connect(self.node.config.store_path)
        rows = conn.execute("SELECT seq, envelope FROM inbox ORDER BY seq").fetchall()
        conn.close()
        return rows


# A refused envelope is kept once, in the transcript, where its row in ``refused`` points.
EVIDENCE = "SELECT t.obj, r.reason FROM refused r JOIN transcript t ON t.idx = r.log_index ORDER BY r.id"


def _key(directory: Path):  # type: ignore[no-untyped-def]
    from hotline.crypto import load_signing_key

    return load_signing_key((directory / "signing.key").read_bytes())


@pytest.fixture
async def attack(tmp_path: Path) -> AsyncIterator[Attack]:
    saceur = make_node(tmp_path, "SACEUR")
    genstab = make_node(tmp_path, "GENSTAB")
    pin(saceur, genstab.config)
    await saceur.start()
    a = Attack(saceur, genstab.config.directory)
    await a.deliver_valid()
    try:
        yield a
    finally:
        assert saceur.stop() == 0, "the node must still stop cleanly after the attack"
        await saceur.client.aclose()


async def refused_and_still_serving(attack: Attack, raw: RawPeer, code: str) -> None:
    before = attack.inbox()
    error = await raw.expect(FrameType.ERROR)
    assert error["code"] == code
    assert error["detail"]
    assert await raw.next_frame() is None, "the node closes the link after the error"
    await raw.close()
    assert attack.inbox() == before
    await attack.deliver_valid()
    assert len(attack.inbox()) == len(before) + 1


async def test_client_without_a_certificate_is_refused(attack: Attack) -> None:
    raw = RawPeer(attack.node.config, None, None)
    await raw.connect()  # TLS 1.3: the client finishes first; the server refuses right after
    raw.send(b"\x00\x00\x00\x01\x00")
    assert await raw.next_frame() is None
    await raw.close()
    await attack.deliver_valid()


async def test_client_with_an_unpinned_certificate_is_refused(attack: Attack, tmp_path: Path) -> None:
    stranger = generate_tls_identity("GENSTAB", dt.datetime.now(dt.UTC))
    (tmp_path / "x.crt").write_bytes(stranger.cert_pem)
    (tmp_path / "x.key").write_bytes(stranger.key_pem)
    raw = RawPeer(attack.node.config, tmp_path / "x.crt", tmp_path / "x.key")
    await raw.connect()
    raw.hello("GENSTAB")
    assert await raw.next_frame() is None
    await raw.close()
    await attack.deliver_valid()


async def test_garbage_bytes(attack: Attack) -> None:
    raw = await attack.linked()
    raw.send(b"\x00\x00\x00\x10" + b"\xff" * 16)
    await refused_and_still_serving(attack, raw, "malformed-frame")


async def test_a_frame_over_the_size_limit(attack: Attack) -> None:
    raw = await attack.linked()
    raw.send((64 << 20).to_bytes(4, "big") + b"\x00" * 1024)
    await refused_and_still_serving(attack, raw, "frame-too-large")


async def test_a_truncated_frame(attack: Attack) -> None:
    raw = await attack.linked()
    frame = encode_frame(FrameType.ENVELOPE, obj=sign_envelope(attack.party, "SACEUR", attack.next_seq))
    raw.send(frame[: len(frame) // 2])
    before = attack.inbox()
    await raw.close()
    await attack.deliver_valid()  # the same sequence number is still free: nothing was stored
    assert len(attack.inbox()) == len(before) + 1


async def test_an_envelope_with_a_broken_signature(attack: Attack) -> None:
    raw = await attack.linked()
    signed = bytearray(sign_envelope(attack.party, "SACEUR", attack.next_seq))
    signed[-1] ^= 0x01
    raw.send(encode_frame(FrameType.ENVELOPE, obj=bytes(signed)))
    await refused_and_still_serving(attack, raw, "bad-signature")


async def test_an_envelope_signed_by_a_key_that_is_not_the_senders(attack: Attack) -> None:
    raw = await attack.linked()
    impostor = Party("GENSTAB", key=generate_signing_key())
    raw.send(encode_frame(FrameType.ENVELOPE, obj=sign_envelope(impostor, "SACEUR", attack.next_seq)))
    await refused_and_still_serving(attack, raw, "bad-signature")


async def test_a_replayed_envelope_gets_the_stored_receipt_and_is_not_stored_again(attack: Attack) -> None:
    first = attack.inbox()[0][1]
    raw = await attack.linked()
    raw.send(encode_frame(FrameType.ENVELOPE, obj=first))
    frame = await raw.expect(FrameType.RECEIPT)
    [entry] = Receipt.from_opened(open_signed(frame["obj"], "receipt")).entries
    assert (entry.seq, entry.envelope_id) == (1, open_signed(first, "envelope").id)
    await raw.close()
    assert len(attack.inbox()) == 1
    await attack.deliver_valid()


async def test_a_different_envelope_under_a_used_sequence_number_is_rejected(attack: Attack) -> None:
    before = attack.inbox()
    raw = await attack.linked()
    raw.send(encode_frame(FrameType.ENVELOPE, obj=sign_envelope(attack.party, "SACEUR", 1, "rewritten")))
    frame = await raw.expect(FrameType.REJECTION)
    rejection = Rejection.from_opened(open_signed(frame["obj"], "rejection"))
    assert rejection.reason == "sequence-reused"
    await raw.close()
    assert attack.inbox() == before


async def test_a_number_beyond_reach_is_rejected_without_using_it_up(attack: Attack) -> None:
    raw = await attack.linked()
    too_far = attack.next_seq + REACH
    raw.send(encode_frame(FrameType.ENVELOPE, obj=sign_envelope(attack.party, "SACEUR", too_far)))
    frame = await raw.expect(FrameType.REJECTION)
    rejection = Rejection.from_opened(open_signed(frame["obj"], "rejection"))
    assert rejection.reason == "sequence-gap"
    assert not rejection.consumed
    assert f"sequence {too_far} is too far ahead: expected {attack.next_seq}" in rejection.detail
    await raw.close()
    assert len(attack.inbox()) == 1
    await attack.deliver_valid()


async def test_numbers_ahead_are_taken_and_the_ones_passed_are_still_expected(attack: Attack) -> None:
    # What the urgent lane does: a later number arrives before earlier ones still on their way.
    raw = await attack.linked()
    first = attack.next_seq
    for seq in (first + 2, first + 1):
        raw.send(encode_frame(FrameType.ENVELOPE, obj=sign_envelope(attack.party, "SACEUR", seq, f"#{seq}")))
        await raw.expect(FrameType.RECEIPT)
    await raw.close()
    status = (await attack.node.api("GET", "/v1/status"))["peers"][0]
    assert (status["next_seq_in"], status["missing_in"]) == (first, 1)
    raw = await attack.linked()  # the node still asks for the number it lacks, and refuses a reuse
    raw.send(encode_frame(FrameType.ENVELOPE, obj=sign_envelope(attack.party, "SACEUR", first + 2, "rewritten")))
    assert Rejection.from_opened(open_signed((await raw.expect(FrameType.REJECTION))["obj"], "rejection")).reason == (
        "sequence-reused"
    )
    await raw.close()
    await attack.deliver_valid()  # the missing number itself
    attack.next_seq = first + 3
    status = (await attack.node.api("GET", "/v1/status"))["peers"][0]
    assert (status["next_seq_in"], status["missing_in"]) == (first + 3, 0)
    assert [seq for seq, _ in attack.inbox()] == list(range(1, first + 3))


async def test_a_connection_that_names_no_lane_is_told_why_and_closed(attack: Attack) -> None:
    raw = RawPeer(attack.node.config, attack.genstab / "tls.crt", attack.genstab / "tls.key", lane=None)
    await raw.connect()
    frame = await raw.expect(FrameType.ERROR)
    assert frame["code"] == "unsupported-protocol"
    assert "name a lane by ALPN" in frame["detail"]
    assert await raw.next_frame() is None
    await attack.deliver_valid()


async def test_a_wrong_version_envelope_is_rejected_and_kept_as_evidence(attack: Attack) -> None:
    raw = await attack.linked()
    signed = sign_envelope(attack.party, "SACEUR", attack.next_seq, overrides={"v": 9})
    raw.send(encode_frame(FrameType.ENVELOPE, obj=signed))
    frame = await raw.expect(FrameType.REJECTION)
    rejection = Rejection.from_opened(open_signed(frame["obj"], "rejection"))
    rejection_key = attack.node.config.signing_key().verify_key
    open_signed(frame["obj"], "rejection").verify(rejection_key)
    assert rejection.reason == "unsupported-version"
    assert rejection.consumed
    await raw.close()
    assert len(attack.inbox()) == 1
    conn = sqlite3.connect(attack.node.config.store_path)
    [(evidence, reason)] = conn.execute(EVIDENCE).fetchall()
    conn.close()
    assert (evidence, reason) == (signed, "unsupported-version")
    attack.next_seq += 1  # the rejected envelope used up its number
    await attack.deliver_valid()


def _valid(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return prepare_body(kind, 1, data)


_WINDOW = {"start": "2026-11-24T06:00:00Z", "end": "2026-11-24T08:00:00Z"}
_CIRCLE = {"shape": "circle", "centre": {"lat": 62.93, "lon": 40.57}, "radius": 20, "unit": "km"}
_LAUNCH = {"missile_class": "icbm", "launch_window": _WINDOW, "launch_area": _CIRCLE, "impact_area": _CIRCLE}
_INCIDENT = {
    "category": "unsafe_intercept",
    "occurred_at": "2026-11-23T03:10:00Z",
    "position": {"lat": 55.5, "lon": 19.5},
    "units_involved": ["Su-27 (2)", "RC-135W"],
    "what_happened": "Intercept at 30 m separation.",
    "actions_taken": "Aircraft returned to base.",
}


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != name}


def _with(body: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(body))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("kind", "make_body", "field"),
    [
        ("missile_launch", lambda: _without(_valid("missile_launch", _LAUNCH), "launch_window"), "body.launch_window"),
        (
            "incident_report",
            lambda: _with(_valid("incident_report", _INCIDENT), ["position", "lat"], "91"),
            "body.position.lat",
        ),
        (
            "missile_launch",
            lambda: _with(_valid("missile_launch", _LAUNCH), ["launch_window", "end"], "2026-11-24T05:00:00Z"),
            "body.launch_window",
        ),
        (
            "missile_launch",
            lambda: _with(_valid("missile_launch", _LAUNCH), ["missile_class"], "cruise"),
            "body.missile_class",
        ),
        (
            "incident_report",
            lambda: _with(_valid("incident_report", _INCIDENT), ["units_involved"], "one"),
            "body.units_involved",
        ),
        ("clarification", lambda: {"answer": "It was a scheduled test."}, "re"),
        ("free_text", lambda: {"text": "Launch from area \u202e7 aera\u202c", "lang": "en"}, "body.text"),
        ("free_text", lambda: {"text": "SA\u200bCEUR confirms", "lang": "en"}, "body.text"),
    ],
    ids=[
        "missing-field",
        "latitude-91",
        "window-ends-before-it-starts",
        "unknown-enum",
        "wrong-type",
        "no-reply-to",
        "bidirectional-override",
        "invisible-character",
    ],
)
async def test_an_invalid_form_is_rejected_naming_the_field_and_kept_as_evidence(
    attack: Attack, kind: str, make_body: Any, field: str
) -> None:
    raw = await attack.linked()
    signed = sign_envelope(attack.party, "SACEUR", attack.next_seq, overrides={"kind": kind, "body": make_body()})
    raw.send(encode_frame(FrameType.ENVELOPE, obj=signed))
    frame = await raw.expect(FrameType.REJECTION)
    opened = open_signed(frame["obj"], "rejection")
    opened.verify(attack.node.config.signing_key().verify_key)
    rejection = Rejection.from_opened(opened)
    assert rejection.reason == "invalid-field"
    assert rejection.detail.startswith(f"{field}: "), rejection.detail
    assert rejection.consumed
    await raw.close()
    assert len(attack.inbox()) == 1
    conn = sqlite3.connect(attack.node.config.store_path)
    [(evidence, _)] = conn.execute(EVIDENCE).fetchall()
    conn.close()
    assert evidence == signed
    attack.next_seq += 1  # the rejected envelope used up its number
    await attack.deliver_valid()


# -- witnessing ------------------------------------------------------------------------------


def _checkpoint_frame(note: str, leaves: bytes = b"") -> bytes:
    return encode_frame(FrameType.CHECKPOINT, note=note, old=0, proof=[], frontier=[], leaves=leaves, ours=[])


async def test_a_malformed_checkpoint_offer_closes_the_link(attack: Attack) -> None:
    raw = await attack.linked()
    raw.send(_checkpoint_frame("x", leaves=b"\x01" * 31))  # not a whole number of hashes
    await refused_and_still_serving(attack, raw, "malformed-frame")


async def test_a_forged_or_impossible_checkpoint_is_refused_and_nothing_is_cosigned(attack: Attack) -> None:
    genstab = attack.party.key
    origin = log_origin("GENSTAB", genstab.verify_key.raw)
    leaf = leaf_hash(b"an entry")
    honest = sign_checkpoint(Checkpoint(origin, 1, leaf), [Ed25519Signer(origin, genstab)])
    forged = sign_checkpoint(Checkpoint(origin, 1, leaf), [Ed25519Signer(origin, generate_signing_key())])
    wrong_root = sign_checkpoint(Checkpoint(origin, 1, b"\x07" * 32), [Ed25519Signer(origin, genstab)])
    for note, reason in ((forged, "bad-checkpoint"), (wrong_root, "bad-offer"), (honest[:-2], "bad-checkpoint")):
        raw = await attack.linked()
        raw.send(_checkpoint_frame(note, leaves=leaf))
        answer = await raw.expect(FrameType.CHECKPOINT_REFUSED)
        assert (answer["reason"], answer["equivocation"]) == (reason, False)
        await raw.close()
    conn = sqlite3.connect(attack.node.config.store_path)
    assert conn.execute("SELECT count(*) FROM witnessed").fetchone() == (0,)
    conn.close()
    raw = await attack.linked()  # and an honest one is cosigned
    raw.send(_checkpoint_frame(honest, leaves=leaf))
    cosignature = await raw.expect(FrameType.COSIGNATURE)
    assert cosignature["size"] == 1
    assert cosignature["line"].startswith("— hotline.witness/SACEUR/")
    await raw.close()
    await attack.deliver_valid()


@pytest.mark.parametrize(
    "frame",
    [
        encode_frame(FrameType.COSIGNATURE, size=2**64 - 1, line="— x AAAA"),
        encode_frame(FrameType.CHECKPOINT_REFUSED, size=1, reason="r", detail="d", equivocation=False, held=2**64 - 1),
    ],
    ids=["cosignature-size", "refusal-held-size"],
)
async def test_a_size_beyond_any_log_is_refused_and_the_node_keeps_running(attack: Attack, frame: bytes) -> None:
    raw = await attack.linked()
    raw.send(frame)
    await refused_and_still_serving(attack, raw, "malformed-frame")


# -- claims and serials from a pinned peer ----------------------------------------------------


def _claim(note: str | None) -> bytes:
    """A witness's refusal that says our log contradicts what it cosigned, with ``note`` as
    its evidence (or none): what any pinned peer can send in one frame."""
    fields: dict[str, Any] = {"size": 5, "reason": "rollback", "detail": "you rolled back", "equivocation": True}
    fields["held"] = 99
    if note is not None:
        fields["held_note"] = note
    return encode_frame(FrameType.CHECKPOINT_REFUSED, **fields)


async def test_an_unproven_equivocation_claim_is_one_lower_alarm_that_a_person_closes(attack: Attack) -> None:
    node = attack.node
    raw = await attack.linked()
    offered = await raw.expect(FrameType.CHECKPOINT)  # our log's real checkpoint, signed by us
    saceur = node.config.signing_key()
    origin = log_origin("SACEUR", saceur.verify_key.raw)
    leaf = leaf_hash(b"an entry we never had")
    not_ours = sign_checkpoint(Checkpoint(origin, 99, leaf), [Ed25519Signer(origin, attack.party.key)])
    # No evidence; a checkpoint "of ours" signed with the peer's key; our own checkpoint, which our
    # log agrees with; then the same claim a hundred times.
    for note in [None, not_ours, offered["note"], *[None] * 100]:
        raw.send(_claim(note))
    signed = sign_envelope(attack.party, "SACEUR", attack.next_seq, "after the claims")
    raw.send(encode_frame(FrameType.ENVELOPE, obj=signed))
    await raw.expect(FrameType.RECEIPT)  # the link handles frames in order
    attack.next_seq += 1
    await raw.close()

    alarms = await wait_for(lambda: node.api("GET", "/v1/alarms"), 10, "the claims to be judged")
    assert [(a["kind"], a["peer"], a["level"]) for a in alarms] == [
        ("alleged-equivocation", "GENSTAB", "duty_officer")
    ], "one lower alarm for all the claims, and no equivocation of our own log"
    [claim] = alarms
    assert "sent no checkpoint signed by us" in claim["summary"]
    conn = sqlite3.connect(node.config.store_path)
    assert conn.execute("SELECT count(*) FROM equivocations").fetchone() == (0,)
    conn.close()
    audited = hotline("log", "audit", "--json", directory=node.config.directory)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert json.loads(audited.stdout)["problems"] == []

    number = claim["number"]
    for body, status, says in (
        ({"by": "boss", "remark": "   "}, 409, "needs a remark"),
        ({"by": "boss"}, 422, "remark"),
        ({"by": "boss", "remark": "x", "extra": 1}, 422, "extra"),
    ):
        answer = await node.client.post(f"/v1/alarms/{number}/close", json=body)
        assert (answer.status_code, says in answer.json()["error"]) == (status, True), answer.text
    answer = await node.client.post("/v1/alarms/99999/close", json={"by": "boss", "remark": "x"})
    assert answer.status_code == 404
    assert len(await node.api("GET", "/v1/alarms")) == 1, "a refused close changes nothing"
    missing = hotline("alarm", "close", str(number), "--by", "boss", directory=node.config.directory)
    assert missing.returncode == 2
    assert "--remark" in missing.stderr
    closed = hotline(
        "alarm", "close", str(number), "--by", "boss", "--remark", "log audit consistent; asked GENSTAB",
        directory=node.config.directory,
    )  # fmt: skip
    assert closed.returncode == 0, closed.stderr
    assert await node.api("GET", "/v1/alarms") == []
    [kept] = await node.api("GET", "/v1/alarms/history")
    assert (kept["number"], kept["closed_by"], kept["remark"]) == (
        number,
        "boss",
        "log audit consistent; asked GENSTAB",
    )
    assert kept["count"] == 1
    conn = sqlite3.connect(node.config.store_path)
    [(user, _, detail)] = conn.execute(
        "SELECT user, action, detail FROM console_audit WHERE action='close-alarm'"
    ).fetchall()
    conn.close()
    assert (user, detail) == ("boss", "log audit consistent; asked GENSTAB")
    again = await node.client.post(f"/v1/alarms/{number}/close", json={"by": "boss", "remark": "again"})
    assert again.status_code == 409
    await attack.deliver_valid()


async def test_a_second_message_under_one_serial_is_refused_and_the_first_stays_reachable(attack: Attack) -> None:
    node = attack.node
    raw = await attack.linked()
    first = sign_envelope(attack.party, "SACEUR", attack.next_seq, "the first", number=500)
    raw.send(encode_frame(FrameType.ENVELOPE, obj=first))
    await raw.expect(FrameType.RECEIPT)
    second = sign_envelope(attack.party, "SACEUR", attack.next_seq + 1, "the second", number=500)
    raw.send(encode_frame(FrameType.ENVELOPE, obj=second))
    frame = await raw.expect(FrameType.REJECTION)
    rejection = Rejection.from_opened(open_signed(frame["obj"], "rejection"))
    assert (rejection.reason, rejection.consumed) == ("serial-reused", True)
    assert "GENSTAB-000500" in rejection.detail
    await raw.close()
    attack.next_seq += 2  # the refused envelope used up its sequence number

    shown = await node.api("GET", "/v1/messages/GENSTAB-000500")
    assert shown["body"]["text"] == "the first", "show by serial reaches the message stored under it"
    conn = sqlite3.connect(node.config.store_path)
    assert conn.execute("SELECT count(*) FROM inbox WHERE num=500").fetchone() == (1,)
    [(evidence, reason)] = conn.execute(EVIDENCE).fetchall()
    conn.close()
    assert (evidence, reason) == (second, "serial-reused")
    [alarm] = await node.api("GET", "/v1/alarms")
    assert (alarm["kind"], alarm["peer"], alarm["subject"]) == ("serial-reused", "GENSTAB", "GENSTAB-000500")
    await attack.deliver_valid()


async def test_a_hello_written_before_the_other_lane_delivered_is_not_a_store_gone_back(attack: Attack) -> None:
    # GENSTAB writes both hellos at once ("next I send: N"), then signs a FLASH as N on the
    # urgent lane, which arrives before the ordinary lane's hello is read. Then that hello's N
    # is behind what SACEUR holds, by a race and not a rollback: no alarm.
    node, first = attack.node, attack.next_seq
    urgent = RawPeer(node.config, attack.genstab / "tls.crt", attack.genstab / "tls.key", lane=Lane.URGENT)
    await urgent.connect()
    urgent.hello("GENSTAB", send_next=first)
    await urgent.expect(FrameType.HELLO)
    flash = sign_envelope(attack.party, "SACEUR", first, "first through", overrides={"prec": "FLASH"})
    urgent.send(encode_frame(FrameType.ENVELOPE, obj=flash))
    await urgent.expect(FrameType.RECEIPT)
    ordinary = attack.peer()
    await ordinary.connect()
    ordinary.hello("GENSTAB", send_next=first)  # written before the FLASH was signed
    await ordinary.expect(FrameType.HELLO)
    attack.next_seq += 1
    signed = sign_envelope(attack.party, "SACEUR", attack.next_seq, "after both hellos")
    ordinary.send(encode_frame(FrameType.ENVELOPE, obj=signed))
    await ordinary.expect(FrameType.RECEIPT)  # both hellos were read by now
    attack.next_seq += 1
    assert await node.api("GET", "/v1/alarms") == []
    assert "peer will resend less than we hold" not in node.log_path.read_text()
    for raw in (urgent, ordinary):
        await raw.close()

    async def both_down() -> bool:
        [peer] = (await node.api("GET", "/v1/status"))["peers"]
        return not any(peer["lanes"].values())

    await wait_for(both_down, 10, "SACEUR to see both links closed")
    # A first link whose hello is behind what we hold is a store gone back: that one is an alarm.
    raw = attack.peer()
    await raw.connect()
    raw.hello("GENSTAB", send_next=first)
    await raw.expect(FrameType.HELLO)
    alarms = await wait_for(lambda: node.api("GET", "/v1/alarms"), 10, "the peer's store to be seen behind")
    assert [(a["kind"], a["peer"]) for a in alarms] == [("peer-store-behind", "GENSTAB")]
    await raw.close()


async def test_a_reply_that_names_a_message_of_another_channel_is_refused(tmp_path: Path) -> None:
    # SACEUR talks to GENSTAB and to NEUTRAL; the test plays both. GENSTAB learns the id of a
    # message SACEUR sent NEUTRAL (a colluding NEUTRAL, or a leak) and hangs an acknowledgement,
    # an answer and a plain reply on it: each is refused, and that message's thread stays empty.
    saceur = make_node(tmp_path, "SACEUR")
    genstab, neutral = make_node(tmp_path, "GENSTAB"), make_node(tmp_path, "NEUTRAL")
    pin(saceur, genstab.config)
    pin(saceur, neutral.config)
    await saceur.start()
    try:
        attack = Attack(saceur, genstab.config.directory)
        await attack.deliver_valid()
        other = RawPeer(saceur.config, neutral.config.directory / "tls.crt", neutral.config.directory / "tls.key")
        await other.connect()
        other.hello("NEUTRAL")
        await other.expect(FrameType.HELLO)
        await saceur.api(
            "POST", "/v1/messages", json={"to": "NEUTRAL", "body": {"text": "for NEUTRAL only", "lang": "en"}}
        )
        theirs = open_signed((await other.expect(FrameType.ENVELOPE))["obj"], "envelope").id
        await other.close()
        await saceur.api(
            "POST", "/v1/messages", json={"to": "GENSTAB", "kind": "clarification_request",
                                          "body": {"question": "Which unit?"}}
        )  # fmt: skip
        ack = prepare_body("ack", 1, {"by": "Maj. Orlov", "at": "2026-12-06T06:00:00Z", "auto": False})
        answer = {"answer": "It was a scheduled test."}
        raw = await attack.linked()
        mine = open_signed((await raw.expect(FrameType.ENVELOPE))["obj"], "envelope").id
        for kind, body in (("ack", ack), ("clarification", answer), ("free_text", {"text": "re yours", "lang": "en"})):
            signed = sign_envelope(
                attack.party, "SACEUR", attack.next_seq, overrides={"kind": kind, "body": body, "re": theirs}
            )
            raw.send(encode_frame(FrameType.ENVELOPE, obj=signed))
            rejection = Rejection.from_opened(open_signed((await raw.expect(FrameType.REJECTION))["obj"], "rejection"))
            assert (rejection.reason, rejection.consumed) == ("invalid-reply", True), kind
            assert "NEUTRAL" not in rejection.detail, "the refusal names nothing of the other channel"
            attack.next_seq += 1
        # An acknowledgement of a message SACEUR sent GENSTAB itself is accepted as before.
        signed = sign_envelope(
            attack.party, "SACEUR", attack.next_seq, overrides={"kind": "ack", "body": ack, "re": mine}
        )
        raw.send(encode_frame(FrameType.ENVELOPE, obj=signed))
        await raw.expect(FrameType.RECEIPT)
        attack.next_seq += 1
        await raw.close()
        conn = sqlite3.connect(saceur.config.store_path)
        assert conn.execute("SELECT count(*) FROM inbox WHERE reply_to=?", (theirs,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM refused WHERE reason='invalid-reply'").fetchone() == (3,)
        conn.close()
    finally:
        assert saceur.stop() == 0
        await saceur.client.aclose()


async def test_a_peers_rejection_is_shown_with_its_invisible_characters_written_out(attack: Attack) -> None:
    # A rejection's explanation is the peer's free text, checked by no form: whatever it holds
    # reaches the operator written out, never acted on by the screen.
    node = attack.node
    sent = await node.api("POST", "/v1/messages", json={"to": "GENSTAB", "body": {"text": "hello", "lang": "en"}})
    raw = await attack.linked()
    envelope = open_signed((await raw.expect(FrameType.ENVELOPE))["obj"], "envelope")
    detail = "refused by \u202edrawrof\u202c duty\u200b officer"
    rejection = Rejection("GENSTAB", "SACEUR", envelope.id, 1, 1_790_000_000_000, "invalid-field", detail, True)
    raw.send(encode_frame(FrameType.REJECTION, obj=rejection.seal(attack.party.key)))

    async def rejected() -> dict[str, Any] | None:
        shown: dict[str, Any] = await node.api("GET", f"/v1/messages/{sent['serial']}")
        return shown if shown["rejection"] else None

    shown = await wait_for(rejected, 10, "the rejection to be recorded")
    await raw.close()
    assert shown["rejection"]["detail"] == "refused by <U+202E>drawrof<U+202C> duty<U+200B> officer"
    assert "<U+202E>" in " ".join(event["text"] for event in shown["history"])


async def test_a_peer_cannot_fill_the_disk_with_refused_envelopes(tmp_path: Path) -> None:
    # The evidence bound at 250 kB a day: ten invalid envelopes of 100 kB each from a pinned
    # peer. The first two are kept (once: in the transcript), the rest are answered and counted;
    # the operator is told once, and the log audit still finds the transcript whole.
    saceur, genstab = make_node(tmp_path, "SACEUR"), make_node(tmp_path, "GENSTAB")
    pin(saceur, genstab.config)
    configure(saceur.config.directory, {"bounds": {"evidence_bytes_per_peer_day": 250_000}})
    await saceur.start()
    try:
        attack = Attack(saceur, genstab.config.directory)
        await attack.deliver_valid()
        raw = await attack.linked()
        for n in range(10):
            oversized = {"text": f"{n}" * 100_000, "lang": "en"}  # over the 20,000 characters allowed
            signed = sign_envelope(attack.party, "SACEUR", attack.next_seq, overrides={"body": oversized})
            raw.send(encode_frame(FrameType.ENVELOPE, obj=signed))
            rejection = Rejection.from_opened(open_signed((await raw.expect(FrameType.REJECTION))["obj"], "rejection"))
            assert (rejection.reason, rejection.envelope_id) == ("invalid-field", open_signed(signed, "envelope").id)
            attack.next_seq += 1
        await raw.close()
        conn = sqlite3.connect(saceur.config.store_path)
        kept = conn.execute(EVIDENCE).fetchall()
        (stored,) = conn.execute("SELECT sum(length(envelope)) FROM refused").fetchone()
        (rows,) = conn.execute("SELECT count(*) FROM refused").fetchone()
        conn.close()
        assert [len(envelope) > 100_000 for envelope, _ in kept] == [True, True]
        assert stored == 0, "a refused envelope is not kept twice"
        assert rows == 10, "every refusal is on record, kept or not"
        [peer] = (await saceur.api("GET", "/v1/status"))["peers"]
        assert (peer["refused"], peer["refused_not_kept"]) == (10, 8)
        metrics = (await saceur.client.get("/metrics")).text
        assert 'hotline_peer_messages_total{outcome="refused-not-kept",peer="GENSTAB"} 8.0' in metrics
        assert saceur.log_path.read_text().count("evidence bound reached") == 1
        await attack.deliver_valid()
        audit = hotline("log", "audit", "--json", directory=saceur.config.directory)
        assert audit.returncode == 0, audit.stdout + audit.stderr
        assert json.loads(audit.stdout)["problems"] == []
    finally:
        assert saceur.stop() == 0
        await saceur.client.aclose()
