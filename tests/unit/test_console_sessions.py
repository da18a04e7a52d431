"""Console sessions: random identifiers, idle and absolute expiry, driven by explicit times."""

from __future__ import annotations

import pytest

from hotline.console.roles import Role
from hotline.console.sessions import Session, Sessions

START_MS = 1_795_000_000_000
LIFETIME_S = 3600.0  # a watch
IDLE_S = 600.0
LIFETIME_MS = 3_600_000
IDLE_MS = 600_000


def opened(sessions: Sessions, now_ms: int = START_MS) -> Session:
    return sessions.open("alice", Role.OPERATOR, "en", now_ms)


def test_open_records_who_and_when() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    session = sessions.open("boris", Role.SUPERVISOR, "ru", START_MS)
    assert (session.user, session.role, session.lang) == ("boris", Role.SUPERVISOR, "ru")
    assert session.created_ms == session.seen_ms == START_MS
    assert len(sessions) == 1
    assert sessions.find(session.id, START_MS) is session


def test_each_open_gives_fresh_random_identifiers_and_tokens() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    opened_ = [opened(sessions) for _ in range(50)]
    ids = {s.id for s in opened_}
    tokens = {s.csrf for s in opened_}
    assert len(ids) == len(tokens) == 50
    assert not ids & tokens  # the CSRF token is not the session identifier
    assert len(sessions) == 50
    for s in opened_:
        assert len(s.id) >= 43  # 32 random bytes, URL-safe base64
        assert len(s.csrf) >= 43


def test_same_user_signing_in_twice_gets_two_sessions() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    first, second = opened(sessions), opened(sessions)
    assert first.id != second.id
    assert sessions.find(first.id, START_MS) is first
    assert sessions.find(second.id, START_MS) is second


@pytest.mark.parametrize("session_id", [None, "", "no-such-session", "x" * 43])
def test_find_returns_none_for_unknown_or_missing_identifiers(session_id: str | None) -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    opened(sessions)
    assert sessions.find(session_id, START_MS) is None
    assert len(sessions) == 1


def test_seconds_are_turned_into_milliseconds() -> None:
    sessions = Sessions(1.5, 0.25)
    assert (sessions.lifetime_ms, sessions.idle_ms) == (1500, 250)


def test_idle_limit_ends_a_session_exactly_at_the_limit() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    session = opened(sessions)
    assert not sessions.expired(session, START_MS + IDLE_MS - 1)
    assert sessions.expired(session, START_MS + IDLE_MS)  # at the limit it is over, not after it


def test_a_session_idle_one_millisecond_short_of_the_limit_lives() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    session = opened(sessions)
    assert sessions.find(session.id, START_MS + IDLE_MS - 1) is session
    assert session.seen_ms == START_MS + IDLE_MS - 1
    assert len(sessions) == 1


def test_an_idle_session_found_expired_is_refused_and_the_sweep_ends_it() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    session = opened(sessions)
    other = opened(sessions, START_MS + IDLE_MS)
    assert sessions.find(session.id, START_MS + IDLE_MS) is None
    assert sessions.sweep(START_MS + IDLE_MS) == [session]  # the store is told which ended
    assert len(sessions) == 1
    # Gone for good: even a time within its idle limit does not bring it back.
    assert sessions.find(session.id, START_MS) is None
    assert sessions.find(other.id, START_MS + IDLE_MS) is other


def test_activity_extends_the_idle_limit() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    session = opened(sessions)
    now = START_MS
    for _ in range(5):  # well past one idle limit in total, never idle for a whole one
        now += IDLE_MS - 1
        assert sessions.find(session.id, now) is session
    assert now - START_MS > IDLE_MS
    assert session.seen_ms == now
    assert session.created_ms == START_MS  # activity never moves the start


def test_activity_does_not_extend_the_lifetime() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    session = opened(sessions)
    now = START_MS
    while now + IDLE_MS // 2 < START_MS + LIFETIME_MS:
        now += IDLE_MS // 2
        assert sessions.find(session.id, now) is session
    assert sessions.find(session.id, START_MS + LIFETIME_MS - 1) is session
    # Seen a moment ago, but the watch is over: the lifetime is absolute.
    assert sessions.find(session.id, START_MS + LIFETIME_MS) is None
    assert sessions.sweep(START_MS + LIFETIME_MS) == [session]


def test_lifetime_boundary_is_exact() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    session = opened(sessions)
    session.seen_ms = START_MS + LIFETIME_MS - 1  # as if seen a moment before the end
    assert not sessions.expired(session, START_MS + LIFETIME_MS - 1)
    assert sessions.expired(session, START_MS + LIFETIME_MS)


