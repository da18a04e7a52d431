"""What a standby node serves on its operator API port: who it is and who is active.

A standby takes no message and no acknowledgement: a send through it is refused with 503 and
an error naming the active node, where the operator should go. (Accepting it into the shared
store instead would leave it waiting, unsigned, until the active node happened to look, and
split the queue the active node keeps between two processes; a refusal that says where to go
costs the operator one retry and keeps one writer.) The console's pages say the same, in the
party's language, in a banner (``hotline.console.standby``).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hotline.node import Standby


def create_standby_api(standby: Standby, token: str) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    def authorised(request: Request) -> bool:
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, f"Bearer {token}".encode())

    @app.get("/v1/health")
    async def health() -> JSONResponse:
        # Healthy as a standby: it reads the store and can take over. Monitors tell the roles
        # apart by "role"; an alert on "no active node" belongs on the active node's absence.
        return JSONResponse({"ok": True, "party": standby.config.party, **_role(standby)})

    @app.get("/v1/status")
    async def status(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
        return JSONResponse(standby.snapshot())

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def elsewhere(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
        body = {"error": standby.refusal(), **_role(standby)}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(standby_metrics(standby), media_type=CONTENT_TYPE_LATEST)

    return app


def standby_metrics(standby: Standby) -> bytes:
    """A standby's /metrics: its role and the lease epoch it last read (the same names as the
    active node's, so that one alerting rule watches both)."""
    role = GaugeMetricFamily("hotline_role", "1 for this node's role.", labels=["party", "node", "role"])
    role.add_metric([standby.config.party, str(standby.config.node), "standby"], 1)
    epoch = GaugeMetricFamily("hotline_lease_epoch", "The lease epoch as this standby last read it.")
    epoch.add_metric([], standby.active.epoch)

    class Reading(Collector):
        def collect(self) -> Iterator[Metric]:
            yield role
            yield epoch

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Reading())
    return generate_latest(registry)


def _role(standby: Standby) -> dict[str, object]:
    return {"role": "standby", "node": standby.config.node, "active_node": standby.active.number}
