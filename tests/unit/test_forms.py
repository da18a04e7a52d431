"""Every form: a valid example, its canonical wire body, and its notice in English and Russian."""

from typing import Any

import pytest

from hotline.envelope.model import FieldError
from hotline.forms import FORMS, SUPPORTED_LANGUAGES, prepare_body, render, validate_body
from hotline.forms.examples import EXAMPLES
from hotline.forms.schemas import ArsenalDeclaration, FormBody

REPLY_TO = bytes(range(32))

# The notices exactly as an operator reads them. Russian dates carry CLDR's narrow no-break
# space before the abbreviation for "year" (U+202F) and Russian thousands a no-break space (U+00A0).
EXPECTED: dict[str, dict[str, tuple[str, list[str]]]] = {
    "key_rotation": {
        "en": (
            "Key rotation",
            [
                (
                    "The sending party has changed its keys. Its new signing key is"
                    " 6a38 03d5 f059 902a 1c6d afbc 9ba4 7292."
                ),
                "Its log keeps its name; messages signed before and after the change both stay verifiable.",
            ],
        ),
        "ru": (
            "Смена ключей",
            [
                "Отправитель сменил ключи. Его новый ключ подписи: 6a38 03d5 f059 902a 1c6d afbc 9ba4 7292.",
                (
                    "Журнал обмена сохраняет прежнее наименование; сообщения, подписанные до и после смены ключей,"
                    " по-прежнему проверяемы."
                ),
            ],
        ),
    },
    "key_rotation_done": {
        "en": (
            "Previous key retired",
            [
                (
                    "The sending party has retired its previous signing key 630d cd29 66c4 3366 9112 5448 bbb2 5b4f"
                    " at log size 4,096: only its new key is valid from now on."
                ),
            ],
        ),
        "ru": (
            "Прежний ключ выведен из действия",
            [
                (
                    "Отправитель вывел из действия прежний ключ подписи 630d cd29 66c4 3366 9112 5448 bbb2 5b4f"
                    " при размере журнала 4096: с этого момента действителен только новый ключ."
                ),
            ],
        ),
    },
    "link_test": {
        "en": (
            "Link test",
            [
                "Link test No. 4711, sent on 24 November 2026 at 06:00:05 UTC.",
                "No action is required: the terminal acknowledges it automatically.",
            ],
        ),
        "ru": (
            "Проверка связи",
            [
                "Контрольное сообщение проверки связи №\xa04711 отправлено в 06:00:05 UTC 24 ноября 2026\u202fг.",
                "Действий не требуется: терминал подтверждает получение автоматически.",
            ],
        ),
    },
    "ack": {
        "en": (
            "Acknowledgement",
            [
                "Receipt of the message is acknowledged on 24 November 2026 at 06:03 UTC by Maj. A. Petrov.",
                "Remark: Received in full.",
            ],
        ),
        "ru": (
            "Подтверждение получения",
            [
                "Получение сообщения подтверждено в 06:03 UTC 24 ноября 2026\u202fг.; подтвердил: Maj. A. Petrov.",
                "Примечание: Received in full.",
            ],
        ),
    },
    "readiness_check": {
        "en": (
            "Readiness check",
            [
                "Readiness check at the watch change on 24 November 2026 at 06:00 UTC.",
                "Watch on duty: Watch 3.",
                "Duty officer: Lt Col J. Smith.",
                "The duty officer of the receiving side is requested to acknowledge this message in person.",
            ],
        ),
        "ru": (
            "Проверка готовности",
            [
                "Проверка готовности при смене дежурства в 06:00 UTC 24 ноября 2026\u202fг.",
                "Заступившая дежурная смена: Watch 3.",
                "Оперативный дежурный: Lt Col J. Smith.",
                "Просим оперативного дежурного принимающей стороны лично подтвердить получение настоящего сообщения.",
            ],
        ),
    },
    "missile_launch": {
        "en": (
            "Notification of a ballistic missile launch",
            [
                "Notice is given of the planned launch of a submarine-launched ballistic missile (SLBM).",
                "Planned launch window: 24 November 2026, 06:00–10:00 UTC.",
                "Launch area: circle centred on 69°30.000′ N, 33°45.000′ E, radius 30 nautical miles.",
                (
                    "Impact area: polygon with vertices at 64°54.000′ N, 177°30.000′ E; 65°06.000′ N, 177°30.000′ "
                    "E; 65°06.000′ N, 178°12.000′ E; 64°54.000′ N, 178°12.000′ E."
                ),
            ],
        ),
        "ru": (
            "Уведомление о пуске баллистической ракеты",
            [
                "Уведомляем о планируемом пуске баллистической ракеты подводных лодок (БРПЛ).",
                "Планируемое время пуска: 24 ноября 2026\u202fг. с 06:00 до 10:00 UTC.",
                (
                    "Район пуска: круг с центром в точке 69°30,000′ с.\xa0ш., 33°45,000′ в.\xa0д., радиус "
                    "30\xa0морских миль."
                ),
                (
                    "Район падения: многоугольник с вершинами в точках 64°54,000′ с.\xa0ш., 177°30,000′ в.\xa0д.; "
                    "65°06,000′ с.\xa0ш., 177°30,000′ в.\xa0д.; 65°06,000′ с.\xa0ш., 178°12,000′ в.\xa0д.; "
                    "64°54,000′ с.\xa0ш., 178°12,000′ в.\xa0д."
                ),
            ],
        ),
    },
    "strategic_exercise": {
        "en": (
            "Notification of a major strategic exercise",
            [
                "Notice is given of the major strategic exercise “Northern Vigil”.",
                "Period: from 12 October 2026, 00:00 UTC to 26 October 2026, 18:00 UTC.",
                "Forces taking part: heavy bombers, tanker aircraft, command and control systems.",
                "22 heavy bombers will take part.",
                "Exercise area: circle centred on 50°54.000′ N, 4°30.000′ E, radius 1,200 km.",
            ],
        ),
        "ru": (
            "Уведомление о крупных стратегических учениях",
            [
                "Уведомляем о проведении крупных стратегических учений «Northern Vigil».",
                "Сроки проведения: с 00:00 UTC 12 октября 2026\u202fг. до 18:00 UTC 26 октября 2026\u202fг.",
                (
                    "Привлекаемые силы и средства: тяжёлые бомбардировщики, самолёты-заправщики, системы боевого "
                    "управления."
                ),
                "Привлекаются 22 тяжёлых бомбардировщика.",
                (
                    "Район проведения учений: круг с центром в точке 50°54,000′ с.\xa0ш., 4°30,000′ в.\xa0д., радиус "
                    "1200\xa0км."
                ),
            ],
        ),
    },
    "air_deconfliction": {
        "en": (
            "Air activity notification for flight safety",
            [
                "For flight safety, notice is given of the following air activity: air-to-air refuelling.",
                (
                    "Area: polygon with vertices at 57°30.000′ N, 19°00.000′ E; 58°00.000′ N, 20°30.000′ E; "
                    "57°00.000′ N, 21°00.000′ E."
                ),
                "Period: from 24 November 2026, 22:00 UTC to 25 November 2026, 02:30 UTC.",
                "Altitudes: FL250–FL310.",
                "Contact: callsign NATO 42, 243.000 MHz.",
            ],
        ),
        "ru": (
            "Уведомление о деятельности авиации в целях обеспечения безопасности полётов",
            [
                (
                    "В целях обеспечения безопасности полётов уведомляем о следующей деятельности авиации: "
                    "дозаправка топливом в воздухе."
                ),
                (
                    "Район: многоугольник с вершинами в точках 57°30,000′ с.\xa0ш., 19°00,000′ в.\xa0д.; 58°00,000′ "
                    "с.\xa0ш., 20°30,000′ в.\xa0д.; 57°00,000′ с.\xa0ш., 21°00,000′ в.\xa0д."
                ),
                "Сроки проведения: с 22:00 UTC 24 ноября 2026\u202fг. до 02:30 UTC 25 ноября 2026\u202fг.",
                "Диапазон высот: эшелоны FL250–FL310.",
                "Связь: позывной NATO 42, частота 243,000\xa0МГц.",
            ],
        ),
    },
    "incident_report": {
        "en": (
            "Incident report",
            [
                "We report the following incident: unsafe intercept.",
                "Time: 23 November 2026, 14:12 UTC.",
                "Position: 43°15.000′ N, 33°30.000′ E.",
                "Units involved: 1 x RC-135W; 2 x Su-27.",
                "What happened: The fighters passed within 30 m of the aircraft's nose.",
                "Actions taken: The crew left the area; the incident was reported at once.",
            ],
        ),
        "ru": (
            "Сообщение об инциденте",
            [
                "Сообщаем о следующем инциденте: опасный перехват.",
                "Время: 23 ноября 2026\u202fг., 14:12 UTC.",
                "Координаты: 43°15,000′ с.\xa0ш., 33°30,000′ в.\xa0д.",
                "Участвовавшие силы и средства: 1 x RC-135W; 2 x Su-27.",
                "Обстоятельства: The fighters passed within 30 m of the aircraft's nose.",
                "Принятые меры: The crew left the area; the incident was reported at once.",
            ],
        ),
    },
    "clarification_request": {
        "en": (
            "Request for clarification",
            [
                "We request clarification of the following observed activity.",
                "Question: What is the purpose of the naval activity observed west of the island?",
                "Observed: 23 November 2026, 09:30 UTC.",
                "Area: circle centred on 33°51.360′ S, 70°30.000′ W, radius 1 nautical mile.",
            ],
        ),
        "ru": (
            "Запрос разъяснений",
            [
                "Просим дать разъяснения по следующей наблюдаемой деятельности.",
                "Вопрос: What is the purpose of the naval activity observed west of the island?",
                "Время наблюдения: 23 ноября 2026\u202fг., 09:30 UTC.",
                "Район: круг с центром в точке 33°51,360′ ю.\xa0ш., 70°30,000′ з.\xa0д., радиус 1\xa0морская миля.",
            ],
        ),
    },
    "clarification": {
        "en": (
            "Clarification",
            [
                "In reply to your request for clarification: It was a scheduled search and rescue exercise.",
            ],
        ),
        "ru": (
            "Разъяснение",
            [
                "В ответ на ваш запрос разъяснений сообщаем: It was a scheduled search and rescue exercise.",
            ],
        ),
    },
    "arsenal_declaration": {
        "en": (
            "Strategic offensive arms data",
            [
                (
                    "We declare, on a voluntary basis, the following data on strategic offensive arms as of 1 "
                    "September 2026."
                ),
                "Deployed ICBMs: 400.",
                "Deployed SLBMs: 240.",
                "Deployed heavy bombers: 60.",
                "Deployed ICBMs, SLBMs and heavy bombers in total: 700 (New START limit: 700).",
                "Deployed warheads: 1,600 (New START limit: 1,550; exceeded by 50).",
                "Deployed and non-deployed launchers: 800 (New START limit: 800).",
                "The New START Treaty expired on 5 February 2026; its limits are shown for reference only.",
            ],
        ),
        "ru": (
            "Сведения о стратегических наступательных вооружениях",
            [
                (
                    "В добровольном порядке сообщаем сведения о стратегических наступательных вооружениях по "
                    "состоянию на 1 сентября 2026\u202fг."
                ),
                "Развёрнутые МБР: 400.",
                "Развёрнутые БРПЛ: 240.",
                "Развёрнутые тяжёлые бомбардировщики: 60.",
                "Всего развёрнутых МБР, БРПЛ и тяжёлых бомбардировщиков: 700 (предельный уровень по ДСНВ: 700).",
                "Развёрнутые боезаряды: 1600 (предельный уровень по ДСНВ: 1550; превышение на 50).",
                "Развёрнутые и неразвёрнутые пусковые установки: 800 (предельный уровень по ДСНВ: 800).",
                (
                    "Срок действия ДСНВ истёк 5 февраля 2026\u202fг.; его предельные уровни приведены только для "
                    "справки."
                ),
            ],
        ),
    },
    "meeting_request": {
        "en": (
            "Proposal for a meeting",
            [
                "We propose a meeting in person on 1 December 2026 at 09:00 UTC.",
                "Place: Vienna.",
                "Agenda: Review of notification procedures.",
                "Please confirm or propose another time.",
            ],
        ),
        "ru": (
            "Предложение о проведении встречи",
            [
                "Предлагаем провести личную встречу в 09:00 UTC 1 декабря 2026\u202fг.",
                "Место проведения: Vienna.",
                "Повестка дня: Review of notification procedures.",
                "Просим подтвердить или предложить другое время.",
            ],
        ),
    },
    "pre_agreed": {
        "en": (
            "Pre-agreed message",
            [
                (
                    "Pre-agreed message PA03: We are investigating the reported activity and will inform you of the"
                    " results."
                ),
                "This refers to message GENSTAB-000042.",
            ],
        ),
        "ru": (
            "Заранее согласованное сообщение",
            [
                (
                    "Заранее согласованное сообщение PA03: Проводим проверку указанной деятельности; о результатах "
                    "сообщим дополнительно."
                ),
                "Относится к сообщению GENSTAB-000042.",
            ],
        ),
    },
    "free_text": {
        "en": (
            "Free text",
            [
                "Text (language: Russian):",
                "Уведомление получено.",
                "Unofficial translation (language: English):",
                "Notification received.",
            ],
        ),
        "ru": (
            "Сообщение в произвольной форме",
            [
                "Текст (язык: русский):",
                "Уведомление получено.",
                "Неофициальный перевод (язык: английский):",
                "Notification received.",
            ],
        ),
    },
}


