"""The console's words in English and Russian: its own catalogue, then the forms' catalogue.

The console's msgids are English; ``locale/ru/LC_MESSAGES/console.po`` translates them. Labels
that come from the forms (field titles, choices) are found in the forms' catalogue, which is
this one's fallback, so one ``_`` serves a whole page.
"""

from __future__ import annotations

import functools
import gettext

from hotline.forms import translations
from hotline.forms.i18n import N_, catalogue, check_language

DOMAIN = "console"

# Words the pages show from values (roles, audit actions, what a role may not do), marked here
# so that extraction finds them; the states, stages and levels are the forms' catalogue's.
VOCABULARY = [
    N_("operator"), N_("supervisor"), N_("commander"), N_("auditor"), N_("administrator"),
    N_("sign-in"), N_("sign-in-failed"), N_("sign-out"), N_("send"), N_("acknowledge"), N_("evidence"),
    N_("language"), N_("refused"), N_("send messages"), N_("acknowledge messages"), N_("read the audit trail"),
    N_("download evidence"), N_("sign-in-locked"), N_("sign-in-unlocked"), N_("account"),
    N_("manage the console's accounts"),
]  # fmt: skip


@functools.cache
def words(lang: str) -> gettext.NullTranslations:
    check_language(lang)
    own: gettext.NullTranslations = (
        catalogue("hotline.console", DOMAIN, lang) if lang != "en" else gettext.NullTranslations()
    )
    own.add_fallback(translations(lang))
    return own
