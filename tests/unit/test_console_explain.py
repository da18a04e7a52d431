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
