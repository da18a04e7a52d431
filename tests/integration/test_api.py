"""The operator API refuses malformed requests with a message that names what was wrong."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from hotline.node import parse_address
from tests.integration.harness import NodeProcess, wait_for


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
        ("GET", "/v1/no-such-thing", None, 404, "no such API path: GET /v1/no-such-thing"),
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
    MAX_BODY = a.config.bounds.api_body_bytes  # noqa: N806 - the bound, as the node reads it
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


def open_handles(node: NodeProcess) -> int:
    return sum(1 for _ in Path(f"/proc/{node.pid}/fd").iterdir())


async def test_half_sent_heads_are_timed_out_and_foreign_host_names_refused(
    pair: tuple[NodeProcess, NodeProcess],
) -> None:
    """300 half-sent requests were all still held after 60 s; any Host name was answered."""
    a, b = pair
    host, port = parse_address(a.config.api)
    before = open_handles(a)
    began = time.monotonic()
    held = [await asyncio.open_connection(host, port) for _ in range(200)]
    for _, writer in held:
        writer.write(f"GET /v1/health HTTP/1.1\r\nHost: {host}\r\n".encode())  # never the blank line
    # While they are held, the API answers and a FLASH crosses the link as usual.
    assert (await a.client.get("/v1/health")).status_code == 200
    sent = time.monotonic()
    serial = (
        await b.api(
            "POST", "/v1/messages", json={"to": a.party, "body": {"text": "x", "lang": "en"}, "precedence": "FLASH"}
        )
    )["serial"]

    async def arrived() -> bool:
        return (await a.client.get(f"/v1/messages/{serial}")).status_code == 200

    await wait_for(arrived, 5.0, "the FLASH to arrive during the attack")
    assert time.monotonic() - sent < 1.0
    assert open_handles(a) <= before + 200 + 10

    async def let_go() -> bool:
        text = (await a.client.get("/metrics")).text
        return 'hotline_front_refusals_total{cause="header-timeout"} 200.0' in text

    await wait_for(let_go, a.config.bounds.api_header_timeout + 5.0, "the half-sent heads to be timed out")
    assert time.monotonic() - began >= a.config.bounds.api_header_timeout - 1.0
    for reader, writer in held:
        assert (await reader.read()).startswith(b"HTTP/1.1 408 ")
        writer.close()
    assert open_handles(a) <= before + 10
    # Host names: the node's own and loopback's, with or without a port; nothing else.
    for name in ("127.0.0.1", f"127.0.0.1:{port}", "localhost:9999", "[::1]"):
        assert (await a.client.get("/v1/health", headers={"Host": name})).status_code == 200, name
    rebound = await a.client.get("/v1/health", headers={"Host": "attacker.example"})
    assert rebound.status_code == 400
    assert "does not answer to the host name 'attacker.example'" in rebound.json()["error"]
    page = await a.client.get("/signin", headers={"Host": "attacker.example:80"})
    assert page.status_code == 400
    assert "[console] hosts" in page.text
    # Security headers on the API's answers and on static files too, not only on pages.
    for path in ("/v1/health", "/v1/peers", "/static/console.js", "/openapi.json"):
        answer = await a.client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert answer.headers["referrer-policy"] == "no-referrer", path
    assert (await a.client.get("/v1/peers")).headers["cache-control"] == "no-store"
    port = (await a.api("GET", "/v1/status"))["api_port"]  # what `hotline status` prints
    assert port["refused"]["header-timeout"] == 200
    assert port["refused"]["host"] >= 2
    assert set(port["in_use"]) == {"api_connections", "console_sessions", "event_streams"}
    assert "script-src 'self'" in (await a.client.get("/signin")).headers["content-security-policy"]
