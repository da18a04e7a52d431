"""``make demo``: two parties on this machine, paired, exchanging a short scripted traffic.

SACEUR writes English and GENSTAB writes Russian, as at the two ends of the channel restored in
February 2026. The nodes are left running for you to try; Ctrl-C stops both cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from hotline.errors import HotlineError
from hotline.node.card import parse_address
from hotline.node.config import NodeConfig, init_node
from hotline.node.runner import bind_check

console = Console(highlight=False, soft_wrap=True)

SCRIPT = [
    (
        "SACEUR",
        "GENSTAB",
        "FLASH",
        "SACEUR notifies GENSTAB of a command post exercise, 0600Z 24 NOV to 1800Z 26 NOV. No live firing.",
        "en",
    ),
    (
        "GENSTAB",
        "SACEUR",
        "IMMEDIATE",
        "Уведомление получено. Просим уточнить район проведения учений и состав привлекаемых сил и средств.",
        "ru",
    ),
    (
        "SACEUR",
        "GENSTAB",
        "PRIORITY",
        "Headquarters staff only, at SHAPE, Mons; no troops in the field. Contact: SHAPE duty officer.",
        "en",
    ),
    ("GENSTAB", "SACEUR", "ROUTINE", "Принято. Вопросов не имеем.", "ru"),
]


@dataclass
class DemoNode:
    config: NodeConfig
    process: subprocess.Popen[bytes] | None = None

    @property
    def party(self) -> str:
        return self.config.party

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.config.api_url,
            headers={"Authorization": f"Bearer {self.config.api_token()}"},
            timeout=10.0,
        )


MARKER = ".hotline-demo"  # marks a directory the demo created, and so may remove


def create(root: Path, base_port: int) -> list[DemoNode]:
    parties = [("SACEUR", "en", base_port), ("GENSTAB", "ru", base_port + 100)]
    addresses = [(f"127.0.0.1:{port + 1}", f"127.0.0.1:{port + 2}") for _, _, port in parties]
    for (party, _, _), (listen, api) in zip(parties, addresses, strict=True):
        # Before anything is deleted: a demo still running from before must keep its files.
        bind_check(listen, f"for {party}'s peer link (is another demo still running?)")
        bind_check(api, f"for {party}'s operator API (is another demo still running?)")
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise SystemExit(f"demo: {root} exists and was not made by the demo; not touching it")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).touch()
    nodes = []
    for (party, language, _), (listen, api) in zip(parties, addresses, strict=True):
        nodes.append(DemoNode(init_node(root / party.lower(), party, listen, api, (), language)))
    for node in nodes:
        for other in nodes:
            if other is not node:
                card = other.config.card()
                run_cli(
                    "peer", "add", "--dir", str(node.config.directory), card.line(), "--fingerprint", card.fingerprint
                )
    return nodes


def run_cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "hotline", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"hotline {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result.stdout


def start(node: DemoNode, root: Path) -> None:
    log = (root / f"{node.party.lower()}.log").open("ab")
    node.process = subprocess.Popen(
        [sys.executable, "-m", "hotline", "run", "--dir", str(node.config.directory)],
        # A session of its own: Ctrl-C reaches the demo, which then stops each node with SIGTERM.
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(0.05)
    raise SystemExit(f"demo: timed out waiting for {what}; see the logs in demo-nodes/")


def linked(node: DemoNode) -> bool:
    with node.client() as client:
        status = client.get("/v1/status").json()
    return all(p["connected"] for p in status["peers"])


def exchange(nodes: dict[str, DemoNode]) -> None:
    console.print("[bold]Scripted exchange[/] (times UTC; latency = queued until the signed receipt is stored)")
    for sender, receiver, precedence, text, lang in SCRIPT:
        with nodes[sender].client() as client:
            sent = client.post(
                "/v1/messages", json={"to": receiver, "precedence": precedence, "body": {"text": text, "lang": lang}}
            ).json()
            number = sent["number"]

            def delivered(c: httpx.Client = client, n: int = number) -> dict[str, Any] | None:
                return next((m for m in c.get("/v1/outbox").json() if m["number"] == n and m["delivered"]), None)

            done = wait_until(delivered, 15, f"{sent['serial']} to be delivered")
        latency = _ms(done["delivered"]) - _ms(done["created"])
        console.print(
            f"  {done['created'][11:23]}  [bold]{done['serial']}[/]  {sender} → {receiver}  {precedence:<9}"
            f"  [green]delivered[/] in {latency} ms, receipt signed by {receiver}"
        )
        console.print(f"      [dim]{text}[/]")


def _ms(iso: str) -> int:
    import datetime as dt

    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


def guide(nodes: dict[str, DemoNode], root: Path) -> None:
    sac, gen = nodes["SACEUR"].config, nodes["GENSTAB"].config
    hotline = f"{Path(sys.executable).parent}/hotline"
    console.print(f"""
[bold]Both nodes are running.[/] Logs: {root}/saceur.log and {root}/genstab.log

Try, in another terminal (each command takes --dir, or reads $HOTLINE_DIR):

  {hotline} status --dir {sac.directory}
  {hotline} send   --dir {sac.directory} --to GENSTAB --precedence FLASH --text "Request immediate contact."
  {hotline} inbox  --dir {gen.directory}
  {hotline} send   --dir {gen.directory} --to SACEUR --text "Связь установлена."
  {hotline} outbox --dir {sac.directory}
  {hotline} identity --dir {sac.directory}

Operator APIs: {sac.api_url}/v1/status (SACEUR) and {gen.api_url}/v1/status (GENSTAB),
described by /openapi.json; send the bearer token from each node's api.token file:
  curl -H "Authorization: Bearer $(cat {sac.directory}/api.token)" {sac.api_url}/v1/status

Press [bold]Ctrl-C[/] to stop both nodes.""")


def stop(nodes: list[DemoNode]) -> None:
    for node in nodes:
        if node.process is not None and node.process.poll() is None:
            node.process.send_signal(signal.SIGTERM)
    for node in nodes:
        if node.process is not None:
            try:
                node.process.wait(20)
            except subprocess.TimeoutExpired:
                node.process.kill()


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
    # SIGTERM (kill, timeout) must stop the nodes as Ctrl-C does, not orphan them.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for node in nodes:
            start(node, root)
        wait_until(lambda: all(linked(n) for n in nodes), 30, "the two nodes to link up")
        console.print("[green]Linked[/]: mutual TLS 1.3, each side pinning the other's keys.\n")
        exchange(by_party)
        if not args.once:
            guide(by_party, root)
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
