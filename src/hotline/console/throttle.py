"""How often a sign-in may be tried: per account name and per source address, and pure (the
caller passes the time in milliseconds).

The rules, for each key (an account name, a source address) on its own:

- ``free`` wrong passwords in a row cost nothing: people mistype;
- after that, each further try must wait twice as long as the one before (1 s, 2 s, 4 s...)
  after the last failure; a try before its time is refused at once, before any password is
  hashed, with how long to wait (a refused try holds no connection and costs no Argon2id);
- at ``lockout_after`` failures the key is locked for ``lockout_s`` seconds: every try is
  refused, the right password included, until the lock ends or ``hotline user unlock``
  lifts it (``forget``);
- while one try of a key is being checked, another of the same key is refused (so that a flood
  of parallel guesses is one guess at a time, not 64 hashes queued ahead of a real sign-in);
- a right password clears the account's record and the address's; a record left alone for
  ``lockout_s`` is forgotten.

Both keys, so that a flood from many addresses on one account locks the account, and one
address trying many accounts locks the address. Records are kept for any name tried, known or
not (the answer must not tell which names exist), at most ``MAX_RECORDS`` of them.
"""

from __future__ import annotations

from dataclasses import dataclass

Key = tuple[str, str]  # ("account", name) or ("address", ip)
MAX_RECORDS = 10_000
FIRST_DELAY_MS = 1000


@dataclass
class _Record:
    failures: int = 0
    last_ms: int = 0
    checking: bool = False

    def locked_until(self, after: int, lockout_ms: int) -> int | None:
        return self.last_ms + lockout_ms if self.failures >= after else None


@dataclass(frozen=True)
class Refusal:
    key: Key
    until_ms: int  # may try again from then
    locked: bool  # a lockout, not a delay


class SigninThrottle:
    def __init__(self, free: int, lockout_after: int, lockout_s: float) -> None:
        self.free = free
        self.lockout_after = lockout_after
        self.lockout_ms = int(lockout_s * 1000)
        self._records: dict[Key, _Record] = {}

    def begin(self, keys: tuple[Key, ...], now_ms: int) -> Refusal | None:
        """May a try with these keys be checked now? If so, it is marked as being checked until
        ``failed`` or ``succeeded``; if not, the refusal that lasts longest."""
        refusals = [r for key in keys if (r := self._refusal(key, now_ms)) is not None]
        if refusals:
            return max(refusals, key=lambda r: (r.locked, r.until_ms))
        for key in keys:
            self._record(key, now_ms).checking = True
        return None

    def failed(self, keys: tuple[Key, ...], now_ms: int) -> list[Key]:
        """A wrong password; the keys it locked."""
        locked = []
        for key in keys:
            record = self._record(key, now_ms)
            record.checking = False
            record.failures += 1
            record.last_ms = now_ms
            if record.failures == self.lockout_after:
                locked.append(key)
        return locked

    def succeeded(self, keys: tuple[Key, ...]) -> None:
        for key in keys:
            self._records.pop(key, None)

    def release(self, keys: tuple[Key, ...]) -> None:
        """The try ended without a verdict (the accounts file could not be read, say)."""
        for key in keys:
            if key in self._records:
                self._records[key].checking = False

    def forget(self, key: Key, before_ms: int) -> bool:
        """Lift a lock (``hotline user unlock``): forget the key's failures up to ``before_ms``;
        whether there were any."""
        record = self._records.get(key)
        if record is None or record.failures == 0 or record.last_ms > before_ms:
            return False
        del self._records[key]
        return True

    def _refusal(self, key: Key, now_ms: int) -> Refusal | None:
        record = self._records.get(key)
        if record is None:
            return None
        if record.checking:
            return Refusal(key, now_ms + FIRST_DELAY_MS, locked=False)
        until = record.locked_until(self.lockout_after, self.lockout_ms)
        if until is not None:
            return Refusal(key, until, locked=True) if now_ms < until else None
        if now_ms - record.last_ms >= self.lockout_ms:
            return None  # forgotten: the next failure starts afresh
        if record.failures >= self.free:
            due = record.last_ms + FIRST_DELAY_MS * 2 ** (record.failures - self.free)
            return Refusal(key, due, locked=False) if now_ms < due else None
        return None

    def _record(self, key: Key, now_ms: int) -> _Record:
        record = self._records.get(key)
        if record is not None:
            if not record.checking and now_ms - record.last_ms >= self.lockout_ms:
                record.failures = 0  # left alone that long, or a lock that has ended: afresh
            return record
        if len(self._records) >= MAX_RECORDS:
            self._prune(now_ms)
        record = self._records[key] = _Record(last_ms=now_ms)
        return record

    def _prune(self, now_ms: int) -> None:
        """Forget records left alone for ``lockout_ms``; if none, the oldest unlocked ones."""
        stale = [k for k, r in self._records.items() if not r.checking and now_ms - r.last_ms >= self.lockout_ms]
        if not stale:
            unlocked = [(r.last_ms, k) for k, r in self._records.items() if r.failures < self.lockout_after]
            stale = [k for _, k in sorted(unlocked)[: max(1, len(self._records) // 10)]]
        for key in stale:
            del self._records[key]

    def __len__(self) -> int:
        return len(self._records)
