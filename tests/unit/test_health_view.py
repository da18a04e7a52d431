"""/v1/health: ok only when nothing calls for anyone, with one reason per thing that does."""

from __future__ import annotations

from hotline.envelope import Precedence
from hotline.views import health_view
from hotline.watch import Alert, Level, Side, Stage
from hotline.watch.alarms import Alarm, Kind

NOW = 1_795_000_000_000


def _alert(stage: Stage) -> Alert:
    return Alert(
        "GENSTAB-000007", Side.RECEIVER, "GENSTAB", Precedence.FLASH, "free_text", stage, Level.SUPERVISOR, NOW, NOW
    )


def test_quiet_is_ok() -> None:
    assert health_view("SACEUR", [], [], stopping=False) == {"ok": True, "party": "SACEUR", "reasons": []}


def test_an_alarm_an_overdue_acknowledgement_and_stopping_each_say_why() -> None:
    down = Alarm(Kind.PEER_UNREACHABLE, "GENSTAB", None, Level.DUTY_OFFICER, NOW, {})
    view = health_view("SACEUR", [down], [_alert(Stage.OVERDUE)], stopping=True, unlinked=("GENSTAB",))
    assert view["ok"] is False
    assert view["reasons"] == [
        "the node is stopping",
        "GENSTAB: no path up",
        "peer-unreachable GENSTAB: calls for duty_officer",
        "acknowledgement overdue: GENSTAB-000007 (receiver): calls for supervisor",
    ]


def test_a_flash_awaiting_acknowledgement_in_time_is_work_not_ill_health() -> None:
    assert health_view("SACEUR", [], [_alert(Stage.ALARM), _alert(Stage.APPROACHING)], stopping=False)["ok"] is True


def test_a_peer_without_a_link_is_not_ok_at_once() -> None:
    view = health_view("SACEUR", [], [], stopping=False, unlinked=("GENSTAB",))
    assert (view["ok"], view["reasons"]) == (False, ["GENSTAB: no path up"])
