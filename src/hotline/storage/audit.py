"""The console's audit trail: who did what, when, from where; one row per operator action.

Written through the same group-committed store as everything else, right after the action
itself and before the console answers, so an action the console reports as done is on record
durably (a crash between the two can lose the record, not the action); nothing here is ever
updated or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuditEntry:
    at_ms: int
    user: str  # the account name; "(unknown name)" for a failed sign-in under a name that is none
    role: str | None  # None when nobody was signed in (a failed sign-in)
    action: str  # sign-in, sign-in-failed, sign-out, send, acknowledge, evidence, language
    target: str | None = None  # the message serial, when the action concerns one
    detail: str | None = None
    address: str | None = None  # the browser's address as the console saw it
