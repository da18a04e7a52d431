"""Who may do what on the console."""

from __future__ import annotations

import pytest

from hotline.console.roles import ALLOWED, Action, Role, may

WATCH_STANDERS = (Role.OPERATOR, Role.SUPERVISOR, Role.COMMANDER)
OBSERVERS = (Role.AUDITOR, Role.ADMINISTRATOR)


def test_every_role_has_an_entry() -> None:
    assert set(ALLOWED) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_may_watch(role: Role) -> None:
    assert may(role, Action.WATCH)


@pytest.mark.parametrize("role", WATCH_STANDERS)
@pytest.mark.parametrize("action", [Action.SEND, Action.ACKNOWLEDGE])
def test_those_who_stand_the_watch_may_send_and_acknowledge(role: Role, action: Action) -> None:
    assert may(role, action)


@pytest.mark.parametrize("role", OBSERVERS)
@pytest.mark.parametrize("action", [Action.SEND, Action.ACKNOWLEDGE])
def test_auditors_and_administrators_neither_send_nor_acknowledge(role: Role, action: Action) -> None:
    assert not may(role, action)


@pytest.mark.parametrize("role", list(Role))
def test_only_the_administrator_lists_accounts(role: Role) -> None:
    assert may(role, Action.LIST_ACCOUNTS) is (role is Role.ADMINISTRATOR)


@pytest.mark.parametrize("role", list(Role))
def test_everyone_but_the_operator_reads_the_audit_trail(role: Role) -> None:
    assert may(role, Action.READ_AUDIT) is (role is not Role.OPERATOR)


def test_the_whole_table() -> None:
    # One place that says the whole policy, so that a widened role is noticed here.
    expected = {
        Role.OPERATOR: {Action.WATCH, Action.SEND, Action.ACKNOWLEDGE},
        Role.SUPERVISOR: {Action.WATCH, Action.SEND, Action.ACKNOWLEDGE, Action.READ_AUDIT, Action.CLOSE_ALARM},
        Role.COMMANDER: {Action.WATCH, Action.SEND, Action.ACKNOWLEDGE, Action.READ_AUDIT, Action.CLOSE_ALARM},
        Role.AUDITOR: {Action.WATCH, Action.READ_AUDIT},
        Role.ADMINISTRATOR: {Action.WATCH, Action.READ_AUDIT, Action.LIST_ACCOUNTS, Action.MANAGE_ACCOUNTS},
    }
    assert expected == ALLOWED


def test_roles_and_actions_are_spelt_as_stored() -> None:
    # The audit trail and the accounts file hold these values; renaming one breaks old records.
    assert [r.value for r in Role] == ["operator", "supervisor", "commander", "auditor", "administrator"]
    assert [a.value for a in Action] == [
        "watch",
        "send",
        "acknowledge",
        "read_audit",
        "list_accounts",
        "close_alarm",
        "manage_accounts",
    ]
