"""The catalogues: every message translated into Russian, with the same placeholders."""

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import hotline.forms
from hotline.forms import FORMS, PRE_AGREED, describe, precedence_name, prepare_body, translations
from hotline.forms.i18n import N_
from hotline.forms.vocabulary import LABELS

FORMS_DIR = Path(hotline.forms.__file__).parent
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def used_messages() -> list[tuple[str | None, str | tuple[str, str]]]:
    """(context, msgid) of every message the package marks for translation."""
    found: list[tuple[str | None, str | tuple[str, str]]] = []
    # The forms, the operator's views of a message (history lines, the CLI's `show`), and how the
    # watch's alarms read (titles, summaries).
    method_map = [
        ("forms/**.py", "python"),
        ("api/**.py", "python"),
        ("views/**.py", "python"),
        ("cli/**.py", "python"),
        ("watch/**.py", "python"),
    ]
    for _, _, message, _, context in extract_from_dir(FORMS_DIR.parent, method_map=method_map):
        if isinstance(message, tuple):
            found.append((context, (message[0], message[1])))
        else:
            found.append((context, message))
    return found


def catalogue(lang: str) -> Catalog:
    with (FORMS_DIR / "locale" / lang / "LC_MESSAGES" / "hotline.po").open("rb") as source:
        return read_po(source, locale=lang)


def test_extraction_finds_the_forms_messages() -> None:
    messages = {message for _, message in used_messages()}
    assert "Launch area: {area}." in messages
    assert "Acknowledged by {name}." in messages  # views/messages.py
    assert "Acknowledgement due: {due}" in messages  # cli/messages.py
    assert "Seen {count} times." in messages  # watch/wording.py
    assert ("{count} nautical mile", "{count} nautical miles") in messages
    assert len(messages) > 150


def test_every_message_is_translated_into_russian_with_the_same_placeholders() -> None:
    russian = catalogue("ru")
    assert russian.num_plurals == 3
    for context, message in used_messages():
        key = message[0] if isinstance(message, tuple) else message
        entry = russian.get(key, context=context)
        assert entry is not None, f"{message!r} is missing from the Russian catalogue"
        assert not entry.fuzzy, f"{message!r} is fuzzy"
        translated = [entry.string] if isinstance(entry.string, str) else list(entry.string or ())
        assert len(translated) == (3 if isinstance(message, tuple) else 1)
        expected = set(PLACEHOLDER.findall(key))
        for text in translated:
            assert text, f"{message!r} is not translated"
            assert set(PLACEHOLDER.findall(text)) == expected, f"{message!r}: placeholders differ in {text!r}"


def test_both_catalogues_hold_the_same_messages_and_russian_translates_all() -> None:
    # Checked over the whole catalogue, so that messages used outside hotline.forms are held too.
    english, russian = catalogue("en"), catalogue("ru")
    assert {(entry.context, str(entry.id)) for entry in english} == {
        (entry.context, str(entry.id)) for entry in russian
    }
    for entry in russian:
        if entry.id:
            strings = [entry.string] if isinstance(entry.string, str) else list(entry.string or ())
            assert all(strings), entry.id
            assert not entry.fuzzy, entry.id


@pytest.mark.parametrize(
    ("precedence", "english", "russian"),
    [
        ("FLASH", "FLASH", "МОЛНИЯ"),
        ("IMMEDIATE", "IMMEDIATE", "СРОЧНО"),
        ("PRIORITY", "PRIORITY", "ПЕРВООЧЕРЕДНОЕ"),
        ("ROUTINE", "ROUTINE", "ОБЫЧНОЕ"),
    ],
)
def test_precedence_names(precedence: str, english: str, russian: str) -> None:
    assert (precedence_name(precedence, "en"), precedence_name(precedence, "ru")) == (english, russian)


def test_precedence_name_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="unknown precedence"):
        precedence_name("URGENT", "en")
    with pytest.raises(ValueError, match="unsupported language"):
        precedence_name("FLASH", "fr")


def test_translations_serve_the_lead_with_gettext_and_plurals() -> None:
    assert translations("ru").gettext(N_("Launch area")) == "Район пуска"
    assert translations("en").gettext("Launch area") == "Launch area"
    plural = ("{count} nautical mile", "{count} nautical miles")
    assert [translations("ru").ngettext(*plural, n) for n in (1, 2, 5)] == [
        "{count}\xa0морская миля",
        "{count}\xa0морские мили",
        "{count}\xa0морских миль",
    ]
    assert translations("ru") is translations("ru")  # compiled once


def test_pre_agreed_catalogue_holds_both_languages() -> None:
    assert len(PRE_AGREED) >= 12
    assert all(re.fullmatch(r"PA[0-9]{2}", code) for code in PRE_AGREED)
    assert all(entry.en.strip() and entry.ru.strip() and entry.en != entry.ru for entry in PRE_AGREED.values())
    assert (
        PRE_AGREED["PA07"].text("ru") == "Просим немедленно установить телефонную связь между оперативными дежурными."
    )
    assert prepare_body("pre_agreed", 1, {"code": "PA07"}) == {"code": "PA07"}


def test_describe_lists_every_field_with_its_type() -> None:
    docs = describe(FORMS["missile_launch", 1], "ru")
    assert [(doc.name, doc.type, doc.required, doc.description) for doc in docs] == [
        ("missile_class", "one of icbm, slbm", True, "Класс ракеты"),
        ("launch_window", "time window {start, end} in UTC", True, "Планируемое время пуска"),
        ("launch_area", "area: polygon or circle", True, "Район пуска"),
        ("impact_area", "area: polygon or circle", True, "Район падения"),
        ("remarks", "text, up to 2000 characters", False, "Примечания"),
    ]
    exercise = {doc.name: doc.type for doc in describe(FORMS["strategic_exercise", 1])}
    assert exercise["heavy_bombers"] == "integer 0..100000"
    assert exercise["forces"].startswith("list of one of icbm, slbm, heavy_bombers")
    incident = {doc.name: doc.type for doc in describe(FORMS["incident_report", 1])}
    assert incident["units_involved"] == "list of text, up to 200 characters 1..20 entries"


@pytest.mark.parametrize("spec", FORMS.values(), ids=lambda spec: spec.kind)
def test_every_form_is_described_and_has_a_json_schema(spec: hotline.forms.FormSpec) -> None:
    assert all(doc.type and doc.description for doc in describe(spec, "en"))
    schema = spec.schema.model_json_schema()
    assert schema["additionalProperties"] is False
    assert translations("ru").gettext(spec.title) != spec.title


def test_public_api() -> None:
    assert set(hotline.forms.__all__) == {
        "FORMS",
        "PRE_AGREED",
        "SUPPORTED_LANGUAGES",
        "FieldDoc",
        "FormBody",
        "FormSpec",
        "PreAgreedText",
        "Rendering",
        "describe",
        "precedence_name",
        "prepare_body",
        "render",
        "translations",
        "validate_body",
    }
    assert all(hasattr(hotline.forms, name) for name in hotline.forms.__all__)


def test_every_enumerated_value_has_words() -> None:
    for choices, words in LABELS.items():
        assert set(words) == {member.value for member in choices}, choices.__name__
