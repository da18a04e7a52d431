"""Acknowledgements by people: ours of received messages, and the peer's of ours.

An acknowledgement travels as an envelope of its own (kind ``ack``, replying to the message);
these functions keep the state it settles, in the same transaction as that envelope.
"""

from __future__ import annotations

from hotline.errors import AcknowledgeError
from hotline.storage.records import Acknowledgement, AwaitingAck, Draft, InboxRow, Queued
from hotline.storage.sql.db import Db
from hotline.storage.sql.messages import ack_columns
from hotline.storage.sql.outbox import enqueue


def acknowledge(conn: Db, envelope_id: bytes, ack: Acknowledgement, carrier: Draft) -> Queued:
    """Record our acknowledgement of a received message and queue the envelope that carries it."""
    (queued,) = enqueue(conn, [carrier])
    changed = conn.execute(
        "UPDATE inbox SET acked_by=?, acked_ms=?, ack_remark=?, ack_auto=?, ack_rank=?, ack_num=? "
        "WHERE env_id=? AND due_ms IS NOT NULL AND acked_ms IS NULL",
        (*ack_columns(ack), queued.number, envelope_id),
    ).rowcount
    if changed != 1:  # the savepoint rolls the queued carrier back with it
        raise AcknowledgeError("the message is already acknowledged, or it is not one a person acknowledges")
    return queued


def settle_acknowledgements(conn: Db, rows: list[InboxRow]) -> list[int]:
    """The peer's acknowledgements among ``rows`` settle the messages of ours they name;
    returns the outbox numbers settled."""
    acknowledged = []
    for row in rows:
        if row.acknowledges is None or row.reply_to is None:
            continue
        found = conn.execute(
            "UPDATE outbox SET acked_by=?, acked_ms=?, ack_remark=?, ack_auto=?, ack_rank=?, ack_received_ms=? "
            # Not an acknowledgement of ours (nothing acknowledges those), nor a rejected message.
            "WHERE env_id=? AND peer=? AND acked_ms IS NULL AND kind != 'ack' AND rejection IS NULL "
            "RETURNING num",
            (*ack_columns(row.acknowledges), row.received_ms, row.reply_to, row.peer),
        ).fetchone()
        if found is not None:
            acknowledged.append(found[0])
    return acknowledged


def awaiting_ack(conn: Db, party: str) -> list[AwaitingAck]:
    received = conn.execute(
        "SELECT peer, peer, num, precedence, kind, received_ms, due_ms FROM inbox "
        "WHERE due_ms IS NOT NULL AND acked_ms IS NULL"
    ).fetchall()
    sent = conn.execute(
        "SELECT peer, ?, num, precedence, kind, created_ms, due_ms FROM outbox "
        "WHERE due_ms IS NOT NULL AND acked_ms IS NULL AND rejection IS NULL",
        (party,),
    ).fetchall()
    return [AwaitingAck(True, *r) for r in received] + [AwaitingAck(False, *r) for r in sent]
