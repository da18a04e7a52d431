"""The console's guards against a real node: sign-in, roles, CSRF, sessions, bad requests, audit.

Plain HTTP (httpx, with its own cookie jar per "browser"), so that each refusal can be checked
byte for byte: its status, its message, and that nothing was stored or changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integration.browser import add_account
from tests.integration.harness import NodeProcess, configure, make_node, paired, query, reload, wait_for

pytestmark = pytest.mark.slow
PASSWORD = "correct-horse-battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def staffed(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    async with paired(tmp_path) as (a, b):
        for node in (a, b):
            for name, role in (("oper", "operator"), ("audit", "auditor"), ("boss", "supervisor")):
                add_account(node, name, role, PASSWORD, "en")  # English pages, on both sides
        yield a, b


def browser(node: NodeProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=node.config.api_url, follow_redirects=False, timeout=30.0)


def csrf_in(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


@contextlib.asynccontextmanager
async def signed_in(node: NodeProcess, name: str) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(node) as client:
        await sign_in(node, name, client)
        yield client


def plant(client: httpx.AsyncClient, value: str, party: str = "GENSTAB") -> None:
    """A session cookie set in the browser by someone else (the host's own cookie, as the node's)."""
    client.cookies.set(f"hotline_session_{party}", value, domain="127.0.0.1", path="/")


def session_cookie(client: httpx.AsyncClient) -> str | None:
    values = [c.value for c in client.cookies.jar if c.name.startswith("hotline_session_")]
    assert len(values) <= 1, values
    return values[0] if values else None


async def sign_in(node: NodeProcess, name: str, client: httpx.AsyncClient) -> httpx.AsyncClient:
    form = await client.get("/signin")
    answer = await client.post(
        "/signin", data={"csrf": csrf_in(form.text), "name": name, "password": PASSWORD, "next": "/board"}
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/board"
    return client


async def token(client: httpx.AsyncClient) -> str:
    page = await client.get("/board")
    assert page.status_code == 200
    return csrf_in(page.text)


async def flash_to(sender: NodeProcess, receiver: NodeProcess, text: str = "Link check.") -> str:
    sent = await sender.api(
        "POST", "/v1/messages", json={"to": receiver.party, "body": {"text": text, "lang": "en"}, "precedence": "FLASH"}
    )
    serial = str(sent["serial"])

    async def arrived() -> bool:
        return (await receiver.client.get(f"/v1/messages/{serial}")).status_code == 200

    await wait_for(arrived, 10.0, f"{serial} to reach {receiver.party}")
    return serial


async def operator_sent(node: NodeProcess) -> list[str]:
    return [m["serial"] for m in await node.api("GET", "/v1/outbox") if m["kind"] not in {"ack", "link_test"}]


async def test_signed_out_requests_are_redirected_or_refused(staffed: tuple[NodeProcess, NodeProcess]) -> None:
    a, b = staffed
    serial = await flash_to(a, b)
    async with browser(b) as client:
        assert (await client.get("/")).headers["location"] == "/board"
        # Before anyone signs in, the page speaks the browser's language; the icon is there.
        russian = await client.get("/signin", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
        assert '<html lang="ru">' in russian.text
        icon = await client.get("/favicon.ico")
        assert (icon.status_code, icon.headers["location"]) == (301, "/static/favicon.svg")
        assert (await client.get("/static/favicon.svg")).headers["content-type"].startswith("image/svg+xml")
        pages = ("/board", "/outbox", "/compose", "/transcript", "/audit", f"/messages/{serial}")
        for path in (*pages, f"/messages/{serial}/evidence"):
            answer = await client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/signin"), path
        for path in ("/board/live", "/outbox/live", "/alarm/live"):
            answer = await client.get(path)
            assert answer.status_code == 401, path
            assert "sign in" in answer.text.lower()
        # The event stream says so as an event: at an error status a browser would give up on it.
        answer = await client.get("/events")
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.text.endswith("event: signed-out\ndata: {}\n\n")
        for path in ("/compose", f"/messages/{serial}/ack", "/signout", "/language"):
            answer = await client.post(path, data={"csrf": "x", "kind": "free_text", "text": "x", "to": "SACEUR"})
            assert answer.status_code == 401, path
    assert await operator_sent(b) == []
    assert (await b.api("GET", f"/v1/messages/{serial}"))["acknowledged"] is None


async def test_wrong_passwords_and_foreign_sign_in_forms_are_refused(staffed: tuple[NodeProcess, NodeProcess]) -> None:
    b, _ = staffed  # SACEUR: its sign-in page speaks English
    async with browser(b) as client:
        form = csrf_in((await client.get("/signin")).text)
        for name, password in (("oper", "wrong-password-123"), ("nobody", PASSWORD), ("", "")):
            answer = await client.post("/signin", data={"csrf": form, "name": name, "password": password})
            assert answer.status_code == 401
            assert "Wrong name or password." in answer.text
            assert "hotline_session_SACEUR" not in answer.cookies
            form = csrf_in(answer.text)  # each form carries a new token
    # A sign-in form posted from elsewhere (no sign-in cookie, or another token) signs nobody in.
    async with browser(b) as stranger:
        answer = await stranger.post("/signin", data={"csrf": "forged", "name": "oper", "password": PASSWORD})
        assert answer.status_code == 403
        assert "was not this console&#39;s" in answer.text
        assert "hotline_session_SACEUR" not in answer.cookies
    failed = query(b, "SELECT user, role FROM console_audit WHERE action = 'sign-in-failed' ORDER BY id")
    assert failed == [("oper", None), ("(unknown name)", None), ("(unknown name)", None)]


async def test_an_auditor_can_read_but_neither_send_nor_acknowledge(staffed: tuple[NodeProcess, NodeProcess]) -> None:
    a, b = staffed
    serial = await flash_to(a, b)
    async with signed_in(b, "audit") as auditor:
        csrf = await token(auditor)
        assert (await auditor.get("/outbox")).status_code == 200
        assert (await auditor.get("/transcript")).status_code == 200
        page = await auditor.get(f"/messages/{serial}")
        assert page.status_code == 200
        assert 'id="acknowledge"' not in page.text
        assert "Your role may not acknowledge messages." in page.text
        assert 'href="/compose"' not in (await auditor.get("/board")).text
        refused = await auditor.get("/compose")
        assert refused.status_code == 403
        assert "Your role (auditor) may not send messages." in refused.text
        data = {"csrf": csrf, "kind": "free_text", "to": "SACEUR", "precedence": "FLASH", "text": "x", "lang": "en"}
        for action in ("preview", "send"):
            answer = await auditor.post("/compose", data={**data, "action": action})
            assert answer.status_code == 403
        answer = await auditor.post(f"/messages/{serial}/ack", data={"csrf": csrf, "remark": "seen"})
        assert answer.status_code == 403
        assert "may not acknowledge messages" in answer.text
    assert await operator_sent(b) == []
    assert (await b.api("GET", f"/v1/messages/{serial}"))["acknowledged"] is None


async def test_a_missing_or_forged_csrf_token_changes_nothing(staffed: tuple[NodeProcess, NodeProcess]) -> None:
    a, b = staffed
    serial = await flash_to(a, b)
    async with signed_in(b, "oper") as operator:
        csrf = await token(operator)
        for forged in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")}):
            answer = await operator.post(f"/messages/{serial}/ack", data={**forged, "remark": "x"})
            assert answer.status_code == 403
            assert "security token is missing or wrong" in answer.text
            send = {**forged, "kind": "free_text", "to": "SACEUR", "text": "x", "lang": "en", "action": "send"}
            assert (await operator.post("/compose", data=send)).status_code == 403
            assert (await operator.post("/signout", data=forged)).status_code == 403
            assert (await operator.post("/language", data={**forged, "lang": "ru"})).status_code == 403
        assert (await b.api("GET", f"/v1/messages/{serial}"))["acknowledged"] is None
        assert await operator_sent(b) == []
        assert (await operator.get("/board")).status_code == 200  # still signed in, still English
        assert "Watch board" in (await operator.get("/board")).text
        # The same request with the session's token is the one that works.
        answer = await operator.post(f"/messages/{serial}/ack", data={"csrf": csrf, "remark": "Seen."})
        assert answer.status_code == 303
    acknowledged = (await b.api("GET", f"/v1/messages/{serial}"))["acknowledged"]
    assert acknowledged["by"] == "oper"
    assert acknowledged["remark"] == "Seen."


async def test_session_fixation_and_sign_out(staffed: tuple[NodeProcess, NodeProcess]) -> None:
    _, b = staffed
    async with browser(b) as victim:
        plant(victim, "planted-by-an-attacker")
        assert (await victim.get("/board")).status_code == 303  # a planted identifier is nobody's session
        await sign_in(b, "oper", victim)
        issued = session_cookie(victim)
        assert issued is not None
        assert issued != "planted-by-an-attacker"
        async with browser(b) as attacker:
            plant(attacker, "planted-by-an-attacker")
            assert (await attacker.get("/board")).status_code == 303
        # Signing in again from the same browser replaces the session; the old one is closed.
        await sign_in(b, "oper", victim)
        renewed = session_cookie(victim)
        assert renewed is not None
        assert renewed != issued
        async with browser(b) as replay:
            plant(replay, issued)
            assert (await replay.get("/board")).status_code == 303
        csrf = await token(victim)
        answer = await victim.post("/signout", data={"csrf": csrf})
        assert answer.status_code == 303
        assert 'hotline_session_GENSTAB=""' in answer.headers["set-cookie"]
        assert "HttpOnly" in answer.headers["set-cookie"]
    async with browser(b) as replay:
        plant(replay, renewed)
        assert (await replay.get("/board")).status_code == 303


async def test_the_session_cookie_is_http_only_and_same_site(staffed: tuple[NodeProcess, NodeProcess]) -> None:
    _, b = staffed
    async with browser(b) as client:
        form = csrf_in((await client.get("/signin")).text)
        answer = await client.post("/signin", data={"csrf": form, "name": "oper", "password": PASSWORD})
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("hotline_session_GENSTAB=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Secure" not in cookie  # plain HTTP on loopback; Secure whenever served over TLS
        page = await client.get("/board")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        # A forwarded scheme from a proxy nobody configured is not believed (see the next test).
        proxied = browser(b)
        form = csrf_in((await proxied.get("/signin")).text)
        answer = await proxied.post(
            "/signin",
            data={"csrf": form, "name": "oper", "password": PASSWORD},
            headers={"X-Forwarded-Proto": "https"},
        )
        await proxied.aclose()
        assert answer.status_code == 303
        assert "Secure" not in answer.headers["set-cookie"]
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"


async def test_forwarded_addresses_are_believed_only_from_the_configured_proxies(tmp_path: Path) -> None:
    """Every client of the loopback API comes from 127.0.0.1: a forged X-Forwarded-For once wrote
    any address into the audit trail. Only a configured reverse proxy's is believed now."""
    node = make_node(tmp_path, "SACEUR")
    add_account(node, "oper", "operator", PASSWORD, "en")
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}

    async def sign_in_forwarded() -> str:
        async with browser(node) as client:
            form = csrf_in((await client.get("/signin")).text)
            data = {"csrf": form, "name": "oper", "password": PASSWORD}
            answer = await client.post("/signin", data=data, headers=forged)
            assert answer.status_code == 303
            return answer.headers["set-cookie"]

    try:
        await node.start()
        assert "Secure" not in await sign_in_forwarded()
        node.stop()
        configure(node.config.directory, {"console": {"trusted_proxies": ["127.0.0.1"]}})
        reload(node)
        await node.start()
        assert "Secure" in await sign_in_forwarded()  # behind the TLS proxy the operator named
    finally:
        node.stop()
        await node.aclose()
    signed = query(node, "SELECT address FROM console_audit WHERE action = 'sign-in' ORDER BY id")
    assert signed == [("127.0.0.1",), ("203.0.113.9",)]