def test_an_idle_limit_longer_than_the_lifetime_still_ends_at_the_lifetime() -> None:
    sessions = Sessions(lifetime_s=60, idle_s=3600)
    session = opened(sessions)
    assert sessions.find(session.id, START_MS + 59_999) is session
    assert sessions.find(session.id, START_MS + 60_000) is None


def test_close_ends_one_session_and_ignores_unknown_ones() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    first, second = opened(sessions), opened(sessions)
    sessions.close(first.id)
    assert len(sessions) == 1
    assert sessions.find(first.id, START_MS) is None
    assert sessions.find(second.id, START_MS) is second
    sessions.close(first.id)  # signing out twice is not an error
    sessions.close("no-such-session")
    assert len(sessions) == 1


def test_csrf_matches_only_the_sessions_own_token() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    session, other = opened(sessions), opened(sessions)
    assert session.csrf_matches(session.csrf)
    assert not session.csrf_matches(None)
    assert not session.csrf_matches("")
    assert not session.csrf_matches(other.csrf)
    assert not session.csrf_matches(session.id)
    assert not session.csrf_matches(session.csrf[:-1])
    assert not session.csrf_matches(session.csrf + "x")
    last = "A" if session.csrf[-1] != "A" else "B"
    assert not session.csrf_matches(session.csrf[:-1] + last)  # same length, one character off


def test_at_the_bound_the_longest_idle_session_is_signed_out() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S, most=3)
    first, second, third = (opened(sessions, START_MS + n) for n in range(3))
    sessions.find(first.id, START_MS + 10)  # first was used last: second is now the idlest
    assert sessions.make_room(START_MS + 20) == [second]
    fourth = opened(sessions, START_MS + 20)
    assert len(sessions) == 3
    assert sessions.find(second.id, START_MS + 21) is None
    assert {s.id for s in (first, third, fourth)} == {
        s.id for s in (first, third, fourth) if sessions.find(s.id, START_MS + 21)
    }


def test_a_sweep_ends_expired_sessions_that_nobody_asks_for() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    for n in range(10):
        opened(sessions, START_MS + n)
    kept = opened(sessions, START_MS + IDLE_MS)
    assert len(sessions.sweep(START_MS + IDLE_MS + 9)) == 10
    assert len(sessions) == 1
    assert sessions.find(kept.id, START_MS + IDLE_MS + 10) is kept


# -- kept across a restart (#16) ------------------------------------------------------------


def test_a_restart_keeps_a_session_and_its_csrf_token_without_storing_the_identifier() -> None:
    before = Sessions(LIFETIME_S, IDLE_S)
    session = before.open("boris", Role.SUPERVISOR, "ru", START_MS, changed="2026-12-01T00:00:00.000Z")
    stored = [session.stored()]
    assert all(session.id not in str(record) for record in stored)  # only its hash is kept
    after = Sessions(LIFETIME_S, IDLE_S)
    assert after.restore(stored, START_MS + 1000) == []
    found = after.find(session.id, START_MS + 2000)
    assert found is not None
    assert (found.user, found.role, found.lang, found.changed) == ("boris", Role.SUPERVISOR, "ru", session.changed)
    assert found.csrf_matches(session.csrf)  # a form the browser holds from before the restart still works
    assert after.find("a-made-up-identifier", START_MS + 2000) is None


def test_a_restart_ends_what_expired_meanwhile_and_keeps_the_bound() -> None:
    before = Sessions(LIFETIME_S, IDLE_S)
    old = opened(before, START_MS)
    recent = [opened(before, START_MS + IDLE_MS - 10 + n) for n in range(3)]
    stored = [s.stored() for s in (old, *recent)]
    after = Sessions(LIFETIME_S, IDLE_S, most=2)
    ended = after.restore(stored, START_MS + IDLE_MS)
    # The expired one, and beyond the bound the least recently used of the rest.
    assert set(ended) == {old.key, recent[0].key}
    assert len(after) == 2
    assert after.find(recent[2].id, START_MS + IDLE_MS) is not None


def test_used_names_each_session_seen_since_it_was_last_kept_once() -> None:
    sessions = Sessions(LIFETIME_S, IDLE_S)
    first, second = opened(sessions), opened(sessions)
    assert set(sessions.used()) == set()  # opened is kept at once, by whoever opened it
    sessions.find(first.id, START_MS + 5)
    used = sessions.used()
    assert [(s, kept.seen_ms) for s, kept in used] == [(first, START_MS + 5)]
    assert sessions.used() == used, "not marked until the store has them (a failed write is tried again)"
    sessions.find(first.id, START_MS + 7)  # used again while the write was under way
    sessions.saved(used)
    assert [kept.seen_ms for _, kept in sessions.used()] == [START_MS + 7]
    assert sessions.find(second.id, START_MS + 6) is second
