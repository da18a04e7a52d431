"""What the in-process tests share: sending through the desk, waiting for what the peer does,
and what a watch announced."""

from __future__ import annotations

from hotline.errors import NotFoundError
from hotline.node import SendRequest
from hotline.storage import InboxRow, OutboxRow
from hotline.testing import InProcessNode, wait_until
from hotline.watch import Alert


def text(to: str, words: str, precedence: str = "ROUTINE") -> SendRequest:
    return SendRequest(to=to, kind="free_text", body={"text": words, "lang": "en"}, precedence=precedence)


async def send(node: InProcessNode, request: SendRequest) -> OutboxRow:
    """Queue one message and wait until it is signed, as `hotline send` does."""
    [row] = await node.desk.send([request], wait_dispatch=5.0)
    assert row.seq is not None, f"{node.party}-{row.number:06d} was not signed"
    return row


async def arrived(node: InProcessNode, serial: str) -> InboxRow:
    """Wait until the peer's message ``serial`` is in ``node``'s inbox."""

    async def received() -> InboxRow | None:
        try:
            return (await node.desk.find_message(serial)).received
        except NotFoundError:
            return None

    row: InboxRow = await wait_until(received, f"{serial} to reach {node.party}'s inbox")
    return row


async def in_state(node: InProcessNode, serial: str, state: str) -> OutboxRow:
    """Wait until our message ``serial`` shows ``state`` (queued, sent, delivered, acknowledged)."""

    async def reached() -> OutboxRow | None:
        sent = (await node.desk.find_message(serial)).sent
        return sent if sent is not None and sent.display_state == state else None

    row: OutboxRow = await wait_until(reached, f"{serial} to be {state} at {node.party}")
    return row


def stages(alerts: list[Alert]) -> list[tuple[str, str, str, str]]:
    """Alerts as (message, side, stage, level), to compare with a table."""
    return [(a.serial, a.side.value, a.stage.value, a.level.label) for a in alerts]


def announcements(node: InProcessNode) -> list[tuple[int, Alert]]:
    """Every alert the node's watch announces from now on (what the alarm hook is told), with
    the node's time at that moment."""
    heard: list[tuple[int, Alert]] = []
    assert node.node is not None
    node.node.watchkeeper.listeners.append(lambda alert: heard.append((node.clock.wall_ms(), alert)))
    return heard
