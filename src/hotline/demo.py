"""``make demo``: two parties on this machine, paired, exchanging a short scripted traffic.

SACEUR writes English and GENSTAB writes Russian, as at the two ends of the channel restored in
February 2026. The nodes are left running for you to try; Ctrl-C stops both cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from hotline.errors import HotlineError
from hotline.node import NodeConfig, console_certificate, parse_address
from hotline.testing.process import BlockingNode, NodeProcessError, add_user, check_free, pair, stop_all
from hotline.testing.process import wait_until as poll

console = Console(highlight=False, soft_wrap=True, emoji=False)  # a fingerprint's ":CD:" stays text


def _at(days: int, hour: int) -> str:
    """A time ``days`` after today (UTC) at ``hour``: the script's windows lie ahead of whoever
    runs the demo, whatever the date."""
    day = dt.datetime.now(dt.UTC).replace(hour=hour, minute=0, second=0, microsecond=0) + dt.timedelta(days=days)
    return day.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ago(minutes: int) -> str:
    moment = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# The scripted traffic: (sender, receiver, precedence, form, fields, acknowledged by, reply to).
# Each is rendered at the receiver in the receiver's language; most are acknowledged by a person
# there. The last FLASH is left unacknowledged, for you to acknowledge (and to see it escalate).
AREA = {
    "shape": "polygon",
    "vertices": [
        {"lat": 55.2, "lon": 19.0},
        {"lat": 55.2, "lon": 20.4},
        {"lat": 54.6, "lon": 20.4},
        {"lat": 54.6, "lon": 19.0},
    ],
}
SCRIPT: list[tuple[str, str, str, str, dict[str, Any], str | None, int | None]] = [
    (
        "SACEUR",
        "GENSTAB",
        "FLASH",
        "air_deconfliction",
        {
            "activity": "air_refuelling",
            "area": AREA,
            "window": {"start": _at(1, 6), "end": _at(1, 9)},
            "altitude": {"unit": "fl", "low": 250, "high": 310},
            "contact": {"callsign": "MAGIC 01", "frequency_mhz": 243.0},
        },
        "подполковник А. В. Иванов",
        None,
    ),
    (
        "GENSTAB",
        "SACEUR",
        "IMMEDIATE",
        "clarification_request",
        {
            "question": "Просим уточнить количество воздушных судов и их государственную принадлежность.",
            "observed_at": _ago(20),
        },
        "Lt Col J. Smith",
        None,
    ),
    (
        "SACEUR",
        "GENSTAB",
        "PRIORITY",
        "clarification",
        {"answer": "Two KC-135 tankers and four F-16 fighters of the Polish Air Force; no weapons carried."},
        "майор С. П. Петров",
        1,  # answers the second message of the script
    ),
    ("GENSTAB", "SACEUR", "ROUTINE", "pre_agreed", {"code": "PA05"}, None, None),
    (
        "GENSTAB",
        "SACEUR",
        "FLASH",
        "missile_launch",
        {
            "missile_class": "icbm",
            "launch_window": {"start": _at(2, 3), "end": _at(2, 5)},
            "launch_area": {"shape": "circle", "centre": {"lat": 62.93, "lon": 40.57}, "radius": 20, "unit": "km"},
            "impact_area": {"shape": "circle", "centre": {"lat": 57.3, "lon": 162.1}, "radius": 50, "unit": "km"},
        },
        None,
        None,
    ),
]


@dataclass(eq=False)
class DemoNode(BlockingNode):
    """A demo node: in a session of its own, so that Ctrl-C reaches the demo, which then stops
    each node with SIGTERM."""

    own_session: bool = True
    timeout: float = 10.0


MARKER = ".hotline-demo"  # marks a directory the demo created, and so may remove

# The console's demo accounts: (party, name, role, password). Demo passwords, printed on screen;
# a real node's accounts are made with `hotline user add`, which asks for the password.
ACCOUNTS = [
    ("SACEUR", "watch", "operator", "saceur-watch"),
    ("SACEUR", "audit", "auditor", "saceur-audit"),
    ("GENSTAB", "dezhurny", "operator", "genstab-watch"),
    ("GENSTAB", "audit", "auditor", "genstab-audit"),
]


def create(root: Path, base_port: int) -> list[DemoNode]:
    parties = [("SACEUR", "en", base_port), ("GENSTAB", "ru", base_port + 100)]
    addresses = [(f"127.0.0.1:{port + 1}", f"127.0.0.1:{port + 2}", f"127.0.0.1:{port + 3}") for _, _, port in parties]
    for (party, _, _), (listen, api, floor) in zip(parties, addresses, strict=True):
        # Before anything is deleted: a demo still running from before must keep its files.
        check_free(listen, f"for {party}'s peer link (is another demo still running?)")
        check_free(api, f"for {party}'s operator API (is another demo still running?)")
        check_free(floor, f"for {party}'s console over HTTPS (is another demo still running?)")
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise SystemExit(f"demo: {root} exists and was not made by the demo; not touching it")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).touch()
    nodes = [
        DemoNode.create(root, party, language=language, listen=listen, api=api, settings={"console": {"listen": floor}})
        for (party, language, _), (listen, api, floor) in zip(parties, addresses, strict=True)
    ]
    by_party = {node.party: node for node in nodes}
    try:
        pair(*nodes)
        for party, name, role, password in ACCOUNTS:
            add_user(by_party[party], name, role, password)
    except NodeProcessError as exc:
        raise SystemExit(str(exc)) from None
    return nodes


def start(nodes: list[DemoNode]) -> None:
    """Both at once; then wait until each answers on its API and both are linked."""
    for node in nodes:
        node.launch()
    try:
        for node in nodes:
            node.wait_ready()
    except (NodeProcessError, TimeoutError) as exc:
        raise SystemExit(f"demo: {exc}; see the logs in {nodes[0].log_path.parent}") from None
    wait_until(lambda: all(linked(n) for n in nodes), 30, "the two nodes to link up")


def wait_until(check: Callable[..., Any], timeout: float, what: str) -> Any:
    def looked() -> Any:
        try:
            return check()
        except httpx.HTTPError:
            return None

    try:
        return poll(looked, timeout, what)
    except TimeoutError:
        raise SystemExit(f"demo: timed out waiting for {what}; see the logs in demo-nodes/") from None


def linked(node: DemoNode) -> bool:
    status = node.client.get("/v1/status").json()
    return all(p["connected"] for p in status["peers"])


def exchange(nodes: dict[str, DemoNode]) -> list[str]:
    """Run the script; returns the serials sent, in order."""
    console.print("[bold]Scripted exchange[/] (times UTC; latency = queued until the signed receipt is stored)")
    serials: list[str] = []
    ids: list[str] = []
    for sender, receiver, precedence, form, fields, acknowledger, reply_to in SCRIPT:
        request = {"to": receiver, "precedence": precedence, "kind": form, "body": fields}
        if reply_to is not None:
            request["reply_to"] = ids[reply_to]
        client = nodes[sender].client
        sent = client.post("/v1/messages", json=request).json()
        serial = sent["serial"]
        done = wait_until(lambda c=client, s=serial: _delivered(c, s), 15, f"{serial} to be delivered")
        serials.append(serial)
        ids.append(done["id"])
        latency = _ms(done["delivered"]) - _ms(done["created"])
        console.print(
            f"\n  {done['created'][11:23]}  [bold]{serial}[/]  {sender} → {receiver}  {precedence:<9} {form}"
            f"  [green]delivered[/] in {latency} ms, receipt signed by {receiver}"
        )
        shown = nodes[receiver].client.get(f"/v1/messages/{serial}").json()  # in the receiver's language
        rendered = shown["rendered"]
        console.print(f"      [dim]{receiver} reads:[/] [bold]{shown['precedence_name']}[/]  {rendered['title']}")
        for line in rendered["text"].splitlines():
            console.print(f"      {line}")
        if acknowledger is not None:
            nodes[receiver].client.post(f"/v1/messages/{serial}/ack", json={"by": acknowledger})
            acked = wait_until(lambda c=client, s=serial: _acknowledged(c, s), 15, f"{serial}'s acknowledgement")
            console.print(
                f"      [green]acknowledged[/] at {_clock(acked['acknowledged']['at'])} by"
                f" {acked['acknowledged']['by']}; {sender} holds the signed acknowledgement"
            )
    return serials


# Each side's declared forces as of 1 March and 1 September 2026, in New START's categories, for
# the Transparency page; GENSTAB then questions SACEUR's September warheads.
DECLARATIONS = {
    "SACEUR": [("2026-03-01", 400, 230, 50, 1420, 780), ("2026-09-01", 405, 232, 50, 1452, 781)],
    "GENSTAB": [("2026-03-01", 330, 180, 55, 1549, 780), ("2026-09-01", 334, 186, 55, 1560, 790)],
}


def declare(nodes: dict[str, DemoNode]) -> None:
    sent: dict[str, list[str]] = {}
    for party, rows in DECLARATIONS.items():
        peer = next(p for p in nodes if p != party)
        for as_of, icbms, slbms, bombers, warheads, launchers in rows:
            body = {"as_of": as_of, "deployed_icbms": icbms, "deployed_slbms": slbms,
                    "deployed_heavy_bombers": bombers, "deployed_warheads": warheads,
                    "deployed_and_non_deployed_launchers": launchers}  # fmt: skip
            answer = nodes[party].client.post("/v1/messages", json={"to": peer, "kind": "arsenal_declaration",
                                                                    "body": body}).json()  # fmt: skip
            sent.setdefault(party, []).append(answer["serial"])
    september = wait_until(lambda: _delivered(nodes["SACEUR"].client, sent["SACEUR"][1]), 30, "the declarations")
    question = {"question": "Просим пояснить рост числа развёрнутых боезарядов на 32 единицы."}
    nodes["GENSTAB"].client.post("/v1/messages", json={"to": "SACEUR", "kind": "clarification_request",
                                                      "body": question, "reply_to": september["id"]})  # fmt: skip
    serials = ", ".join(sent["SACEUR"] + sent["GENSTAB"])
    console.print(
        f"Declarations as of 1 March and 1 September 2026 from each side ({serials});"
        f" GENSTAB questions {sent['SACEUR'][1]}: see each console's Transparency page.\n"
    )


def _delivered(client: httpx.Client, serial: str) -> dict[str, Any] | None:
    item: dict[str, Any] = client.get(f"/v1/messages/{serial}").json()
    return item if item["delivered"] else None


def _acknowledged(client: httpx.Client, serial: str) -> dict[str, Any] | None:
    item: dict[str, Any] = client.get(f"/v1/messages/{serial}").json()
    return item if item["acknowledged"] else None


def _clock(iso: str) -> str:
    return iso[11:19] + "Z"


def _ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


def guide(nodes: dict[str, DemoNode], root: Path, serials: list[str]) -> None:
    sac, gen = nodes["SACEUR"].config, nodes["GENSTAB"].config
    hotline = f"{Path(sys.executable).parent}/hotline"
    flash = serials[-1]
    console.print(f"""
