"""The operator API refuses malformed requests with a message that names what was wrong."""

import httpx

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

    spec = await a.api("GET", "/openapi.json")
    assert "/v1/messages" in spec["paths"]
