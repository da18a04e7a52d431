"""The health check: the one route open without the token, for monitors."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hotline.api.deps import NodeDesk
from hotline.views import health_view

router = APIRouter()


@router.get("/v1/health")
async def health(desk: NodeDesk) -> JSONResponse:
    """200 when nothing calls for anyone; 503 with the reasons otherwise (for monitors)."""
    now = desk.now_ms()
    view = health_view(desk.party, desk.alarms(now), desk.alerts(now), desk.stopping, desk.unlinked())
    return JSONResponse(view, status_code=200 if view["ok"] else 503)