[bold]Both nodes are running.[/] Logs: {root}/saceur.log and {root}/genstab.log

[bold]The watch-floor consoles[/] (one browser tab each; each node's sign-in is its own):
  SACEUR   {sac.api_url}/   operator [bold]watch[/] / saceur-watch     auditor audit / saceur-audit
  GENSTAB  {gen.api_url}/   operator [bold]dezhurny[/] / genstab-watch  auditor audit / genstab-audit
  (dezhurny's console is in Russian; the language button at the top switches it, per account)
The same consoles as a watch floor reaches them, over HTTPS with each node's own certificate
(the browser warns once: compare its SHA-256 with the one here, or `hotline identity`, then accept):
  SACEUR   {sac.console_url}/   {fingerprint(sac)}
  GENSTAB  {gen.console_url}/   {fingerprint(gen)}

{flash}, a FLASH missile launch notice from GENSTAB, awaits a person's acknowledgement at
SACEUR: it is on SACEUR's alert list now, a supervisor is called at 5 minutes and the commander
(on both sides) at 10. Try:
  1. Sign in to SACEUR as watch: the board shows the FLASH alarm (click "Turn the alarm sound and
     notifications on" if the browser asks). Open {flash}, switch it to Russian and back, acknowledge it.
  2. Sign in to GENSTAB as dezhurny: the outbox shows {flash} acknowledged by watch.
  3. As watch, compose a FLASH "Air activity notification for flight safety" to GENSTAB,
     preview it in both languages and send it: GENSTAB's board raises the alarm at once.
  4. Sign in as audit: everything can be read, nothing sent or acknowledged. The transcript page
     shows the latest cosigned checkpoint and downloads evidence for any message.
  5. Open Transparency: each side's declared forces in New START's categories, beside the expired
     limits; a point downloads its evidence, and the ringed one links to GENSTAB's question.

Or in another terminal (each command takes --dir, or reads $HOTLINE_DIR):

  {hotline} alerts --dir {sac.directory}
  {hotline} show   --dir {sac.directory} {flash}
  {hotline} show   --dir {sac.directory} {flash} --lang ru
  {hotline} ack    --dir {sac.directory} {flash} --remark "Noted; no objection." --by "Maj. J. Hale"
  {hotline} outbox --dir {gen.directory}
  {hotline} forms  --dir {sac.directory}
  {hotline} send   --dir {gen.directory} --to SACEUR --form pre_agreed --data '{{"code": "PA01"}}' --precedence FLASH
  {hotline} send   --dir {sac.directory} --to GENSTAB --text "Request immediate contact." --precedence IMMEDIATE
  {hotline} inbox  --dir {gen.directory}
  {hotline} status --dir {sac.directory}
  {hotline} declarations --dir {gen.directory}

The co-signed transcript (each node's log, cosigned by the other within seconds):

  {hotline} log checkpoint --dir {sac.directory}
  {hotline} evidence --dir {sac.directory} GENSTAB-000007 --out {root}/evidence
  {hotline} verify {root}/evidence
  {hotline} log audit --dir {gen.directory}

Operator APIs: {sac.api_url}/v1/status (SACEUR) and {gen.api_url}/v1/status (GENSTAB),
described by /openapi.json; send the bearer token from each node's api.token file:
  curl -H "Authorization: Bearer $(cat {sac.directory}/api.token)" {sac.api_url}/v1/alerts

Press [bold]Ctrl-C[/] to stop both nodes.""")


def fingerprint(config: NodeConfig) -> str:
    facts = console_certificate(config)
    return f"SHA-256 {facts.fingerprint}" if facts else "(no certificate yet)"


def stop(nodes: list[DemoNode]) -> None:
    """SIGTERM to both at once; one that does not stop within the bound is killed."""
    with contextlib.suppress(NodeProcessError):
        stop_all(nodes)
    for node in nodes:
        node.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hotline.demo", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("HOTLINE_DEMO_ROOT", "demo-nodes")))
    parser.add_argument("--base-port", type=int, default=7400, help="SACEUR uses +1/+2, GENSTAB +101/+102")
    parser.add_argument("--once", action="store_true", help="stop after the scripted exchange")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        nodes = create(root, args.base_port)
    except HotlineError as exc:
        raise SystemExit(f"demo: {exc}") from None
    by_party = {n.party: n for n in nodes}
    console.print(f"[bold]hotline demo[/]: SACEUR (English) and GENSTAB (Russian), node directories in {root}")
    for node in nodes:
        card = node.config.card()
        host, port = parse_address(node.config.listen)
        console.print(f"  {node.party:8} peers dial {host}:{port}  fingerprint {card.fingerprint}")
    # SIGTERM (kill, timeout), SIGHUP (the terminal closed) and SIGINT (also when started in the
    # background, where the shell leaves SIGINT ignored) all stop the nodes as Ctrl-C does: the
    # nodes run in sessions of their own and would otherwise be orphaned.
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _interrupt)
    try:
        start(nodes)
        console.print("[green]Linked[/]: mutual TLS 1.3, each side pinning the other's keys.\n")
        serials = exchange(by_party)
        declare(by_party)
        if not args.once:
            guide(by_party, root, serials)
            while True:
                signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stop(nodes)  # first: printing may fail (a closed pipe) and must not leave nodes running
        with contextlib.suppress(OSError):
            console.print("Both nodes stopped.")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