def contains_float(value: object) -> bool:
    if isinstance(value, dict):
        return any(contains_float(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_float(item) for item in value)
    return isinstance(value, float)


def test_every_form_has_an_example() -> None:
    assert set(EXAMPLES) == {kind for kind, _ in FORMS} == set(EXPECTED)


@pytest.mark.parametrize("kind", EXAMPLES)
def test_prepared_body_is_canonical_and_validates(kind: str) -> None:
    body = prepare_body(kind, 1, EXAMPLES[kind])
    assert prepare_body(kind, 1, body) == body
    assert not contains_float(body)
    parsed = validate_body(kind, 1, body, reply_to=REPLY_TO)
    assert isinstance(parsed, FORMS[kind, 1].schema)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("kind", EXAMPLES)
def test_notice(kind: str, lang: str) -> None:
    rendering = render(kind, 1, prepare_body(kind, 1, EXAMPLES[kind]), lang)
    title, lines = EXPECTED[kind][lang]
    assert (rendering.title, rendering.text) == (title, "\n".join(lines))
    assert rendering.fields
    assert all(label and value for label, value in rendering.fields)


def test_friendly_input_becomes_the_canonical_wire_body() -> None:
    body = prepare_body(
        "missile_launch",
        1,
        {
            "missile_class": "icbm",
            "launch_window": {"start": "2026-11-24T06:00+00:00", "end": "2026-11-24T10:00:00-00:00"},
            "launch_area": {
                "shape": "circle",
                "centre": {"lat": 55.7558, "lon": "+037.617300"},
                "radius": 5,
                "unit": "km",
            },
            "impact_area": {
                "shape": "polygon",
                "vertices": [{"lat": -0.0, "lon": 100}, {"lat": "1", "lon": 1.5}, {"lat": 2, "lon": 2}],
            },
            "remarks": None,
        },
    )
    assert body == {
        "missile_class": "icbm",
        "launch_window": {"start": "2026-11-24T06:00:00Z", "end": "2026-11-24T10:00:00Z"},
        "launch_area": {"shape": "circle", "centre": {"lat": "55.7558", "lon": "37.6173"}, "radius": 5, "unit": "km"},
        "impact_area": {
            "shape": "polygon",
            "vertices": [{"lat": "0", "lon": "100"}, {"lat": "1", "lon": "1.5"}, {"lat": "2", "lon": "2"}],
        },
    }


def test_arsenal_figures_stand_beside_the_new_start_limits() -> None:
    rendering = render(
        "arsenal_declaration", 1, prepare_body("arsenal_declaration", 1, EXAMPLES["arsenal_declaration"]), "en"
    )
    assert rendering.fields == [
        ("As of", "1 September 2026"),
        ("Deployed ICBMs", "400"),
        ("Deployed SLBMs", "240"),
        ("Deployed heavy bombers", "60"),
        ("Deployed ICBMs, SLBMs and heavy bombers in total", "700 (New START limit: 700)"),
        ("Deployed warheads", "1,600 (New START limit: 1,550; exceeded by 50)"),
        ("Deployed and non-deployed launchers", "800 (New START limit: 800)"),
    ]
    parsed = validate_body(
        "arsenal_declaration", 1, prepare_body("arsenal_declaration", 1, EXAMPLES["arsenal_declaration"])
    )
    assert isinstance(parsed, ArsenalDeclaration)
    assert parsed.deployed_launchers == 700


def test_free_text_fields_mark_the_translation_unofficial() -> None:
    rendering = render("free_text", 1, EXAMPLES["free_text"], "ru")
    assert rendering.fields == [
        ("Текст", "Уведомление получено."),
        ("Язык", "русский"),
        ("Неофициальный перевод", "Notification received. (английский)"),
    ]


def test_free_text_without_translation_keeps_its_original_shape() -> None:
    body = {"text": "Exercise STEADFAST begins 0600Z.", "lang": "en"}
    assert prepare_body("free_text", 1, body) == body
    assert render("free_text", 1, body, "en").text == "Text (language: English):\nExercise STEADFAST begins 0600Z."


@pytest.mark.parametrize(
    ("count", "sentence"),
    [
        (0, "Тяжёлые бомбардировщики не привлекаются."),
        (1, "Привлекается 1 тяжёлый бомбардировщик."),
        (3, "Привлекаются 3 тяжёлых бомбардировщика."),
        (11, "Привлекаются 11 тяжёлых бомбардировщиков."),
        (21, "Привлекается 21 тяжёлый бомбардировщик."),
        (1500, "Привлекаются 1500 тяжёлых бомбардировщиков."),
        (12000, "Привлекаются 12\xa0000 тяжёлых бомбардировщиков."),
    ],
)
def test_russian_counts_agree_with_their_nouns(count: int, sentence: str) -> None:
    data: dict[str, Any] = {**EXAMPLES["strategic_exercise"], "heavy_bombers": count}
    assert sentence in render("strategic_exercise", 1, data, "ru").text.split("\n")


def test_unnamed_exercise_and_automatic_acknowledgement() -> None:
    exercise = {key: value for key, value in EXAMPLES["strategic_exercise"].items() if key != "name"}
    assert render("strategic_exercise", 1, exercise, "ru").text.startswith(
        "Уведомляем о проведении крупных стратегических учений.\n"
    )
    ack = {"by": "SACEUR terminal", "at": "2026-11-24T07:00:00Z", "auto": True}
    assert render("ack", 1, ack, "en").text == (
        "Receipt of the message is acknowledged automatically on 24 November 2026 at 07:00 UTC "
        "(terminal: SACEUR terminal)."
    )


def test_readiness_check_sent_by_the_terminal_alone() -> None:
    body = prepare_body("readiness_check", 1, {"watch_change": "2026-11-24T18:00:00Z"})
    assert render("readiness_check", 1, body, "ru").text == (
        "Проверка готовности при смене дежурства в 18:00 UTC 24 ноября 2026\u202fг.\n"
        "Просим оперативного дежурного принимающей стороны лично подтвердить получение настоящего сообщения."
    )


def test_what_operators_may_compose() -> None:
    machine = {"link_test", "ack", "key_rotation", "key_rotation_done"}
    assert {kind for (kind, _), spec in FORMS.items() if not spec.composable} == machine
    assert {kind for (kind, _), spec in FORMS.items() if spec.needs_reply_to} == {"clarification", "ack"}
    assert all(issubclass(spec.schema, FormBody) for spec in FORMS.values())
    # Every form is at version 1, but the acknowledgement, which has a version 2 with the rank.
    assert {key for key, spec in FORMS.items() if spec.version != 1} == {("ack", 2)}


# -- an acknowledgement with a rank (#16): the code on the wire, the words in each language ------


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("en", "by Major A. Petrov."),
        ("ru", "подтвердил: майор A. Petrov."),
    ],
)
def test_a_ranked_acknowledgement_reads_in_each_language(lang: str, line: str) -> None:
    from hotline.forms.examples import example

    data = example("ack", 2)
    assert data is not None
    body = prepare_body("ack", 2, data)
    assert body["rank"] == "major"  # a code, not words: the reader's side translates it
    validate_body("ack", 2, body, reply_to=REPLY_TO)
    assert line in render("ack", 2, body, lang).text


