"""Formatted notifications between two real nodes, through the real command line: sent in
English, read in Russian, acknowledged by a person, and seen acknowledged at the sender."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.harness import NodeProcess, make_node, paired, wait_for
from tests.integration.test_cli import hotline

# A Minuteman III test from Vandenberg towards Kwajalein, notified under the 1988 agreement.
MISSILE_LAUNCH = {
    "missile_class": "icbm",
    "launch_window": {"start": "2026-11-24T06:00:00Z", "end": "2026-11-24T08:00:00Z"},
    "launch_area": {"shape": "circle", "centre": {"lat": 34.7420, "lon": -120.5724}, "radius": 15, "unit": "km"},
    "impact_area": {
        "shape": "polygon",
        "vertices": [
            {"lat": 9.5, "lon": 167.0},
            {"lat": 9.5, "lon": 168.5},
            {"lat": 8.5, "lon": 168.5},
            {"lat": 8.5, "lon": 167.0},
        ],
    },
}


def cli(node: NodeProcess, *args: str) -> str:
    result = hotline(*args, directory=node.config.directory)
    assert result.returncode == 0, result.stderr
    return result.stdout


def cli_json(node: NodeProcess, *args: str) -> Any:
    return json.loads(cli(node, *args, "--json"))


async def arrived(node: NodeProcess, serial: str) -> dict[str, Any] | None:
    items: list[dict[str, Any]] = await node.api("GET", "/v1/inbox")
    return next((i for i in items if i["serial"] == serial), None)


async def test_missile_launch_sent_in_english_read_in_russian_and_acknowledged(
    pair: tuple[NodeProcess, NodeProcess], tmp_path: Path
) -> None:
    saceur, genstab = pair
    await wait_for(lambda: saceur.connected("GENSTAB"), 20, "the link to come up")
    data = tmp_path / "launch.json"
    data.write_text(json.dumps(MISSILE_LAUNCH))
    sent = cli_json(
        saceur, "send", "--to", "GENSTAB", "--form", "missile_launch", "--data", f"@{data}", "--precedence", "FLASH"
    )
    serial = sent["serial"]
    assert (serial, sent["kind"], sent["precedence"]) == ("SACEUR-000001", "missile_launch", "FLASH")
    assert sent["body"]["launch_area"]["centre"] == {"lat": "34.742", "lon": "-120.5724"}  # canonical decimals
    await wait_for(lambda: arrived(genstab, serial), 20, "the notice to arrive")

    # GENSTAB's watch is alarmed at once: a FLASH awaits a person's acknowledgement.
    [alarm] = cli_json(genstab, "alerts")["escalations"]
    assert (alarm["message"], alarm["side"], alarm["stage"], alarm["level"]) == (
        serial,
        "receiver",
        "alarm",
        "duty_officer",
    )
    assert cli_json(saceur, "alerts")["escalations"] == []  # half the deadline has not passed at the sender

    # Read in Russian (GENSTAB's language) and, on demand, in English: the same signed fields.
    russian = cli_json(genstab, "show", serial)
    english = cli_json(genstab, "show", serial, "--lang", "en")
    assert russian["body"] == english["body"] == sent["body"]
    assert russian["rendered"]["lang"] == "ru"
    assert russian["precedence_name"] == "МОЛНИЯ"
    assert "МБР" in russian["rendered"]["text"]
    assert "ICBM" in english["rendered"]["text"]
    assert russian["outcome"] == "waiting"
    shown = cli(genstab, "show", serial)
    assert russian["rendered"]["title"] in shown
    assert russian["rendered"]["text"].splitlines()[0] in shown
    assert "МОЛНИЯ" in shown
    assert "НЕСЕКРЕТНО" in shown, "the marking in the reader's language too"
    assert "НЕСЕКРЕТНО" in cli(genstab, "inbox")

    # A person acknowledges; a second acknowledgement is refused, and the first stands.
    acked = cli_json(genstab, "ack", serial, "--by", "подполковник Иванов", "--remark", "Уведомление принято.")
    assert acked["acknowledged"]["by"] == "подполковник Иванов"
    again = hotline("ack", serial, "--by", "майор Петров", directory=genstab.config.directory)
    assert again.returncode == 1
    assert "already acknowledged by подполковник Иванов" in again.stderr
    assert cli_json(genstab, "alerts")["escalations"] == []

    # SACEUR sees it acknowledged, by whom and when, in time.
    async def acknowledged() -> dict[str, Any] | None:
        item: dict[str, Any] = await saceur.api("GET", f"/v1/messages/{serial}")
        return item if item["state"] == "acknowledged" else None

    await wait_for(acknowledged, 20, "the acknowledgement to reach SACEUR")
    seen = cli_json(saceur, "show", serial)
    assert seen["acknowledged"]["by"] == "подполковник Иванов"
    assert seen["acknowledged"]["remark"] == "Уведомление принято."
    assert seen["acknowledged"]["at"][:19] == acked["acknowledged"]["at"][:19]  # the form carries whole seconds
    assert seen["outcome"] == "in_time"
    assert [e["event"] for e in seen["history"]] == ["queued", "sent", "delivered", "acknowledged"]
    assert "подполковник Иванов" in seen["history"][-1]["text"]
    [reply] = seen["replies"]
    assert (reply["kind"], reply["direction"]) == ("ack", "received")
    outbox = cli(saceur, "outbox")
    assert "acknowledged by" in outbox  # the table may wrap the name onto the next line
    assert "подполковник" in outbox
    assert cli_json(saceur, "alerts")["escalations"] == []


@pytest.fixture
async def short_deadlines(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    """A pair whose agreed FLASH deadline is 2 seconds, so that a test sees it pass."""
    async with paired(tmp_path, deadlines={"FLASH": 2, "IMMEDIATE": 60, "PRIORITY": 60, "ROUTINE": 60}) as nodes:
        yield nodes


async def test_an_unanswered_readiness_check_is_the_loudest_alert_on_both_sides(
    short_deadlines: tuple[NodeProcess, NodeProcess],
) -> None:
    saceur, genstab = short_deadlines
    await wait_for(lambda: saceur.connected("GENSTAB"), 20, "the link to come up")
    data = {"watch": "Night watch", "watch_change": "2026-11-23T18:00:00Z", "duty_officer": "Maj. J. Smith"}
    # Sent ROUTINE on purpose: a readiness check is still due within the FLASH deadline.
    sent = cli_json(saceur, "send", "--to", "GENSTAB", "--form", "readiness_check", "--data", json.dumps(data))
    serial = sent["serial"]
    await wait_for(lambda: arrived(genstab, serial), 20, "the readiness check to arrive")

    async def loudest(node: NodeProcess) -> list[dict[str, Any]] | None:
        alerts: list[dict[str, Any]] = await node.api("GET", "/v1/alerts")
        return alerts if alerts and alerts[0]["loudest"] else None

    [at_genstab] = await wait_for(lambda: loudest(genstab), 15, "GENSTAB's overdue alarm")
    [at_saceur] = await wait_for(lambda: loudest(saceur), 15, "SACEUR's overdue alarm")
    for alert, side in ((at_genstab, "receiver"), (at_saceur, "sender")):
        assert (alert["message"], alert["side"], alert["stage"], alert["level"]) == (
            serial,
            side,
            "overdue",
            "commander",
        )
    assert "ДЕЖУРНЫЙ НЕ ОТВЕЧАЕТ?" in cli(genstab, "alerts")  # each node's CLI speaks its language
    assert "NOBODY ON WATCH?" in cli(saceur, "alerts")

    # Acknowledged late: the alerts clear, and both sides record it as late.
    cli(genstab, "ack", serial, "--by", "капитан Сидоров")
    assert cli_json(genstab, "alerts")["escalations"] == []
    assert cli_json(genstab, "show", serial)["outcome"] == "late"

    async def settled() -> dict[str, Any] | None:
        item: dict[str, Any] = await saceur.api("GET", f"/v1/messages/{serial}")
        return item if item["state"] == "acknowledged" else None

    seen = await wait_for(settled, 20, "the late acknowledgement to reach SACEUR")
    assert seen["outcome"] == "late"
    assert await saceur.api("GET", "/v1/alerts") == []


async def test_link_tests_are_answered_by_the_machine_and_shown_by_status(tmp_path: Path) -> None:
    watch = {"changes": [], "link_test_interval": 3600, "link_test_timeout": 60}
    async with paired(tmp_path, watch=watch) as (a, b):
        for node, peer, ok, answered_in in ((a, "GENSTAB", "ok", "answered in"), (b, "SACEUR", "норма", "ответ через")):

            async def answered(node: NodeProcess = node) -> dict[str, Any] | None:
                status: dict[str, Any] = await node.api("GET", "/v1/status")
                test = status["peers"][0]["link_test"]
                return test if test and test["state"] == "ok" else None

            test = await wait_for(answered, 20, f"{node.party}'s link test to be answered")
            assert test["rtt_ms"] >= 0
            shown = cli(node, "status")
            assert peer in shown
            assert ok in shown
            assert answered_in in shown
            # The test and its answer are ordinary signed messages: nobody is asked to acknowledge.
            inbox = await node.api("GET", "/v1/inbox")
            assert {i["kind"] for i in inbox} == {"link_test", "ack"}
            assert all(i["due"] is None for i in inbox)
            assert await node.api("GET", "/v1/alerts") == []


@pytest.mark.parametrize(
    ("form", "data", "message"),
    [
        ("missile_launch", {**MISSILE_LAUNCH, "launch_window": None}, "body.launch_window"),
        (
            "missile_launch",
            {k: v for k, v in MISSILE_LAUNCH.items() if k != "impact_area"},
            "body.impact_area: missing",
        ),
        (
            "missile_launch",
            {
                **MISSILE_LAUNCH,
                "launch_area": {"shape": "circle", "centre": {"lat": 91, "lon": 0}, "radius": 1, "unit": "km"},
            },
            "body.launch_area.centre.lat",
        ),
        (
            "missile_launch",
            {**MISSILE_LAUNCH, "launch_window": {"start": "2026-11-24T08:00:00Z", "end": "2026-11-24T06:00:00Z"}},
            "body.launch_window",
        ),
        ("missile_launch", {**MISSILE_LAUNCH, "missile_class": "cruise"}, "body.missile_class"),
        ("arsenal_declaration", {"as_of": "2026-09-01", "deployed_icbms": "four hundred"}, "body.deployed_icbms"),
        ("teleport", {}, "kind: unknown form 'teleport'"),
        ("clarification", {"answer": "A scheduled test."}, "reply_to:"),
        (
            "link_test",
            {"probe": 1, "sent": "2026-11-23T04:00:00Z"},
            "kind: link_test messages are sent by the node itself",
        ),
    ],
    ids=[
        "null-field",
        "missing-field",
        "latitude-91",
        "window-ends-first",
        "unknown-enum",
        "wrong-type",
        "unknown-form",
        "no-reply-to",
        "machine-only",
    ],
)
async def test_invalid_forms_are_refused_at_send_naming_the_field(
    pair: tuple[NodeProcess, NodeProcess], form: str, data: dict[str, Any], message: str
) -> None:
    saceur, _ = pair
    result = hotline(
        "send", "--to", "GENSTAB", "--form", form, "--data", json.dumps(data), directory=saceur.config.directory
    )
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert await saceur.api("GET", "/v1/outbox") == []  # nothing was queued


async def test_show_and_ack_refuse_what_they_cannot_do(pair: tuple[NodeProcess, NodeProcess]) -> None:
    saceur, genstab = pair
    await wait_for(lambda: saceur.connected("GENSTAB"), 20, "the link to come up")
    sent = cli_json(saceur, "send", "--to", "GENSTAB", "--text", "Radio check.")
    for args, text in [
        (["show", "SACEUR-000099"], "no message SACEUR-000099 is stored here"),
        (["show", "nonsense"], "neither a serial"),
        (["ack", sent["serial"]], "a message we sent; a person at GENSTAB acknowledges it"),
        (["ack", "GENSTAB-000001"], "no message GENSTAB-000001"),
    ]:
        result = hotline(*args, directory=saceur.config.directory)
        assert result.returncode == 1, (args, result.stderr)
        assert text in result.stderr
    await wait_for(lambda: arrived(genstab, sent["serial"]), 20, "the message to arrive")
    blank = hotline("ack", sent["serial"], "--by", "   ", directory=genstab.config.directory)
    assert blank.returncode == 1
    assert "by" in blank.stderr
    assert (await genstab.api("GET", f"/v1/messages/{sent['serial']}"))["acknowledged"] is None


def test_the_form_catalogue_is_listed_with_fields_and_types(tmp_path: Path) -> None:
    node = make_node(tmp_path, "SACEUR")
    catalogue = cli_json(node, "forms")
    kinds = {f["kind"] for f in catalogue}
    assert kinds >= {
        "link_test",
        "readiness_check",
        "missile_launch",
        "strategic_exercise",
        "air_deconfliction",
        "incident_report",
        "clarification_request",
        "clarification",
        "arsenal_declaration",
        "meeting_request",
        "pre_agreed",
        "free_text",
    }
    launch = next(f for f in catalogue if f["kind"] == "missile_launch")
    assert {f["name"] for f in launch["fields"]} >= {"missile_class", "launch_window", "launch_area", "impact_area"}
    assert launch["composable"]
    assert not next(f for f in catalogue if f["kind"] == "link_test")["composable"]
    listing = cli(node, "forms")
    assert "missile_launch" in listing
    assert "launch_window" in listing


async def test_a_clarification_answers_a_request_and_each_side_sees_which(
    pair: tuple[NodeProcess, NodeProcess],
) -> None:
    saceur, genstab = pair
    await wait_for(lambda: saceur.connected("GENSTAB"), 20, "the link to come up")
    question = {"question": "Просим уточнить состав сил.", "observed_at": "2026-11-23T05:40:00Z"}
    request = cli_json(
        genstab, "send", "--to", "SACEUR", "--form", "clarification_request", "--data", json.dumps(question)
    )
    await wait_for(lambda: arrived(saceur, request["serial"]), 20, "the request to arrive")
    own = cli_json(saceur, "send", "--to", "GENSTAB", "--text", "Radio check.")
    answer = json.dumps({"answer": "Two tankers and four fighters; no weapons carried."})
    for wrong in (own["serial"], "GENSTAB-000099"):
        refused = hotline(
            "send", "--to", "GENSTAB", "--form", "clarification", "--data", answer, "--reply-to", wrong,
            directory=saceur.config.directory,
        )  # fmt: skip
        assert refused.returncode == 1, refused.stderr
        assert "reply_to" in refused.stderr or "no message" in refused.stderr
    reply = cli_json(
        saceur, "send", "--to", "GENSTAB", "--form", "clarification", "--data", answer, "--reply-to", request["serial"]
    )
    await wait_for(lambda: arrived(genstab, reply["serial"]), 20, "the answer to arrive")
    shown = cli(genstab, "show", reply["serial"])
    assert f"В ответ на {request['serial']} (clarification_request)." in shown
    item = await genstab.api("GET", f"/v1/messages/{reply['serial']}")
    assert item["in_reply_to"] == {"serial": request["serial"], "kind": "clarification_request"}
    history = cli(genstab, "show", request["serial"])
    assert f"Ответ {reply['serial']} (clarification)." in history


async def test_the_peers_words_are_shown_as_written_never_as_markup(pair: tuple[NodeProcess, NodeProcess]) -> None:
    """Text from the other side (a body, an acknowledger's name, a remark) may hold brackets that
    the terminal library would read as markup: it must be printed as written, and never crash."""
    saceur, genstab = pair
    await wait_for(lambda: saceur.connected("GENSTAB"), 20, "the link to come up")
    sent = cli_json(
        saceur, "send", "--to", "GENSTAB", "--text", "Window [cancelled] 06:00Z. [/x]", "--precedence", "FLASH"
    )
    await wait_for(lambda: arrived(genstab, sent["serial"]), 20, "the message to arrive")
    assert "Window [cancelled] 06:00Z. [/x]" in cli(genstab, "show", sent["serial"])
    assert "[cancelled]" in cli(genstab, "inbox")  # the table may wrap the rest
    cli(genstab, "ack", sent["serial"], "--by", "[/bold]Maj [red]X", "--remark", "[blink]noted[/blink]")

    async def acknowledged() -> dict[str, Any] | None:
        item: dict[str, Any] = await saceur.api("GET", f"/v1/messages/{sent['serial']}")
        return item if item["state"] == "acknowledged" else None

    await wait_for(acknowledged, 20, "the acknowledgement to reach SACEUR")
    outbox = cli(saceur, "outbox")  # printed at all: an unescaped "[/bold]" would crash rich
    assert "[/bold]Maj" in outbox
    assert "[red]X" in outbox
    shown = cli(saceur, "show", sent["serial"])
    assert "[/bold]Maj [red]X" in shown
    assert "[blink]noted[/blink]" in shown


async def test_acknowledgements_and_open_deadlines_survive_kill_9_on_both_sides(
    pair: tuple[NodeProcess, NodeProcess],
) -> None:
    """An acknowledgement given while the sender is down, and the alerts both sides hold, come
    through SIGKILL of either node: the store holds them, and each watch is rebuilt at start."""
    saceur, genstab = pair
    await wait_for(lambda: saceur.connected("GENSTAB"), 20, "the link to come up")
    sent = cli_json(saceur, "send", "--to", "GENSTAB", "--text", "Request immediate contact.", "--precedence", "FLASH")
    await wait_for(lambda: arrived(genstab, sent["serial"]), 20, "the message to arrive")
    saceur.kill()
    genstab.kill()
    await genstab.start()
    [alarm] = await genstab.api("GET", "/v1/alerts")  # rebuilt from the store after the kill
    assert (alarm["message"], alarm["stage"]) == (sent["serial"], "alarm")
    cli(genstab, "ack", sent["serial"], "--by", "капитан Сидоров")  # SACEUR is down: it queues
    assert await genstab.api("GET", "/v1/alerts") == []
    genstab.kill()
    await genstab.start()
    assert await genstab.api("GET", "/v1/alerts") == []  # acknowledged stays acknowledged
    await saceur.start()

    async def acknowledged() -> dict[str, Any] | None:
        item: dict[str, Any] = await saceur.api("GET", f"/v1/messages/{sent['serial']}")
        return item if item["state"] == "acknowledged" else None

    item = await wait_for(acknowledged, 30, "the acknowledgement to reach SACEUR after both restarts")
    assert item["acknowledged"]["by"] == "капитан Сидоров"
    assert await saceur.api("GET", "/v1/alerts") == []

    async def ack_receipted() -> list[dict[str, Any]] | None:
        acks = [m for m in await genstab.api("GET", "/v1/outbox") if m["kind"] == "ack"]
        return acks if acks and all(m["state"] == "delivered" for m in acks) else None

    acks = await wait_for(ack_receipted, 20, "GENSTAB's acknowledgement envelope to be receipted")
    assert len(acks) == 1  # exactly one acknowledgement envelope, through both kills
