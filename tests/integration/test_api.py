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
