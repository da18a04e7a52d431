"""Message catalogues: English and Russian from one source, with no build step.

The catalogues are gettext ``.po`` files under ``locale/<lang>/LC_MESSAGES/hotline.po``; msgids
are English. They are read with Babel and compiled to ``.mo`` in memory on first use, so a
translator edits a text file and nothing has to be regenerated before the next run or release.

Two different locales meet here: the *language* of a rendering (``en``, ``ru``), which chooses the
catalogue, and the *Babel locale* that formats dates and numbers for it. English renderings follow
NATO staff usage (``24 November 2026``, ``1,550``), which is the British locale, not the American.
"""

from __future__ import annotations

import functools
import gettext
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

SUPPORTED_LANGUAGES = ("en", "ru")
DOMAIN = "hotline"

_BABEL_LOCALES = {"en": "en_GB", "ru": "ru"}


def N_(message: str) -> str:  # noqa: N802 -- the gettext convention extraction tools look for
    """Mark ``message`` for extraction; it is translated later, where the language is known."""
    return message


def check_language(lang: str) -> str:
    if lang not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(SUPPORTED_LANGUAGES)}")
    return lang


def babel_locale(lang: str) -> str:
    """The Babel locale that formats dates and numbers for a rendering in ``lang``."""
    return _BABEL_LOCALES[check_language(lang)]


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue for ``lang``, compiled once per process."""
    return catalogue("hotline.forms", DOMAIN, check_language(lang))


def catalogue(package: str, domain: str, lang: str) -> Translations:
    """``package``'s catalogue ``locale/<lang>/LC_MESSAGES/<domain>.po``, compiled in memory."""
    po_file = resources.files(package).joinpath("locale", lang, "LC_MESSAGES", f"{domain}.po")
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=domain)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt would
    compiled.seek(0)
    return Translations(compiled, domain=domain)
