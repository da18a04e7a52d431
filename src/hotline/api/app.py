"""The local operator API: HTTP + JSON on loopback, bearer token from the node directory.

The CLI uses only this API. It speaks to the node through the desk (``hotline.node.Desk``) alone;
the console is mounted beside it by ``hotline.server``, not inside it. FastAPI publishes its
OpenAPI document at ``/openapi.json`` (and no interactive page: see ``create_app``).

This module only assembles the API: the routes are in ``routes/``, one router for each concern,
the request bodies in ``models``, the bearer check and the desk in ``deps``, and how errors are
answered in ``errors``.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from hotline import __version__
from hotline.api.deps import bearer_check
from hotline.api.errors import handle_errors
from hotline.api.routes import health, messages, peers, transcript, watch
from hotline.front import Refusals
from hotline.node import Desk

__all__ = ["create_app"]


def create_app(desk: Desk, token: str, refusals: Refusals) -> FastAPI:
    # No /docs or /redoc: they load their scripts from a CDN, which an isolated network cannot
    # reach and which would learn the page was opened. The OpenAPI document is /openapi.json.
    app = FastAPI(title=f"hotline node {desk.party}", version=__version__, docs_url=None, redoc_url=None)
    app.state.desk = desk
    app.state.refusals = refusals  # what the front door refused, for /metrics
    handle_errors(app)
    app.include_router(health.router)  # open: a monitor needs no token
    authorised = [Depends(bearer_check(token))]
    for part in (peers, messages, watch, transcript):
        app.include_router(part.router, dependencies=authorised)
    return app
