"""One page, rendered: the templates, and the values every template may use."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from hotline.console import pages
from hotline.console.explain import explain
from hotline.console.i18n import words
from hotline.console.roles import Action, may
from hotline.console.security import harden
from hotline.console.sessions import Session
from hotline.forms import FORMS, PRE_AGREED, SUPPORTED_LANGUAGES, precedence_name

if TYPE_CHECKING:
    from hotline.console.state import ConsoleState


def template_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hotline.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),  # every template, whatever its name
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = pages.utc
    env.filters["when"] = when
    env.filters["opaque"] = lambda text: hashlib.sha256(text.encode()).hexdigest()[
        :16
    ]  # changes when it does, tells nothing
    env.globals["countdown"] = pages.countdown
    env.globals["pre_agreed"] = pre_agreed_text
    env.globals["form_title"] = form_title
    env.filters["decimal"] = decimal
    return env


def decimal(value: float, lang: str) -> str:
    """A measurement to one decimal, as the reader's language writes it (0.8 ms, 0,8 мс)."""
    return format_decimal(value, format="0.0", locale=lang)


def form_title(kind: str) -> str:
    """A form's title (a msgid, for ``_``), where a page names a message by its kind."""
    spec = next((spec for (k, _), spec in FORMS.items() if k == kind), None)
    return spec.title if spec is not None else kind


def reader_language(request: Request, fallback: str) -> str:
    """The language of a page for someone not signed in: the browser's first choice the console
    speaks (Accept-Language, by its q-values), else the node's."""
    wanted: list[tuple[float, str]] = []
    for part in request.headers.get("accept-language", "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        wanted.append((quality, tag.strip().lower().split("-")[0]))
    for _quality, lang in sorted(wanted, key=lambda w: -w[0]):
        if lang in SUPPORTED_LANGUAGES:
            return lang
    return fallback


def pre_agreed_text(code: str, lang: str) -> str:
    """A pre-agreed code's text in ``lang``, shown beside the code wherever one is chosen; "" for
    any other value (a choice that is no code)."""
    text = PRE_AGREED.get(code)
    return "" if text is None else text.text(lang)


def page(
    state: ConsoleState,
    request: Request,
    session: Session | None,
    name: str,
    context: dict[str, Any],
    status: int = 200,
) -> HTMLResponse:
    desk = state.desk
    lang = session.lang if session else reader_language(request, desk.language)
    translations = words(lang)
    values = {
        "_": translations.gettext,
        "lang": lang,
        "party": desk.party,
        "session": session,
        "csrf": session.csrf if session else "",
        "may": (lambda action: may(session.role, Action(action))) if session else (lambda _: False),
        "path": request.url.path,
        "precedence_name": lambda p: precedence_name(p, lang),
        "now_ms": desk.now_ms(),  # the node's clock, for the countdowns of every page
        "standby": desk.standby_banner,  # a node standing by: every page says so, and where to go
        "explain": lambda message: explain(message, lang),  # the node's refusals, in the reader's words
        **context,
    }
    response = HTMLResponse(state.templates.get_template(name).render(values), status_code=status)
    harden(response)
    return response


def not_understood(state: ConsoleState, request: Request, session: Session | None, message: str) -> HTMLResponse:
    """A request the console cannot answer as asked (a page number that is none): 400, saying why."""
    lang = session.lang if session else state.desk.language
    context = {"message": message, "heading": words(lang).gettext("Not understood")}
    return page(state, request, session, "error.html", context, status=400)


def when(ms: int | None) -> Markup:
    """A moment in a table or a list: the UTC time, kept on one line."""
    return Markup('<span class="when">{}</span>').format(pages.utc(ms))
