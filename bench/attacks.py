"""A FLASH while the receiving node is under attack, beside a FLASH alone in the same run.

Three of the attacks of issue 14, each held while FLASH messages go from the sender to the
attacked node, one at a time, timed in the sender's own stamps (created -> delivered, which
includes the receiver's receipt):

- ``idle``: 1,000 plain TCP connections to the receiver's peer port, opened and held (from 16
  loopback source addresses); they never send a byte.
- ``flood``: a password flood on the receiver's console: 64 threads, each on its own loopback
  address, each guessing passwords for names of its own, as fast as the console answers.
- ``board``: 12 consoles signed in at the receiver with the board open, each redrawing it as the
  console's script does whenever the node's event stream says it changed (every FLASH does),
  with 50,000 received messages waiting for a person's acknowledgement.

Goal: each within 2x the FLASH alone.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from flash import deliver_flash
from hotline.testing.process import add_user, wait_until
from nodes import BenchNode, message
from settings import BATCH_SIZE
from stats import r

IDLE_CONNECTIONS = 1000
IDLE_SOURCES = 16
FLOOD_THREADS = 64
CONSOLES = 12
BOARD_BACKLOG = 50_000
ATTACK_FLASH_SAMPLES = 20
FLASH_GAP = 0.1  # seconds between two FLASH samples, in every scenario alike
GOAL_ATTACK_OVER_ALONE = 2.0
PASSWORD = "bench-console-password-1"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def attack_figures(sender: BenchNode, receiver: BenchNode) -> dict[str, Any]:
    db = sender.reader()
    try:

        def flashes() -> list[float]:
            taken = []
            for _ in range(ATTACK_FLASH_SAMPLES):
                taken.append(deliver_flash(sender, receiver, db)[0])
                # Apart, as FLASH messages come: the consoles' redraws for one (and the flood's
                # tries) meet the next, rather than all twenty passing before the first redraw.
                time.sleep(FLASH_GAP)
            return taken

        alone = flashes()
        with idle_connections(receiver, IDLE_CONNECTIONS) as refusals:
            idle = flashes()
            refused = refusals()
        with password_flood(receiver, FLOOD_THREADS) as guesses:
            flood = flashes()
            guessed = guesses()
        waiting = backlog(sender, receiver, BOARD_BACKLOG)
        with consoles(receiver, CONSOLES) as boards:
            board = flashes()
            loads, board_bytes = boards()
    finally:
        db.close()
    base = statistics.median(alone)
    figures: dict[str, Any] = {"attack_flash_alone_p50_ms": r(base), "attack_flash_alone_max_ms": r(max(alone))}
    for name, samples in (("idle_connections", idle), ("password_flood", flood), ("board_consoles", board)):
        figures[f"attack_{name}_flash_p50_ms"] = r(statistics.median(samples))
        figures[f"attack_{name}_flash_max_ms"] = r(max(samples))
        figures[f"attack_{name}_over_alone"] = r(statistics.median(samples) / base, 2)
    figures |= {
        "attack_idle_connections_opened": IDLE_CONNECTIONS,
        "attack_idle_connections_refused": refused,
        "attack_password_flood_guesses": guessed,
        "attack_board_waiting": waiting,
        "attack_board_loads": loads,
        "attack_board_page_kb": r(board_bytes / 1024, 1),
    }
    return figures


@contextlib.contextmanager
def idle_connections(node: BenchNode, count: int) -> Iterator[Callable[[], int]]:
    """``count`` plain TCP connections to the node's peer port from 16 loopback addresses, each
    silent, held while the node keeps it and opened again 2 s after it closes it (the tests'
    flood, ``hotline.testing.flood``, in a process of its own). Yields a function that says how
    many connections the node has refused so far."""
    sources = [f"127.0.1.{1 + n}" for n in range(IDLE_SOURCES)]
    command = [sys.executable, "-m", "hotline.testing.flood", node.config.listen, str(count), *sources]
    flood = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert flood.stdout is not None
        line = flood.stdout.readline()
        if not line.startswith("tried"):
            raise RuntimeError(f"the connection flood ended before it began (exit status {flood.wait()})")

        def refused() -> int:
            return sum(node.api("GET", "/v1/status")["peer_port"]["refused"].values())

        yield refused
    finally:
        flood.terminate()
        flood.wait(timeout=10)


@contextlib.contextmanager
def password_flood(node: BenchNode, threads: int) -> Iterator[Callable[[], int]]:
    """Wrong passwords from ``threads`` threads, each on its own loopback address, each for
    names of its own, as fast as the console answers. Yields a count of guesses answered."""
    stop = threading.Event()
    answered = itertools.count(1)
    done = [0]

    def guess(n: int) -> None:
        transport = httpx.HTTPTransport(local_address=f"127.0.2.{1 + n}")
        with httpx.Client(base_url=node.config.api_url, transport=transport, timeout=30.0) as client:
            for attempt in itertools.count():
                if stop.is_set():
                    return
                with contextlib.suppress(httpx.HTTPError):
                    form = CSRF.search(client.get("/signin").text)
                    data = {"csrf": form.group(1) if form else "", "name": f"guess{n}x{attempt % 50}", "password": "x"}
                    client.post("/signin", data=data)
                    done[0] = next(answered)

    workers = [threading.Thread(target=guess, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(1.0)  # the flood is at its rate before the first FLASH
        yield lambda: done[0]
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=35.0)


def backlog(sender: BenchNode, receiver: BenchNode, count: int) -> int:
    """ROUTINE messages delivered to the receiver until ``count`` wait there for a person's
    acknowledgement (the bench's earlier figures left some); returns how many wait."""
    db = receiver.reader()
    try:

        def waiting() -> int:
            (n,) = db.execute("SELECT count(*) FROM inbox WHERE due_ms IS NOT NULL AND acked_ms IS NULL").fetchone()
            return int(n)

        missing = max(0, count - waiting())
        for start in range(0, missing, BATCH_SIZE):
            batch = [message(receiver.party) for _ in range(min(BATCH_SIZE, missing - start))]
            sender.api("POST", "/v1/messages/batch", json={"messages": batch})

        wait_until(lambda: waiting() >= count, 300.0, f"{count:,} messages to wait at {receiver.party}")
        return waiting()
    finally:
        db.close()


@contextlib.contextmanager
def consoles(node: BenchNode, count: int) -> Iterator[Callable[[], tuple[int, int]]]:
    """``count`` consoles signed in with the board open, each as the console's script keeps it:
    the board once, then its event stream, and the board's live part fetched again whenever the
    stream says the board changed (one fetch at a time, and one more for what changed during
    it). Yields a function that says how many boards were loaded, and the size of the last."""
    add_user(node, "watch", "operator", PASSWORD)
    stop = threading.Event()
    loads = itertools.count(1)
    seen = [0, 0]
    clients = [_signed_in(node, "watch") for _ in range(count)]  # one at a time: the throttle's rule
    closing: list[httpx.Client] = []

    def load(client: httpx.Client, path: str) -> None:
        board = client.get(path)
        seen[0], seen[1] = next(loads), len(board.content)

    def redraw(client: httpx.Client, changed: threading.Event) -> None:
        while changed.wait() and not stop.is_set():
            changed.clear()
            with contextlib.suppress(httpx.HTTPError):
                load(client, "/board/live")

    def watch(client: httpx.Client) -> None:
        changed = threading.Event()
        # The redraws on a client of their own, with the session's cookie: an httpx client's
        # connection pool is not to be shared by two threads.
        drawing = httpx.Client(base_url=node.config.api_url, timeout=60.0, cookies=client.cookies)
        closing.append(drawing)
        redrawing = threading.Thread(target=redraw, args=(drawing, changed), daemon=True)
        redrawing.start()
        try:
            load(client, "/board")
            with client.stream("GET", "/events", timeout=None) as events:
                for line in events.iter_lines():
                    if stop.is_set():
                        break
                    if line.startswith("data:"):
                        changed.set()
        except httpx.HTTPError:
            pass  # the bench closed the client to end the stream
        finally:
            changed.set()
            redrawing.join(timeout=65.0)

    workers = [threading.Thread(target=watch, args=(client,), daemon=True) for client in clients]
    for worker in workers:
        worker.start()
    try:
        wait_until(lambda: seen[0] >= count, 120.0, "every console to load its board once")
        yield lambda: (seen[0], seen[1])
    finally:
        stop.set()
        for client in clients:
            client.close()  # ends each event stream
        for worker in workers:
            worker.join(timeout=65.0)
        for client in closing:
            client.close()


def _signed_in(node: BenchNode, name: str) -> httpx.Client:
    client = httpx.Client(base_url=node.config.api_url, timeout=60.0)
    form = CSRF.search(client.get("/signin").text)
    if form is None:
        raise RuntimeError("the console's sign-in page carries no form token")
    signed = client.post("/signin", data={"csrf": form.group(1), "name": name, "password": PASSWORD})
    if signed.status_code != 303:
        raise RuntimeError(f"the bench's console could not sign in: {signed.status_code} {signed.text[:200]}")
    return client