def test_a_rank_a_later_release_adds_is_received_as_its_code_and_a_malformed_one_refused() -> None:
    data = {"by": "A. Petrov", "rank": "grand_marshal", "at": "2026-11-24T06:03:00Z", "auto": False}
    assert "by grand_marshal A. Petrov" in render("ack", 2, prepare_body("ack", 2, data), "en").text
    with pytest.raises(FieldError) as refused:
        prepare_body("ack", 2, {**data, "rank": "<b>Marshal</b>"})
    assert refused.value.field == "body.rank"


def test_every_bad_field_is_named_at_once() -> None:
    data = {**EXAMPLES["air_deconfliction"], "activity": "dogfight", "altitude": {"unit": "fl", "low": -5, "high": 300}}
    with pytest.raises(FieldError) as refused:
        prepare_body("air_deconfliction", 1, data)
    named = [refused.value.field, *(field for field, _ in refused.value.more)]
    assert "body.activity" in named
    assert any(field.startswith("body.altitude") for field in named), named


def test_the_operator_reads_every_bad_field_in_the_refusal() -> None:
    from hotline.node import SendError

    refusal = SendError("body.activity", "unknown value", (("body.altitude.low", "must be 0 or more"),))
    assert str(refusal).splitlines() == ["body.activity: unknown value", "body.altitude.low: must be 0 or more"]
