"""The console's words: every message it shows is translated into Russian, and pages escape values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract
from jinja2.ext import babel_extract

import hotline.console
from hotline.console.fields import MISSING, PART_LABELS, widgets
from hotline.console.i18n import VOCABULARY, words
from hotline.console.rendering import template_environment
from hotline.console.roles import Role
from hotline.forms import FORMS

CONSOLE_DIR = Path(hotline.console.__file__).parent
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def template_messages() -> set[str]:
    """Every constant msgid of a ``_("...")`` call in the templates."""
    found: set[str] = set()
    options = {"trim_blocks": "true", "lstrip_blocks": "true"}
    for template in sorted((CONSOLE_DIR / "templates").glob("*.html")):
        with template.open("rb") as source:
            for _, _, message, _ in babel_extract(source, ("_",), [], options):
                if isinstance(message, str):  # _(w.label) and the like are values, checked below
                    found.add(message)
    return found


def code_messages() -> set[str]:
    """Every constant msgid of a ``_`` or ``N_`` call in the console's Python modules."""
    found: set[str] = set()
    for module in sorted(CONSOLE_DIR.rglob("*.py")):  # routes/ too
        with module.open("rb") as source:
            for _, message, _, _ in extract("python", source, keywords={"_": None, "N_": None}):
                assert isinstance(message, str), message  # the console has no plurals
                found.add(message)
    return found


TEMPLATE_MESSAGES = sorted(template_messages())
CODE_MESSAGES = sorted(code_messages())


def test_extraction_finds_the_consoles_messages() -> None:
    assert "Sign out" in TEMPLATE_MESSAGES
    assert "Watch board" in TEMPLATE_MESSAGES
    assert "{time} left" in TEMPLATE_MESSAGES
    assert "Wrong name or password." in CODE_MESSAGES  # routes/signin.py
    assert MISSING in CODE_MESSAGES  # fields.py
    assert set(VOCABULARY) <= set(CODE_MESSAGES)  # i18n.py
    assert set(PART_LABELS.values()) <= set(CODE_MESSAGES)
    assert len(TEMPLATE_MESSAGES) > 50


@pytest.mark.parametrize("message", TEMPLATE_MESSAGES + CODE_MESSAGES)
def test_every_message_has_a_russian_translation_with_the_same_placeholders(message: str) -> None:
    russian = words("ru").gettext(message)
    assert russian, message
    assert russian != message, f"{message!r} is not translated into Russian"
    assert set(PLACEHOLDER.findall(russian)) == set(PLACEHOLDER.findall(message)), russian


@pytest.mark.parametrize("role", list(Role))
def test_role_names_shown_from_values_are_translated(role: Role) -> None:
    # base.html and audit.html show _(session.role.value) and _(e.role): not found by extraction.
    assert words("ru").gettext(role.value) != role.value


@pytest.mark.parametrize("key", [key for key, spec in FORMS.items() if spec.composable])
def test_every_label_and_choice_on_a_compose_page_is_translated(key: tuple[str, int]) -> None:
    # _field.html shows _(w.label) and _(label) of each choice, found in either catalogue.
    russian = words("ru")
    pending = list(widgets(FORMS[key].schema))
    while pending:
        widget = pending.pop()
        pending.extend(widget.children)
        assert russian.gettext(widget.label) != widget.label, widget.name
        for value, label in widget.choices:
            if label != value:  # a label that is its value (a pre-agreed code, "ft") is shown as it is
                assert russian.gettext(label) != label, (widget.name, label)


def test_english_is_the_msgid_itself() -> None:
    assert words("en").gettext("Sign out") == "Sign out"
    assert words("en").gettext(MISSING) == MISSING


def test_an_unsupported_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        words("de")


def test_strings_are_escaped() -> None:
    env = template_environment()
    assert env.from_string("{{ x }}").render(x="<script>") == "&lt;script&gt;"
    assert env.from_string('<a title="{{ x }}">').render(x='"><img src=x onerror=alert(1)>') == (
        '<a title="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;">'
    )


def test_templates_from_files_are_escaped() -> None:
    env = template_environment()
    (widget,) = [w for w in widgets(FORMS["free_text", 1].schema) if w.name == "text"]
    page = env.from_string('{% from "_field.html" import error with context %}{{ error(errors, w) }}')
    html = page.render(_=str, explain=str, errors={widget.name: "<b>bad</b>"}, w=widget)
    assert "&lt;b&gt;bad&lt;/b&gt;" in html
    assert "<b>" not in html


def test_a_choice_whose_label_is_its_value_is_still_translated_when_the_catalogue_has_it() -> None:
    # The area's unit "km" is labelled N_("km"): its label equals its value, and it must still be
    # translated ("км"), while a pre-agreed code (PA01), which no catalogue has, stays as it is.
    env = template_environment()
    russian = words("ru")
    assert russian.gettext("km") == "км"
    (area,) = [w for w in widgets(FORMS["air_deconfliction", 1].schema) if w.name == "area"]
    (unit,) = [w for w in area.children if w.name == "area.unit"]
    page = env.from_string('{% from "_field.html" import field with context %}{{ field(w, {}, {}) }}')
    html = page.render(_=russian.gettext, w=unit)
    assert ">морские мили</option>" in html
    assert ">км</option>" in html
