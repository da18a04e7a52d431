"""The alarm hook: a failing or hanging command is a failure reported, never the node's end."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from hotline.node.alarm_hook import AlarmHook


class Outcomes(list[str | None]):
    """What the hook reports after each delivery, with an event to await the next one."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    def append(self, outcome: str | None) -> None:
        super().append(outcome)
        self.arrived.set()


async def _deliver_all(hook: AlarmHook, outcomes: Outcomes, count: int) -> None:
    runner = asyncio.ensure_future(hook.run_forever())
    try:
        async with asyncio.timeout(10):
            while len(outcomes) < count:
                outcomes.arrived.clear()
                waiting = asyncio.ensure_future(outcomes.arrived.wait())
                await asyncio.wait({waiting, runner}, return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                assert not runner.done(), f"the hook's loop ended: {runner.exception()}"
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_a_failing_and_a_hanging_command_are_failures_and_the_hook_goes_on(tmp_path: Path) -> None:
    outcomes = Outcomes()
    failing = AlarmHook(("false",), None, 5.0, outcomes.append)
    failing.post({"id": "peer-unreachable/GENSTAB", "event": "raised"})
    failing.post({"id": "peer-unreachable/GENSTAB", "event": "cleared"})
    await _deliver_all(failing, outcomes, 2)
    assert outcomes == ["false exited with 1", "false exited with 1"]
    assert (failing.failed, failing.delivered) == (2, 0)

    hanging = AlarmHook((sys.executable, "-c", "import time; time.sleep(30)"), None, 0.3, outcomes.append)
    hanging.post({"id": "x", "event": "raised"})
    await _deliver_all(hanging, outcomes, 3)
    assert outcomes[2] is not None
    assert "did not finish within 0.3 s" in outcomes[2]


async def test_a_working_command_gets_the_alarm_on_standard_input(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    script = f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())"
    outcomes = Outcomes()
    hook = AlarmHook((sys.executable, "-c", script), None, 5.0, outcomes.append)
    hook.post({"id": "store-behind/GENSTAB", "event": "raised", "summary": "Подписание прекращено"})
    await _deliver_all(hook, outcomes, 1)
    assert outcomes == [None]
    assert '"summary": "Подписание прекращено"' in out.read_text(encoding="utf-8")
