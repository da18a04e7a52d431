"""Who may do what on the console. Pure: the routes ask ``may``; nothing else decides.

An auditor and an administrator see everything an operator sees, but neither sends nor
acknowledges: an acknowledgement is a signed statement that a person on watch has read the
message, and it must come from someone who stands the watch.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    COMMANDER = "commander"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class Action(enum.StrEnum):
    WATCH = "watch"  # the board, messages, outbox, transcript, evidence
    SEND = "send"
    ACKNOWLEDGE = "acknowledge"
    READ_AUDIT = "read_audit"  # the audit trail of the console
    LIST_ACCOUNTS = "list_accounts"
    CLOSE_ALARM = "close_alarm"  # a latched alarm (evidence of tampering): after looking into it
    MANAGE_ACCOUNTS = "manage_accounts"  # add, remove, lock, unlock, role, password, name and rank


_WATCH_STANDERS = frozenset({Action.WATCH, Action.SEND, Action.ACKNOWLEDGE})

ALLOWED: dict[Role, frozenset[Action]] = {
    Role.OPERATOR: _WATCH_STANDERS,
    Role.SUPERVISOR: _WATCH_STANDERS | {Action.READ_AUDIT, Action.CLOSE_ALARM},
    Role.COMMANDER: _WATCH_STANDERS | {Action.READ_AUDIT, Action.CLOSE_ALARM},
    Role.AUDITOR: frozenset({Action.WATCH, Action.READ_AUDIT}),
    Role.ADMINISTRATOR: frozenset({Action.WATCH, Action.READ_AUDIT, Action.LIST_ACCOUNTS, Action.MANAGE_ACCOUNTS}),
}


def may(role: Role, action: Action) -> bool:
    return action in ALLOWED[role]
