"""The alarm hook: each alarm, and each escalation of an acknowledgement, passed to something
that reaches people away from the screen (a pager, a phone, a chat room).

``config.toml``, ``[alarms]``: ``hook_command`` (a program and its arguments, run without a shell,
the alarm as one JSON object on its standard input) and/or ``hook_url`` (the same object POSTed
as JSON), each given ``hook_timeout`` seconds. Events go one at a time, in order, from a queue
of ``QUEUE_LIMIT``; when it is full the oldest is dropped and counted. A failure (an exit status
other than 0, a timeout, an HTTP error) is logged and reported to the node, which raises an
alarm of its own about it on the board: a pager that has gone quiet must not look like calm.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from typing import Any

import structlog

log = structlog.get_logger("hotline.hook")
QUEUE_LIMIT = 256  # events waiting for the hook; beyond it the oldest is dropped (and counted)


class AlarmHook:
    def __init__(
        self,
        command: tuple[str, ...],
        url: str | None,
        timeout: float,
        outcome: Callable[[str | None], None],
    ) -> None:
        self.command = command
        self.url = url
        self.timeout = timeout
        self.outcome = outcome  # told None after each delivery, or why it failed
        self._queue: deque[dict[str, Any]] = deque()
        self._ready = asyncio.Event()
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    @property
    def configured(self) -> bool:
        return bool(self.command or self.url)

    def post(self, event: dict[str, Any]) -> None:
        if not self.configured:
            return
        if len(self._queue) >= QUEUE_LIMIT:
            self._queue.popleft()
            self.dropped += 1
            log.error("alarm hook queue full; the oldest event was dropped", dropped=self.dropped)
        self._queue.append(event)
        self._ready.set()

    async def run_forever(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue:
                event = self._queue.popleft()
                failure = await self.deliver(event)
                if failure is None:
                    self.delivered += 1
                else:
                    self.failed += 1
                    # Not ``event=``: structlog's first argument already has that name.
                    log.error("alarm hook failed", error=failure, alarm=event.get("id"), change=event.get("event"))
                self.outcome(failure)

    async def deliver(self, event: dict[str, Any]) -> str | None:
        """Pass one event on; None if every configured way took it, else why not."""
        data = json.dumps(event, ensure_ascii=False).encode()
        failures = []
        if self.command:
            failures.append(await self._run(data))
        if self.url:
            failures.append(await self._post(data))
        found = [f for f in failures if f is not None]
        return "; ".join(found) if found else None

    async def _run(self, data: bytes) -> str | None:
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            return f"cannot run {self.command[0]}: {exc.strerror or exc}"
        try:
            async with asyncio.timeout(self.timeout):
                _, errors = await process.communicate(data)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            return f"{self.command[0]} did not finish within {self.timeout:g} s"
        if process.returncode != 0:
            said = errors.decode(errors="replace").strip().splitlines()
            return f"{self.command[0]} exited with {process.returncode}" + (f": {said[-1][:200]}" if said else "")
        return None

    async def _post(self, data: bytes) -> str | None:
        assert self.url is not None
        import httpx  # here, not at the top: most nodes post no alarm, and each would hold it (2 MB)

        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.url, content=data, headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            return f"{self.url}: {type(exc).__name__}: {exc}"
        if response.status_code >= 300:
            return f"{self.url} answered {response.status_code}"
        return None
