"""The operator API refuses malformed requests with a message that names what was wrong."""

import asyncio
from collections.abc import AsyncIterator

import httpx

from hotline.api.gate import MAX_BODY
from hotline.node import parse_address
from tests.integration.harness import NodeProcess


async def test_malformed_requests_are_refused_and_change_nothing(pair: tuple[NodeProcess, NodeProcess]) -> None:
    a, _ = pair
    anonymous = httpx.AsyncClient(base_url=a.config.api_url)
    try:
        response = await anonymous.get("/v1/outbox")
        assert response.status_code == 401
        assert "API token" in response.json()["error"]
        wrong = await anonymous.get("/v1/outbox", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        foreign = await anonymous.get("/v1/outbox", headers={b"Authorization": "Bearer пароль".encode()})
        assert foreign.status_code == 401, "a token that is not ASCII is refused, not a server error"
    finally:
        await anonymous.aclose()

    cases = [
        (b"{not json", "JSON"),
        (b'{"to": "GENSTAB"}', "body: Field required"),
        (b'{"to": "GENSTAB", "body": {"text": "x", "lang": "en"}, "precedence": "SOON"}', "precedence"),
        (b'{"to": "GENSTAB", "body": {"text": "x", "lang": "english"}}', "body.lang"),
        (b'{"to": "GENSTAB", "body": {"text": "x", "lang": "en", "colour": "red"}}', "body.colour"),
        (b'{"to": "GENSTAB", "body": {"text": 5, "lang": "en"}}', "body.text"),
        (b'{"to": "GENSTAB", "body": {"text": "x", "lang": "en"}, "surprise": 1}', "surprise"),
        (b'{"to": "GENSTAB", "kind": "no_such_form", "body": {}}', "unknown form"),
    ]
    for raw, expected in cases:
        response = await a.client.post("/v1/messages", content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, raw
        assert expected in response.json()["error"], (raw, response.json())
    assert await a.api("GET", "/v1/outbox") == []

    for limit in ("0", "-5", "99999999999999999999", "many"):
        response = await a.client.get("/v1/outbox", params={"limit": limit})
        assert response.status_code == 422, limit
        assert response.json()["field"] == "limit"

    spec = await a.api("GET", "/openapi.json")
    assert "/v1/messages" in spec["paths"]


async def test_a_retried_ref_returns_the_same_message_and_a_reused_ref_is_refused(
    pair: tuple[NodeProcess, NodeProcess],
) -> None:
    a, _ = pair
    message = {"to": "GENSTAB", "body": {"text": "Radio check.", "lang": "en"}, "ref": "watch-0001"}
    first = await a.api("POST", "/v1/messages", json=message)
    for _ in range(3):  # a client that lost the answer may retry as often as it likes
        again = await a.api("POST", "/v1/messages", json=message)
        assert (again["number"], again["serial"]) == (first["number"], first["serial"])
    changed = {**message, "body": {"text": "Something else entirely.", "lang": "en"}}
    response = await a.client.post("/v1/messages", json=changed)
    assert response.status_code == 409
    assert "watch-0001" in response.json()["error"]
    assert "SACEUR-000001" in response.json()["error"]
    batch = await a.client.post(
        "/v1/messages/batch", json={"messages": [{"to": "GENSTAB", "body": {"text": "new", "lang": "en"}}, changed]}
    )
    assert batch.status_code == 409, "a batch is queued whole or not at all"
    outbox = await a.api("GET", "/v1/outbox")
    assert [(m["serial"], m["body"]["text"]) for m in outbox] == [("SACEUR-000001", "Radio check.")]


async def test_message_ack_and_alert_requests_that_cannot_be_served_are_refused(
    pair: tuple[NodeProcess, NodeProcess],
) -> None:
    a, _ = pair
    sent = await a.api("POST", "/v1/messages", json={"to": "GENSTAB", "body": {"text": "Radio check.", "lang": "en"}})
    serial = sent["serial"]
    cases = [
        ("GET", "/v1/messages/SACEUR-999999", None, 404, "no message SACEUR-999999"),
        ("GET", "/v1/messages/garbage", None, 404, "neither a serial"),
        ("GET", "/v1/messages/GENSTAB-²", None, 404, "neither a serial"),
        ("GET", "/v1/messages/GENSTAB-" + "9" * 30, None, 404, "neither a serial"),
        ("POST", "/v1/messages/SACEUR-" + "9" * 30 + "/ack", {"by": "x"}, 404, "neither a serial"),
        ("GET", f"/v1/messages/{serial}?lang=fr", None, 422, "lang"),
        ("POST", f"/v1/messages/{serial}/ack", {"by": "Maj Smith"}, 409, "a message we sent"),
        ("POST", f"/v1/messages/{serial}/ack", {}, 422, "by: Field required"),
        ("POST", f"/v1/messages/{serial}/ack", {"by": ""}, 422, "by"),
        ("POST", f"/v1/messages/{serial}/ack", {"by": "x", "colour": "red"}, 422, "colour"),
        (
            "POST",
            "/v1/messages",
            {"to": "GENSTAB", "body": {"text": "x", "lang": "en"}, "reply_to": "zz"},
            422,
            "reply_to",
        ),
        ("GET", "/v1/forms?lang=de", None, 422, "lang"),
    ]
    for method, path, body, status, expected in cases:
        response = await a.client.request(method, path, json=body)
        assert response.status_code == status, (path, response.text)
        assert expected in response.json()["error"], (path, response.json())
    outbox = await a.api("GET", "/v1/outbox")
    assert [m["serial"] for m in outbox] == [serial]  # nothing else was queued
    assert outbox[0]["acknowledged"] is None
    assert await a.api("GET", "/v1/alerts") == []  # a ROUTINE is not yet overdue
    forms = await a.api("GET", "/v1/forms?lang=ru")
    assert (
        next(f for f in forms if f["kind"] == "missile_launch")["title"] == "Уведомление о пуске баллистической ракеты"
    )


async def _head_only(node: NodeProcess, headers: str) -> tuple[int, str]:
    """Send a request's head and no body; the answer, if one comes before the body would."""
    host, port = parse_address(node.config.api)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"POST /v1/messages HTTP/1.1\r\nHost: {host}\r\n{headers}\r\n".encode())
        await writer.drain()
        async with asyncio.timeout(5):  # without the gate, the server waits for the body
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            lengths = [
                int(line.split(":")[1]) for line in head.split("\r\n") if line.lower().startswith("content-length")
            ]
            body = await reader.readexactly(lengths[0]) if lengths else await reader.read()
        return int(head.split()[1]), body.decode(errors="replace")
    finally:
        writer.close()


async def test_a_body_is_refused_before_it_is_read_if_too_large_or_without_the_token(
    pair: tuple[NodeProcess, NodeProcess],
) -> None:
    a, _ = pair
    token = f"Authorization: Bearer {a.config.api_token()}\r\n"
    status, text = await _head_only(a, "Content-Type: application/json\r\nContent-Length: 104857600\r\n")
    assert (status, "API token" in text) == (401, True)  # 100 MB announced, no token: not read
    status, text = await _head_only(a, f"{token}Content-Length: 104857600\r\n")
    assert (status, f"over {MAX_BODY} bytes" in text) == (413, True)
    status, text = await _head_only(a, f"{token}Content-Length: lots\r\n")
    assert status in (400, 413)  # the HTTP parser may refuse it first; either way, not read

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY // (1 << 20) + 2):
            yield b"x" * (1 << 20)

    streamed = await a.client.post("/v1/messages", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert f"over {MAX_BODY} bytes" in streamed.json()["error"]
    assert await a.api("GET", "/v1/outbox") == []  # the node serves on, nothing stored
