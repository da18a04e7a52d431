"""The sign-in throttle: free tries, doubling delays, the lockout, per account and per address."""

from __future__ import annotations

from hotline.console.throttle import MAX_RECORDS, Key, SigninThrottle

T0 = 1_795_000_000_000
ALICE: Key = ("account", "alice")
HOME: Key = ("address", "127.0.0.1")
KEYS = (ALICE, HOME)


def fail(throttle: SigninThrottle, now_ms: int, keys: tuple[Key, ...] = KEYS) -> list[Key]:
    assert throttle.begin(keys, now_ms) is None
    return throttle.failed(keys, now_ms)


def test_free_failures_then_each_try_waits_twice_as_long_as_the_last() -> None:
    throttle = SigninThrottle(free=3, lockout_after=10, lockout_s=900)
    now = T0
    for _ in range(3):
        fail(throttle, now)  # mistypes: no wait
    waits = []
    for _ in range(6):
        refusal = throttle.begin(KEYS, now)
        assert refusal is not None
        assert not refusal.locked
        waits.append((refusal.until_ms - now) // 1000)
        now = refusal.until_ms - 1
        assert throttle.begin(KEYS, now) is not None  # not a millisecond early
        now += 1
        fail(throttle, now)
    assert waits == [1, 2, 4, 8, 16, 32]


def test_the_lockout_refuses_every_try_until_it_ends() -> None:
    throttle = SigninThrottle(free=1, lockout_after=3, lockout_s=900)
    now = T0
    assert fail(throttle, now) == []
    now += 1000
    assert fail(throttle, now) == []
    now += 2000
    assert fail(throttle, now) == [ALICE, HOME]  # the third locks both the name and the address
    refusal = throttle.begin(KEYS, now + 899_999)
    assert refusal is not None
    assert refusal.locked
    assert refusal.until_ms == now + 900_000
    assert throttle.begin(KEYS, now + 900_000) is None  # the lock has ended: afresh
    assert throttle.failed(KEYS, now + 900_000) == []


def test_a_flood_from_many_addresses_locks_the_account_and_one_address_on_many_names_locks_it() -> None:
    throttle = SigninThrottle(free=3, lockout_after=5, lockout_s=900)
    now = T0
    for n in range(5):  # one guess each from five addresses, on one account
        now += 100_000
        fail(throttle, now, (ALICE, ("address", f"10.0.0.{n}")))
    refusal = throttle.begin((ALICE, ("address", "10.9.9.9")), now + 1)
    assert refusal is not None
    assert refusal.locked
    assert refusal.key == ALICE
    assert throttle.begin((("account", "bob"), ("address", "10.9.9.9")), now + 1) is None  # others sign in
    throttle = SigninThrottle(free=3, lockout_after=5, lockout_s=900)
    for n in range(5):  # one address, a different name each time
        now += 100_000
        fail(throttle, now, (("account", f"user{n}"), HOME))
    refusal = throttle.begin((("account", "zoe"), HOME), now + 1)
    assert refusal is not None
    assert refusal.key == HOME


def test_one_try_at_a_time_per_key() -> None:
    throttle = SigninThrottle(free=3, lockout_after=10, lockout_s=900)
    assert throttle.begin(KEYS, T0) is None
    second = throttle.begin((ALICE, ("address", "10.0.0.1")), T0)  # a parallel guess on the same name
    assert second is not None
    assert not second.locked
    throttle.release(KEYS)
    assert throttle.begin(KEYS, T0) is None


def test_the_right_password_clears_and_unlock_forgets_only_earlier_failures() -> None:
    throttle = SigninThrottle(free=3, lockout_after=4, lockout_s=900)
    now = T0
    for n in range(3):
        fail(throttle, now + n)
    assert throttle.begin(KEYS, now + 10) is not None
    assert throttle.begin(KEYS, now + 5000) is None
    throttle.succeeded(KEYS)
    assert len(throttle) == 0
    for n in range(4):
        fail(throttle, now + 10_000 * (n + 1), (ALICE,))
    assert throttle.begin((ALICE,), now + 50_000) is not None
    assert throttle.forget(ALICE, before_ms=now + 39_999) is False  # written before the last failure
    assert throttle.forget(ALICE, before_ms=now + 50_000) is True
    assert throttle.begin((ALICE,), now + 50_001) is None


def test_failures_are_forgotten_after_a_quiet_while_and_records_are_bounded() -> None:
    throttle = SigninThrottle(free=1, lockout_after=5, lockout_s=60)
    fail(throttle, T0)
    fail(throttle, T0 + 1000)  # after its 1 s
    assert throttle.begin(KEYS, T0 + 59_000) is None  # the delay has passed
    throttle.failed(KEYS, T0 + 59_000)
    assert throttle.begin(KEYS, T0 + 119_000) is None  # a minute without a failure: afresh
    assert throttle.failed(KEYS, T0 + 119_000) == []
    for n in range(MAX_RECORDS + 50):
        fail(throttle, T0 + 200_000 + n, (("account", f"n{n}"),))
    assert len(throttle) <= MAX_RECORDS