async def test_sessions_expire_when_idle_and_at_the_end_of_their_lifetime(tmp_path: Path) -> None:
    node = make_node(tmp_path, "SACEUR")
    configure(node.config.directory, {"console": {"session_idle": 1.5, "session_lifetime": 4}})
    reload(node)
    add_account(node, "oper", "operator", PASSWORD)
    await node.start()
    try:
        async with signed_in(node, "oper") as client:
            assert (await client.get("/board")).status_code == 200
            await asyncio.sleep(2.0)  # the passage of time is what is tested: idle beyond 1.5 s
            expired = await client.get("/board")
            assert expired.status_code == 303
            assert expired.headers["location"] == "/signin?next=/board"
        async with signed_in(node, "oper") as client:
            began = time.monotonic()
            while time.monotonic() - began < 3.3:  # busy, never idle for 1.5 s
                assert (await client.get("/board")).status_code == 200
                await asyncio.sleep(0.5)
            await asyncio.sleep(max(0.0, began + 4.2 - time.monotonic()))
            assert (await client.get("/board")).status_code == 303  # the lifetime has ended, busy or not
        async with signed_in(node, "oper") as client, client.stream("GET", "/events") as stream:
            # An open board's stream is told when its session ends, and the page signs in again.
            seen = ""
            async for chunk in stream.aiter_text():
                seen += chunk
                if "event: signed-out" in seen:
                    break
            assert "event: signed-out" in seen
    finally:
        node.stop()
        await node.client.aclose()


