"""The watch: open escalations, alarms about the channel and their closing, and the node's
readings for Prometheus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from hotline.api.deps import FrontTally, Lang, Limit, NodeDesk
from hotline.api.metrics import CONTENT_TYPE, exposition
from hotline.api.models import CloseIn
from hotline.views import alarm_item, iso, stored_alarm_item
from hotline.watch import Alert

router = APIRouter()


@router.get("/v1/alerts")
async def alerts(desk: NodeDesk) -> list[dict[str, Any]]:
    """Open escalations, most urgent first."""
    return [alert_item(a) for a in desk.alerts()]


@router.get("/v1/alarms")
async def alarms(desk: NodeDesk, lang: Lang = None) -> list[dict[str, Any]]:
    """Standing alarms about the channel itself, loudest first."""
    now = desk.now_ms()
    return [alarm_item(a, lang or desk.language, now) for a in desk.alarms(now)]


@router.get("/v1/alarms/history")
async def alarm_history(desk: NodeDesk, limit: Limit = 1000) -> list[dict[str, Any]]:
    """Latched alarms, open and closed, newest first, with who closed them and why."""
    return [stored_alarm_item(row) for row in await desk.alarm_history(limit)]


@router.post("/v1/alarms/{number}/close")
async def close_alarm(number: int, close: CloseIn, desk: NodeDesk) -> dict[str, Any]:
    """A person closes a latched alarm after looking into it; the remark is kept and audited."""
    return stored_alarm_item(await desk.close_alarm(number, close.by, close.remark))


@router.get("/metrics", include_in_schema=False)
async def metrics(desk: NodeDesk, refusals: FrontTally) -> Response:
    """The node's health for Prometheus (scrape with the API token as bearer credentials)."""
    text = exposition(await desk.readings(), refusals.totals(), refusals.taken())
    return Response(text, media_type=CONTENT_TYPE)


def alert_item(alert: Alert) -> dict[str, Any]:
    return {
        "message": alert.serial,
        "side": alert.side.value,
        "peer": alert.peer,
        "precedence": alert.precedence.value,
        "kind": alert.kind,
        "stage": alert.stage.value,
        "level": alert.level.label,
        "loudest": alert.loudest,
        "since": iso(alert.since_ms),
        "due": iso(alert.due_ms),
    }
