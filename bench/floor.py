"""The floor, measured on this machine in this run: what one durable delivery cannot beat.

One fsync'd SQLite commit (WAL, ``synchronous=FULL``), one TLS 1.3 round trip between two Python
asyncio processes with mutual authentication, and Ed25519 sign and verify of a ~300-byte
message. The floor for one durable delivery is 2 x commit + 1 round trip + sign + verify.
Commit and round trip are also measured "cold", each after ``COLD_GAP`` seconds of idleness, as
a message sent now and then meets them.

The far end of the TLS round trip is this file run as a script: ``floor.py --tls-echo``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hotline.crypto import generate_tls_identity
from hotline.node.tls import tls_context
from settings import COLD_GAP, COLD_SAMPLES, CRYPTO_SAMPLES, FSYNC_SAMPLES, TLS_SAMPLES
from stats import r


@dataclass
class Floor:
    fsync_ms: float
    fsync_cold_ms: float
    tls_ms: float
    tls_cold_ms: float
    sign_us: float
    verify_us: float

    @property
    def floor_ms(self) -> float:
        return 2 * self.fsync_ms + self.tls_ms + (self.sign_us + self.verify_us) / 1000

    @property
    def cold_floor_ms(self) -> float:
        return 2 * self.fsync_cold_ms + self.tls_cold_ms + (self.sign_us + self.verify_us) / 1000

    def figures(self) -> dict[str, Any]:
        # Every message is signed and verified twice (envelope, then receipt): on this machine the
        # signatures alone cap the message rate at nproc / (2 x (sign + verify)).
        crypto_ceiling = (os.cpu_count() or 1) / (2 * (self.sign_us + self.verify_us) / 1e6)
        return {
            "fsync_commit_ms": r(self.fsync_ms),
            "tls_rtt_ms": r(self.tls_ms),
            "sign_us": r(self.sign_us, 1),
            "verify_us": r(self.verify_us, 1),
            "floor_ms": r(self.floor_ms),
            "fsync_commit_cold_ms": r(self.fsync_cold_ms),
            "tls_rtt_cold_ms": r(self.tls_cold_ms),
            "floor_cold_ms": r(self.cold_floor_ms),
            "crypto_ceiling_msgs_per_s": r(crypto_ceiling, 0),
        }


def measure_floor(directory: Path) -> Floor:
    fsync_ms = measure_fsync_commit(directory)
    fsync_cold_ms = measure_fsync_commit(directory, COLD_SAMPLES, COLD_GAP)
    tls_ms, tls_cold_ms = measure_tls_rtt(directory)
    sign_us, verify_us = measure_crypto()
    return Floor(fsync_ms, fsync_cold_ms, tls_ms, tls_cold_ms, sign_us, verify_us)


def measure_fsync_commit(directory: Path, samples_wanted: int = FSYNC_SAMPLES, gap: float = 0.0) -> float:
    """Median ms of one BEGIN IMMEDIATE / tiny INSERT / COMMIT with WAL and synchronous=FULL,
    back to back, or each after ``gap`` seconds of idleness."""
    conn = sqlite3.connect(directory / "floor.db", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
        payload = os.urandom(64)
        samples = []
        for i in range(20 + samples_wanted):
            if gap:
                time.sleep(gap)
            start = time.perf_counter_ns()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (v) VALUES (?)", (payload,))
            conn.execute("COMMIT")
            if i >= 20:
                samples.append((time.perf_counter_ns() - start) / 1e6)
        return statistics.median(samples)
    finally:
        conn.close()


def measure_crypto() -> tuple[float, float]:
    """Median microseconds of one Ed25519 sign and one verify of a 300-byte message."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    message = os.urandom(300)
    signature = key.sign(message)
    signs, verifies = [], []
    for _ in range(CRYPTO_SAMPLES):
        start = time.perf_counter_ns()
        key.sign(message)
        middle = time.perf_counter_ns()
        public.verify(signature, message)
        end = time.perf_counter_ns()
        signs.append((middle - start) / 1e3)
        verifies.append((end - middle) / 1e3)
    return statistics.median(signs), statistics.median(verifies)


FRAME = len(b"x" * 300).to_bytes(4, "big") + b"x" * 300  # a 4-byte length and ~an envelope


async def tls_echo_server(cert: Path, key: Path, peer_der: bytes) -> None:
    """The far end of the TLS floor, in its own process: echo each frame back."""
    ctx = tls_context(True, cert, key, [peer_der])

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                header = await reader.readexactly(4)
                body = await reader.readexactly(int.from_bytes(header, "big"))
                writer.write(header + body)
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=ctx)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    server.close()


async def tls_round_trips(port: int, cert: Path, key: Path, peer_der: bytes) -> tuple[list[float], list[float]]:
    """Round trips back to back, then each after COLD_GAP seconds of idleness."""
    ctx = tls_context(False, cert, key, [peer_der])
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1")
    assert writer.get_extra_info("ssl_object").version() == "TLSv1.3"
    hot: list[float] = []
    cold: list[float] = []
    for samples, wanted, gap in ((hot, TLS_SAMPLES, 0.0), (cold, COLD_SAMPLES, COLD_GAP)):
        for i in range(20 + wanted):
            if gap:
                await asyncio.sleep(gap)
            start = time.perf_counter_ns()
            writer.write(FRAME)
            await reader.readexactly(len(FRAME))
            if i >= 20:
                samples.append((time.perf_counter_ns() - start) / 1e6)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return hot, cold


def measure_tls_rtt(directory: Path) -> tuple[float, float]:
    """Median ms of one small frame and its echo over mutual TLS 1.3, process to process: back to
    back, and after COLD_GAP seconds of idleness."""
    now = dt.datetime.now(dt.UTC)
    files: dict[str, tuple[Path, Path, Path]] = {}
    for name in ("SERVER", "CLIENT"):
        identity = generate_tls_identity(f"FLOOR-{name}", now)
        cert, key, der = (directory / f"{name.lower()}.{ext}" for ext in ("crt", "key", "der"))
        cert.write_bytes(identity.cert_pem)
        key.write_bytes(identity.key_pem)
        der.write_bytes(identity.cert_der)
        files[name] = (cert, key, der)
    s_cert, s_key, s_der = files["SERVER"]
    c_cert, c_key, c_der = files["CLIENT"]
    server = subprocess.Popen(
        [sys.executable, __file__, "--tls-echo", str(s_cert), str(s_key), str(c_der)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        hot, cold = asyncio.run(tls_round_trips(port, c_cert, c_key, s_der.read_bytes()))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return statistics.median(hot), statistics.median(cold)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "--tls-echo":
        sys.exit("usage: floor.py --tls-echo CERT KEY PEER_DER (the far end of the TLS floor)")
    asyncio.run(tls_echo_server(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]).read_bytes()))
