"""The node's refusals on a Russian page (#16, item 7): said again in Russian, values kept."""

from __future__ import annotations

import pytest

from hotline.console.explain import explain


@pytest.mark.parametrize(
    ("english", "russian"),
    [
        ("the password is too short: at least 10 characters", "пароль слишком короткий: не менее 10 символов"),
        ("unknown value 'x'; expected one of icbm, slbm", "недопустимое значение 'x'; допустимые значения: icbm, slbm"),
        ("line 3: latitude 91 is outside -90..+90", "строка 3: широта 91 вне пределов -90..+90"),
        ("the window ends before it starts", "окончание периода раньше его начала"),
        ("there is no account 'ivan'", "учётной записи 'ivan' нет"),
    ],
)
def test_a_known_refusal_reads_in_russian(english: str, russian: str) -> None:
    assert explain(english, "ru") == russian
    assert explain(english, "en") == english


def test_a_refusal_not_known_is_shown_as_it_is() -> None:
    assert explain("something new went wrong", "ru") == "something new went wrong"


@pytest.mark.parametrize(
    ("pydantic", "english", "russian"),
    [
        ("Input should be a valid integer, unable to parse string as an integer", "must be a whole number",
         "должно быть целым числом"),
        ("Input should be greater than or equal to 0", "must be 0 or more", "должно быть не меньше 0"),
        ("List should have at least 3 items after validation, not 2", "needs at least 3 entries",
         "требуется не менее 3 записей"),
    ],
)  # fmt: skip
def test_pydantics_own_words_never_reach_a_page(pydantic: str, english: str, russian: str) -> None:
    assert explain(pydantic, "en") == english
    assert explain(pydantic, "ru") == russian
