"""What the API's routes take besides their request: the desk, the bearer check, and the query
parameters several of them share."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hotline.front import Refusals
from hotline.node import Desk

_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
# Capped: rows are read and rendered on the event loop that also carries the peer links.
Limit = Annotated[int, Query(ge=1, le=10_000, description="at most this many, newest first")]
Lang = Annotated[str | None, Query(pattern="^(en|ru)$", description="en or ru (default: the node's language)")]


def bearer_check(token: str) -> Callable[[HTTPAuthorizationCredentials | None], Awaitable[None]]:
    """The dependency that lets a request in only with ``token`` as its bearer credentials."""

    async def authorised(credentials: Credentials) -> None:
        if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong API token (see api.token in the node directory)")

    return authorised


# A coroutine, as every dependency here: FastAPI would run a plain function in a worker thread.
async def node_desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


NodeDesk = Annotated[Desk, Depends(node_desk)]


async def front_tally(request: Request) -> Refusals:
    refusals: Refusals = request.app.state.refusals
    return refusals


FrontTally = Annotated[Refusals, Depends(front_tally)]