async def test_malformed_console_requests_get_clear_answers(staffed: tuple[NodeProcess, NodeProcess]) -> None:
    a, b = staffed
    serial = await flash_to(a, b)
    async with signed_in(b, "oper") as operator:
        csrf = await token(operator)
        unknown = await operator.post("/compose", data={"csrf": csrf, "kind": "no_such_form", "action": "send"})
        assert unknown.status_code == 422
        assert "Choose a form." in unknown.text
        bad = {
            "csrf": csrf,
            "kind": "air_deconfliction",
            "to": "SACEUR",
            "precedence": "FLASH",
            "action": "send",
            "window.start": "2026-11-24T09:00",
            "window.end": "2026-11-24T06:00",
            "altitude.unit": "fl",
            "altitude.low": "50",
            "altitude.high": "many",
        }
        answer = await operator.post("/compose", data=bad)
        assert answer.status_code == 422
        assert "The message was not sent" in answer.text
        assert "the window ends before it starts" in answer.text
        assert 'id="f-altitude-high" name="altitude.high" inputmode="numeric" value="many"' in answer.text
        assert 'aria-invalid="true" aria-describedby="err-f-altitude-high"' in answer.text
        assert 'id="err-f-activity">Required.' in answer.text
        wrong_peer = {"csrf": csrf, "kind": "free_text", "to": "NOBODY", "text": "x", "lang": "en", "action": "send"}
        answer = await operator.post("/compose", data=wrong_peer)
        assert answer.status_code == 422
        assert "&#39;NOBODY&#39; is not a pinned peer" in answer.text
        answer = await operator.post("/language", data={"csrf": csrf, "lang": "xx"})
        assert answer.status_code == 403
        assert "language &#39;xx&#39; is not one of en, ru" in answer.text
        assert (await operator.get("/messages/NOT-A-SERIAL")).status_code == 404
        assert (await operator.get("/messages/SACEUR-999999/evidence")).status_code == 404
        long_remark = await operator.post(f"/messages/{serial}/ack", data={"csrf": csrf, "remark": "x" * 2001})
        assert long_remark.status_code == 409
        assert "remark" in long_remark.text
        assert (await b.api("GET", f"/v1/messages/{serial}"))["acknowledged"] is None
        assert await operator_sent(b) == []
    assert (await b.client.get("/v1/health")).json()["ok"] is True


