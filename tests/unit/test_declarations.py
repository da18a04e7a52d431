"""The record of declarations, their rhythm, and the charts drawn of them (pure parts)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from hotline.console.charts import Point, Series, Words, chart
from hotline.console.transparency import panels
from hotline.envelope import cbor
from hotline.forms.declarations import CATEGORIES, Signed, current, record
from hotline.node.declaration_settings import declaration_schedules
from hotline.watch.alarms import Kind
from hotline.watch.declaring import Schedule, expected, next_as_of_ms, overdue, thresholds
from hotline.watch.escalation import Level

SVG = "{http://www.w3.org/2000/svg}"


def body(as_of: str, warheads: int, icbms: int = 400, total: int = 800) -> bytes:
    return cbor.encode({"as_of": as_of, "deployed_icbms": icbms, "deployed_slbms": 240, "deployed_heavy_bombers": 60,
                        "deployed_warheads": warheads, "deployed_and_non_deployed_launchers": total})  # fmt: skip


def declared(party: str, number: int, as_of: str, warheads: int, at: int, icbms: int = 400) -> Signed:
    return Signed(
        party, number, bytes([number]) * 32, "arsenal_declaration", 1, body(as_of, warheads, icbms), at, number
    )


def question(party: str, number: int, about: Signed) -> Signed:
    asked = cbor.encode({"question": "Why did the figure rise?"})
    return Signed(
        party, number, bytes([100 + number]) * 32, "clarification_request", 1, asked, 0, None, about.envelope_id
    )


def test_the_record_is_oldest_first_a_later_word_supersedes_and_questions_are_named() -> None:
    first = declared("SACEUR", 1, "2027-03-01", 1500, 10)
    theirs = declared("GENSTAB", 4, "2027-03-01", 1549, 12)
    corrected = declared("SACEUR", 2, "2027-03-01", 1510, 20)
    autumn = declared("SACEUR", 3, "2027-09-01", 1520, 30, icbms=401)
    asked = question("GENSTAB", 9, corrected)
    found = record([autumn, asked, corrected, theirs, first])
    assert [(d.party, d.as_of.isoformat(), d.serial) for d in found] == [
        ("GENSTAB", "2027-03-01", "GENSTAB-000004"),
        ("SACEUR", "2027-03-01", "SACEUR-000001"),
        ("SACEUR", "2027-03-01", "SACEUR-000002"),
        ("SACEUR", "2027-09-01", "SACEUR-000003"),
    ]
    assert found[1].superseded_by == "SACEUR-000002"
    assert found[2].superseded_by is None
    assert found[2].questioned_by == ("GENSTAB-000009",)
    assert found[3].figures["deployed_launchers"] == 401 + 240 + 60  # as New START counted them
    assert [d.serial for d in current(found)] == ["GENSTAB-000004", "SACEUR-000002", "SACEUR-000003"]


def test_each_chart_point_carries_its_value_and_the_limit_line_its_limit() -> None:
    found = record([declared("SACEUR", 1, "2027-03-01", 1500, 10), declared("GENSTAB", 2, "2027-03-01", 1600, 12),
                    declared("SACEUR", 3, "2027-09-01", 1520, 30)])  # fmt: skip
    drawn = panels(found, "SACEUR", "en")
    assert [p.category.key for p in drawn] == [c.key for c in CATEGORIES]
    warheads = ET.fromstring(drawn[0].svg)
    points = [(p.get("data-party"), p.get("data-as-of"), p.get("data-value")) for p in warheads.iter() if
              (p.get("class") or "").startswith("point") and p.get("data-party")]  # fmt: skip
    assert sorted(points) == [("GENSTAB", "2027-03-01", "1600"), ("SACEUR", "2027-03-01", "1500"),
                              ("SACEUR", "2027-09-01", "1520")]  # fmt: skip
    [limit] = [e for e in warheads.iter(f"{SVG}line") if e.get("class") == "limit"]
    assert limit.get("data-limit") == "1550"
    links = [a.get("href") for a in warheads.iter(f"{SVG}a")]
    assert "/messages/SACEUR-000001/evidence" in links
    assert drawn[0].rows[0][1][1] is not None  # the table: GENSTAB's figure as of 1 March
    russian = panels(found, "SACEUR", "ru")[0]
    assert "Предельный уровень по ДСНВ: 1550" in russian.svg


def test_text_in_a_chart_is_escaped() -> None:
    words = Words("<script>", "limit & more", "asked {serial}", str, lambda d: str(d.year))
    point = Point(dt.date(2027, 3, 1), 5, "A-000001", '"><script>alert(1)</script>')
    drawn = chart([Series("A<B", (point,))], 10, words, "c")
    assert "<script>" not in drawn
    assert ET.fromstring(drawn) is not None


def test_a_schedule_expects_each_date_from_pairing_and_escalates_when_overdue() -> None:
    schedule = Schedule(((3, 1), (9, 1)), due_days=45)
    paired = dt.date(2027, 2, 1)
    now = _ms(dt.date(2027, 10, 1))
    found = expected("GENSTAB", schedule, paired, {True: [dt.date(2027, 3, 1)], False: []}, now)
    assert [(e.ours, e.as_of.isoformat()) for e in found] == [(True, "2027-09-01"), (False, "2027-03-01"),
                                                               (False, "2027-09-01")]  # fmt: skip
    # 1 October: theirs of 1 March is overdue since 15 April ended (a commander by now); 1 September's not yet due.
    alarms = overdue(found, now)
    assert [(a.kind, a.subject, a.level) for a in alarms] == [(Kind.DECLARATION_MISSING, "2027-03-01", Level.COMMANDER)]
    assert alarms[0].since_ms == _ms(dt.date(2027, 4, 16))  # 15 April, the 45th day, is still in time
    assert alarms[0].facts["last_day"] == "2027-04-15"

    def levels(day: dt.date) -> dict[tuple[bool, str], Level]:
        return {(a.kind is Kind.DECLARATION_DUE, a.subject or ""): a.level for a in overdue(found, _ms(day))}

    assert (True, "2027-09-01") not in levels(dt.date(2027, 10, 16)), "its last day is still in time"
    assert levels(dt.date(2027, 10, 17))[(True, "2027-09-01")] is Level.DUTY_OFFICER  # ours, overdue now
    assert levels(dt.date(2027, 10, 24))[(False, "2027-09-01")] is Level.SUPERVISOR  # theirs, a week on
    assert _ms(dt.date(2027, 10, 17)) in thresholds(found)
    # An agreement said to start before the peer was paired asks nothing from before.
    early = Schedule(((3, 1), (9, 1)), due_days=45, since=dt.date(2020, 3, 1))
    assert min(e.as_of for e in expected("GENSTAB", early, paired, {}, now)) == dt.date(2027, 3, 1)
    assert next_as_of_ms(schedule, now) == _ms(dt.date(2028, 3, 1))


def test_the_29th_of_february_falls_on_the_28th_in_a_common_year() -> None:
    schedule = Schedule(((2, 29),), due_days=0, since=dt.date(2027, 1, 1))
    assert schedule.dates(dt.date(2027, 1, 1), dt.date(2028, 12, 31)) == [dt.date(2027, 2, 28), dt.date(2028, 2, 29)]
    both = Schedule(((2, 28), (2, 29)))
    assert both.dates(dt.date(2027, 1, 1), dt.date(2027, 12, 31)) == [dt.date(2027, 2, 28)], "one date, once"


def test_later_means_the_party_s_own_order_and_per_recipient_and_a_bad_body_hides_nothing_else() -> None:
    # RU-000006 signed by a node whose clock was behind is still the later word.
    earlier = declared("GENSTAB", 5, "2027-03-01", 1500, 2000)
    later = declared("GENSTAB", 6, "2027-03-01", 1510, 1999)
    # Ours to two peers for one date: neither supersedes the other.
    to_a = replace(declared("SACEUR", 1, "2027-03-01", 1400, 10), recipient="GENSTAB")
    to_b = replace(declared("SACEUR", 2, "2027-03-01", 1400, 11), recipient="MOD")
    broken = replace(declared("GENSTAB", 7, "2027-09-01", 1500, 3000), body=body("2027-09-01", 1500, total=100))
    unreadable: list[str] = []
    found = record([later, broken, to_b, earlier, to_a], unreadable)
    assert [(d.serial, d.superseded_by) for d in found] == [
        ("GENSTAB-000005", "GENSTAB-000006"),
        ("GENSTAB-000006", None),
        ("SACEUR-000001", None),
        ("SACEUR-000002", None),
    ]
    [problem] = unreadable
    assert problem.startswith("GENSTAB-000007: ")
    assert "fewer than the 700 deployed" in problem


def test_a_chart_draws_dates_at_the_ends_of_the_calendar() -> None:
    words = Words("t", "limit", "asked {serial}", str, lambda d: str(d.year))
    points = (Point(dt.date(1, 1, 1), 5, "A-000001", "x"), Point(dt.date(9999, 12, 31), 6, "A-000002", "y"))
    drawn = ET.fromstring(chart([Series("A", points)], 10, words, "c"))
    assert len([e for e in drawn.iter() if e.get("data-value")]) == 2


def test_declaration_settings_are_read_and_wrong_ones_refused_saying_what_is_wrong() -> None:
    raw = {"declarations": {"GENSTAB": {"as_of": ["09-01", "03-01"], "due_days": 30, "since": "2027-03-01"}}}
    assert declaration_schedules(raw) == {"GENSTAB": Schedule(((3, 1), (9, 1)), 30, dt.date(2027, 3, 1))}
    for wrong, said in [
        ({"as_of": ["13-01"]}, "not a month and day"),
        ({"as_of": []}, "as_of is a list"),
        ({"as_of": ["03-01", "03-01"]}, "names a date twice"),
        ({"as_of": ["03-01"], "due_days": -1}, "due_days is a whole number"),
        ({"as_of": ["03-01"], "since": "soon"}, "since is a date"),
        ({"as_of": ["03-01"], "every": 2}, "unknown setting 'every'"),
    ]:
        with pytest.raises(ValueError, match=said):
            declaration_schedules({"declarations": {"GENSTAB": wrong}})


def _ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
