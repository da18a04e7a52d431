"""The console of a standby node: one page, on every path, saying so and naming the active node.

A standby serves no message and takes no action (``hotline.api.standby`` says why it refuses
sends); an officer who opens its console is sent, by a banner in the party's language, to the
active node's. The page reloads itself every few seconds, so that it follows a takeover.
"""

from __future__ import annotations

import html

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from hotline.console.i18n import words
from hotline.node import Standby


def create_standby_console(standby: Standby, language: str) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/{rest:path}")
    async def banner(rest: str) -> HTMLResponse:  # noqa: ARG001 - every path: the one page
        return HTMLResponse(standby_page(standby, language), status_code=503, headers={"Retry-After": "5"})

    return app


def standby_page(standby: Standby, language: str) -> str:
    _ = words(language).gettext
    config, active = standby.config, standby.active
    where = f"http://{active.api}/" if active.api else ""
    who = _("This is node {node} of {party}. It is standing by: nothing can be sent, acknowledged or closed here.")
    lines = [who.format(node=config.node, party=config.party)]
    if active.number is None:
        lines.append(_("No node of the party is active at the moment."))
    else:
        lines.append(
            _("The active node is node {active}; its console is at {where}.").format(active=active.number, where=where)
        )
    title = html.escape(_("Standby node"))
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    link = f'<p><a href="{html.escape(where)}">{html.escape(where)}</a></p>' if where else ""
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta http-equiv="refresh" content="5"></head><body>'
        f'<div role="alert" class="banner standby"><h1>{title}</h1>{body}{link}</div></body></html>'
    )