async def test_actions_are_in_the_audit_trail_and_evidence_verifies(
    staffed: tuple[NodeProcess, NodeProcess], tmp_path: Path
) -> None:
    a, b = staffed
    async with signed_in(a, "oper") as operator:
        csrf = await token(operator)
        message = {"csrf": csrf, "kind": "free_text", "to": "GENSTAB", "precedence": "IMMEDIATE"}
        message |= {"text": "Request a call at 14:00Z.", "lang": "en"}
        preview = await operator.post("/compose", data={**message, "action": "preview"})
        assert preview.status_code == 200
        assert "Request a call at 14:00Z." in preview.text
        digest = re.search(r'name="previewed" value="([0-9a-f]{64})"', preview.text)
        assert digest
        ref = re.search(r'name="ref" value="([0-9a-f]{32})"', preview.text)
        assert ref
        message["ref"] = ref.group(1)
        # Changed after its preview: shown again to be checked, not sent.
        changed = await operator.post(
            "/compose", data={**message, "text": "Changed.", "action": "send", "previewed": digest.group(1)}
        )
        assert changed.status_code == 200
        assert "press Send again" in changed.text
        assert await operator_sent(a) == []
        sent = await operator.post("/compose", data={**message, "action": "send", "previewed": digest.group(1)})
        assert sent.status_code == 303
        serial = sent.headers["location"].rsplit("=", 1)[1]
        assert await operator_sent(a) == [serial]
        # Send pressed twice (a double click, a resubmitted page): still one message.
        again = await operator.post("/compose", data={**message, "action": "send", "previewed": digest.group(1)})
        assert again.headers["location"] == sent.headers["location"]
        assert await operator_sent(a) == [serial]
        assert (await operator.get("/audit")).status_code == 403  # an operator does not read the trail

        async def cosigned() -> bool:
            transcript = await a.api("GET", "/v1/transcript")
            checkpoint = transcript["checkpoint"]
            return bool(checkpoint and checkpoint["cosigned_by"] and checkpoint["size"] >= 1)

        await wait_for(cosigned, 15.0, "a cosigned checkpoint that holds the message")
        download = await operator.get(f"/messages/{serial}/evidence")
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        archive.extractall(tmp_path / "unpacked")
    folder = tmp_path / "unpacked" / f"evidence-{serial}"
    verify = subprocess.run(
        [sys.executable, "-m", "hotline", "verify", str(folder), "--against", str(b.config.directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    async with signed_in(a, "boss") as supervisor:
        trail = await supervisor.get("/audit")
        assert trail.status_code == 200
        assert f'<a href="/messages/{serial}">{serial}</a>' in trail.text
    rows = query(a, "SELECT user, role, action, target FROM console_audit ORDER BY id")
    assert rows == [
        ("oper", "operator", "sign-in", None),
        ("oper", "operator", "send", serial),
        ("oper", "operator", "send", serial),
        ("oper", "operator", "refused", None),  # the audit trail, which an operator may not read
        ("oper", "operator", "evidence", serial),
        ("boss", "supervisor", "sign-in", None),
    ]


def from_address(node: NodeProcess, address: str) -> httpx.AsyncClient:
    """A browser on another loopback address (all of 127.0.0.0/8 is this machine's)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=node.config.api_url, follow_redirects=False, timeout=30.0, transport=transport)


async def try_password(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    form = csrf_in((await client.get("/signin")).text)
    return await client.post("/signin", data={"csrf": form, "name": name, "password": password})


async def refusals_of(node: NodeProcess) -> dict[str, float]:
    text = (await node.client.get("/metrics")).text
    found = re.findall(r'^hotline_front_refusals_total\{cause="([^"]+)"\} (\S+)$', text, re.MULTILINE)
    return {cause: float(count) for cause, count in found}


async def test_wrong_passwords_are_throttled_then_locked_and_the_cli_unlocks(tmp_path: Path) -> None:
    """701 wrong guesses once cost nothing, and the right one then signed in at once."""
    node = make_node(tmp_path, "SACEUR")
    configure(
        node.config.directory,
        {"console": {"signin_free_failures": 2, "signin_lockout_after": 4, "signin_lockout": 600}},
    )
    reload(node)
    for name, role in (("oper", "operator"), ("boss", "supervisor"), ("audit", "auditor")):
        add_account(node, name, role, PASSWORD, "en")
    await node.start()
    try:
        async with from_address(node, "127.0.0.2") as guesser:
            for _ in range(2):  # mistypes cost nothing
                assert (await try_password(guesser, "oper", "wrong-password-1")).status_code == 401
            early = await try_password(guesser, "oper", "wrong-password-2")
            assert early.status_code == 429
            assert "Too many wrong passwords: wait 1 s, then try again." in early.text
            assert early.headers["retry-after"] == "1"
            await asyncio.sleep(1.0)  # the delay is what is tested
            assert (await try_password(guesser, "oper", "wrong-password-3")).status_code == 401
            await asyncio.sleep(2.0)  # twice as long
            locked = await try_password(guesser, "oper", "wrong-password-4")  # the fourth: locked
            assert locked.status_code == 429
            assert "signing in under this name is locked until" in locked.text
            right = await try_password(guesser, "oper", PASSWORD)  # the right password does not sign in
            assert right.status_code == 429
            assert "hotline_session_SACEUR" not in right.cookies
            # The address is locked too; only an account's lock is lifted by hand, and its
            # message must not send the administrator to a command that cannot lift it.
            elsewhere = await try_password(guesser, "boss", PASSWORD)
            assert elsewhere.status_code == 429
            assert "signing in from this address is locked until" in elsewhere.text
            assert "ends by itself at that time, or when the node is restarted" in elsewhere.text
            assert "hotline user unlock" not in elsewhere.text
        async with from_address(node, "127.0.0.3") as officer:
            assert (await try_password(officer, "oper", PASSWORD)).status_code == 429  # from anywhere
            assert (await try_password(officer, "boss", PASSWORD)).status_code == 303  # others sign in
        subprocess.run(
            [sys.executable, "-m", "hotline", "user", "unlock", "--dir", str(node.config.directory), "--name", "oper"],
            check=True,
            capture_output=True,
        )
        async with from_address(node, "127.0.0.3") as officer:
            assert (await try_password(officer, "oper", PASSWORD)).status_code == 303
        refused = await refusals_of(node)
        assert refused["signin-delay"] == 1
        assert refused["signin-lockout"] == 2  # the name, and the address all four came from
        assert refused["signin-locked"] == 3  # the right password twice, and boss from the locked address
        await _a_flood_does_not_hold_up_a_real_sign_in(node)
    finally:
        node.stop()
        await node.aclose()
    actions = query(node, "SELECT user, action, address FROM console_audit WHERE action LIKE 'sign-in-%' ORDER BY id")
    assert actions[:6] == [("oper", "sign-in-failed", "127.0.0.2")] * 4 + [("oper", "sign-in-locked", "127.0.0.2")] * 2
    assert ("oper", "sign-in-unlocked", "127.0.0.3") in actions


async def _a_flood_does_not_hold_up_a_real_sign_in(node: NodeProcess) -> None:
    """64 parallel guesses on one account from one address: one at a time is hashed, the rest
    are refused before any hashing, and a real officer elsewhere signs in without waiting."""
    async with from_address(node, "127.0.0.4") as flood, from_address(node, "127.0.0.5") as officer:
        form = csrf_in((await flood.get("/signin")).text)
        guesses = [
            asyncio.create_task(
                flood.post("/signin", data={"csrf": form, "name": "audit", "password": f"guess-{n:04}-xx"})
            )
            for n in range(64)
        ]
        await asyncio.sleep(0.05)  # the flood is under way
        began = time.monotonic()
        signed = await try_password(officer, "boss", PASSWORD)
        took = time.monotonic() - began
        statuses = [answer.status_code for answer in await asyncio.gather(*guesses)]
    assert signed.status_code == 303
    assert took < 1.0, f"a real sign-in took {took:.2f} s during the flood"
    assert statuses.count(401) <= 2  # hashed: at most the free failures
    assert statuses.count(429) >= 62


async def in_use(node: NodeProcess, what: str) -> float:
    text = (await node.client.get("/metrics")).text
    found = re.search(rf'^hotline_front_in_use\{{what="{what}"\}} (\S+)$', text, re.MULTILINE)
    assert found, text[-2000:]
    return float(found.group(1))


async def first_event(client: httpx.AsyncClient, opened: contextlib.AsyncExitStack) -> str:
    stream = await opened.enter_async_context(client.stream("GET", "/events"))
    assert stream.headers["content-type"].startswith("text/event-stream")
    chunks = stream.aiter_text()
    opened.callback(lambda: chunks)  # held until the stack closes: once collected, it closes the stream
    return (await anext(chunks)).strip()


async def test_event_streams_and_sessions_are_bounded_and_left_sessions_are_swept(tmp_path: Path) -> None:
    """2,000 event streams were once open on one session, and sessions were never swept."""
    node = make_node(tmp_path, "SACEUR")
    configure(node.config.directory, {"console": {"session_idle": 1.5}})
    configure(
        node.config.directory, {"bounds": {"console_sessions": 2, "event_streams": 3, "event_streams_per_session": 2}}
    )
    reload(node)
    for name, role in (("oper", "operator"), ("boss", "supervisor"), ("audit", "auditor")):
        add_account(node, name, role, PASSWORD, "en")
    await node.start()
    try:
        async with contextlib.AsyncExitStack() as opened:
            oper = await opened.enter_async_context(signed_in(node, "oper"))
            assert [await first_event(oper, opened) for _ in range(2)] == ["retry: 1000"] * 2
            refused = await first_event(oper, opened)  # a third on one session
            assert refused == 'retry: 30000\nevent: refused\ndata: {"bound": "per-session", "most": 2}'
            boss = await opened.enter_async_context(signed_in(node, "boss"))
            assert await first_event(boss, opened) == "retry: 1000"
            assert '"bound": "total"' in await first_event(boss, opened)  # three in all
            assert await in_use(node, "event_streams") == 3
        assert (await refusals_of(node)) == {"event-streams-per-session": 1, "event-streams-total": 1}

        async def streams_closed() -> bool:
            return await in_use(node, "event_streams") == 0

        await wait_for(streams_closed, 5.0, "the closed streams to give their places back")

        async def swept() -> bool:  # nobody asks the console anything: the sweep ends them
            return await in_use(node, "console_sessions") == 0

        await wait_for(swept, 5.0, "the idle sessions to be swept")
        async with browser(node) as idlest, browser(node) as busy, browser(node) as newest:
            await sign_in(node, "oper", idlest)
            await sign_in(node, "boss", busy)
            await sign_in(node, "audit", newest)  # a third: the bound is two
            assert (await idlest.get("/board")).status_code == 303
            assert (await busy.get("/board")).status_code == 200
            assert (await newest.get("/board")).status_code == 200
        assert (await refusals_of(node))["console-sessions"] == 1
        evicted = query(node, "SELECT user, detail FROM console_audit WHERE action = 'sign-out'")
        assert evicted == [
            ("oper", "signed out: 2 sessions were open, the console's bound, and this one was the longest idle")
        ]
        assert await in_use(node, "console_sessions") == 2
        await wait_for(swept, 5.0, "the idle sessions to be swept")
    finally:
        node.stop()
        await node.aclose()


def hotline_user(node: NodeProcess, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hotline", "user", *args, "--dir", str(node.config.directory)],
        input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_an_administrators_change_to_an_account_ends_its_open_sessions_at_once(
    staffed: tuple[NodeProcess, NodeProcess],
) -> None:
    _, b = staffed
    async with signed_in(b, "oper") as operator, signed_in(b, "audit") as auditor, signed_in(b, "boss") as boss:
        assert (await operator.get("/board")).status_code == 200
        hotline_user(b, "role", "--name", "oper", "--role", "auditor")
        hotline_user(b, "lock", "--name", "audit")
        hotline_user(b, "remove", "--name", "boss")
        for client in (operator, auditor, boss):  # each at its next request: signed out
            answer = await wait_for(lambda c=client: signed_out(c), 5, "the session to be ended")
            assert answer.headers["location"].startswith("/signin")
        form = await auditor.get("/signin")
        locked = await auditor.post(
            "/signin", data={"csrf": csrf_in(form.text), "name": "audit", "password": PASSWORD, "next": "/board"}
        )
        assert locked.status_code == 403
        assert "Учётная запись audit заблокирована" in locked.text  # GENSTAB speaks Russian
        hotline_user(b, "unlock", "--name", "audit")
        await sign_in(b, "audit", auditor)  # unlocked: signs in again
        hotline_user(b, "passwd", "--name", "audit", "--password-file", "-", stdin="another long password")
        assert (await wait_for(lambda: signed_out(auditor), 5, "the session to be ended")).status_code == 303
    ended = query(b, "SELECT user, detail FROM console_audit WHERE action = 'sign-out' ORDER BY id")
    assert ("oper", "signed out: the account's password or role changed") in ended
    assert ("audit", "signed out: the account was locked") in ended
    assert ("boss", "signed out: the account was removed") in ended
    assert [name for name, _ in ended].count("audit") == 2


async def signed_out(client: httpx.AsyncClient) -> httpx.Response | None:
    answer = await client.get("/board")
    return answer if answer.status_code == 303 else None
