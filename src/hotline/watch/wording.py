"""How an alarm reads, in English and in Russian (pure).

Each alarm carries plain facts (``Alarm.facts``); its text is made from them in the reader's
language at the moment it is read, from the forms' catalogue, so that the board, the command
line and the alarm hook say the same thing and a duration keeps counting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date, format_timedelta

from hotline.forms import precedence_name
from hotline.forms.i18n import N_, babel_locale, translations
from hotline.watch.alarms import Alarm, Kind
from hotline.watch.escalation import Level

TITLES = {
    Kind.PEER_UNREACHABLE: N_("Peer unreachable"),
    Kind.PATH_DOWN: N_("Path down"),
    Kind.URGENT_UNDELIVERED: N_("Urgent message not delivered"),
    Kind.LINK_TEST_FAILED: N_("Link test failed"),
    Kind.LINK_TEST_MISSING: N_("Link test missing"),
    Kind.CLOCK_SKEW: N_("Clocks disagree"),
    Kind.STORE_BEHIND: N_("OUR STORE IS BEHIND: SIGNING STOPPED"),
    Kind.PEER_STORE_BEHIND: N_("Peer's store is behind"),
    Kind.HOOK_FAILED: N_("Alarm hook failed"),
    Kind.SETTINGS_DIFFER: N_("The party's nodes run with different settings"),
    Kind.STANDBY_DOWN: N_("A standby node is not running"),
    Kind.CONSOLE_TROUBLE: N_("The console's HTTPS listener needs attention"),
    Kind.SUSPENDED: N_("Traffic suspended"),
    Kind.REMOVED_BY_PEER: N_("The peer removed us"),
    Kind.NUMBERING_REFUSED: N_("Numbering refused by the peer"),
    Kind.SERIAL_REUSED: N_("Serial used twice by the peer"),
    Kind.EQUIVOCATION: N_("TRANSCRIPT EQUIVOCATION"),
    Kind.ALLEGED_EQUIVOCATION: N_("Unproven equivocation claim"),
    Kind.ROTATION_REFUSED: N_("KEY ROTATION REFUSED"),
    Kind.RESTORE_LOSSES: N_("Restored from a backup with losses"),
    Kind.DECLARATION_DUE: N_("Our declaration is overdue"),
    Kind.DECLARATION_MISSING: N_("A peer's declaration is overdue"),
}
CALLS_FOR = {
    Level.DUTY_OFFICER: N_("duty officer"),
    Level.SUPERVISOR: N_("supervisor"),
    Level.COMMANDER: N_("commander"),
}


_CENTURY_MS = 100 * 365 * 86_400_000


def title(alarm: Alarm, lang: str) -> str:
    return translations(lang).gettext(TITLES[alarm.kind])


def calls_for(level: Level, lang: str) -> str:
    return translations(lang).gettext(CALLS_FOR[level])


def duration(ms: int, lang: str) -> str:
    """A length of time as people say it: "45 seconds", "3 минуты"."""
    # Clamped to a century: a peer's absurd clock must not make an alarm unreadable.
    ms = min(abs(ms), _CENTURY_MS)
    return format_timedelta(dt.timedelta(milliseconds=ms), locale=babel_locale(lang), threshold=1.5)


def utc(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def iso(ms: int) -> str:
    """A time as JSON carries it (the API, the hook): UTC ISO 8601 to the millisecond."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def summary(alarm: Alarm, lang: str, now_ms: int) -> str:
    """What the alarm says, whole, in ``lang``; durations counted to ``now_ms``."""
    _ = translations(lang).gettext
    facts = alarm.facts
    peer = alarm.peer or ""
    text = _TEXTS[alarm.kind](_Reading(_, facts, peer, lang, now_ms, alarm))
    if alarm.count > 1:
        text += " " + _("Seen {count} times.").format(count=alarm.count)
    return text


Gettext = Callable[[str], str]


@dataclass(frozen=True)
class _Reading:
    """What every alarm's text is made from."""

    gettext: Gettext
    facts: Any
    peer: str
    lang: str
    now_ms: int
    alarm: Alarm

    def since(self) -> str:
        return duration(self.now_ms - self.alarm.since_ms, self.lang)


def _unreachable(r: _Reading) -> str:
    return r.gettext("No link to {peer} for {duration}: no path connects, so nothing is sent or received.").format(
        peer=r.peer, duration=r.since()
    )


def _path_down(r: _Reading) -> str:
    return r.gettext(
        "Path {path} to {peer} ({address}) has been down for {duration}; the other paths carry the traffic."
    ).format(path=r.facts["path"], peer=r.peer, address=r.facts.get("address") or "?", duration=r.since())


def _undelivered(r: _Reading) -> str:
    return r.gettext(
        "{serial} ({precedence}) has waited {duration} for {peer}'s receipt;"
        " urgent messages to {peer} not delivered: {count}."
    ).format(
        serial=r.facts["oldest"],
        precedence=precedence_name(r.facts["precedence"], r.lang),
        peer=r.peer,
        duration=r.since(),
        count=r.facts["count"],
    )


def _link_test_failed(r: _Reading) -> str:
    return r.gettext("The link test sent to {peer} at {time} was not answered.").format(
        peer=r.peer, time=utc(r.facts["sent_ms"])
    )


def _link_test_missing(r: _Reading) -> str:
    return r.gettext(
        "No link test from {peer} since {time}, though the link is up: {peer}'s node may have stopped them."
    ).format(peer=r.peer, time=utc(r.alarm.since_ms))


def _clock(r: _Reading) -> str:
    _ = r.gettext
    skew = int(r.facts["skew_ms"])
    text = (
        _("{peer}'s clock is {duration} ahead of ours.") if skew > 0 else _("{peer}'s clock is {duration} behind ours.")
    )
    text = text.format(peer=r.peer, duration=duration(skew, r.lang))
    if r.facts.get("serial"):
        text += " " + _("{serial} is dated ahead of our clock.").format(serial=r.facts["serial"])
    return text + " " + _("Check the time service on both nodes: deadlines and records depend on it.")


def _store_behind(r: _Reading) -> str:
    return r.gettext(
        "{peer} already holds our messages up to sequence number {held}, but our store would sign {ours} next:"
        " it was restored from an older copy or lost its last writes. Nothing more is signed to {peer}, so that"
        " no number is used twice. See the operations guide, 'A store behind its peer'."
    ).format(peer=r.peer, held=int(r.facts["expects"]) - 1, ours=r.facts["ours"])


def _peer_store_behind(r: _Reading) -> str:
    return r.gettext(
        "{peer}'s store is behind: it would send sequence number {sends} next, but we already hold its messages"
        " up to {held}. Tell {peer}'s watch: its node must not sign to us until it recovers."
    ).format(peer=r.peer, sends=r.facts["sends"], held=int(r.facts["expected"]) - 1)


def _hook_failed(r: _Reading) -> str:
    return r.gettext("The alarm hook failed ({error}): alarms reach only this screen and the log.").format(
        error=r.facts["error"]
    )


def _settings_differ(r: _Reading) -> str:
    return r.gettext(
        "Node {nodes} of this party runs with other settings ({sections}) than this node: after a takeover,"
        " deadlines and alarms would change. Make config.toml alike on every node."
    ).format(nodes=r.facts["nodes"], sections=r.facts["sections"])


def _standby_down(r: _Reading) -> str:
    return r.gettext(
        "Node {nodes} of this party is not connected to the party's database: if this node fails, no node takes over."
    ).format(nodes=r.facts["nodes"])


def _console_trouble(r: _Reading) -> str:
    if r.facts.get("what") == "failed":
        return r.gettext(
            "The console's HTTPS listener failed ({error}): the watch floor's browsers cannot reach the console."
            " The node and its loopback console go on; restart the node."
        ).format(error=r.facts.get("error", "?"))
    return r.gettext(
        "The console's certificate ends on {date} ({days} days left): browsers will refuse the console then."
        " Renew it, or remove console.crt and console.key to have a new one made, and restart the node."
    ).format(date=r.facts.get("not_after", "?"), days=r.facts.get("days", "?"))


def _suspended(r: _Reading) -> str:
    if r.facts.get("by") == "peer":
        return r.gettext(
            "{peer} has suspended traffic with us: it takes nothing from us and sends nothing until it resumes."
            " Our messages to {peer} wait in the queue; use the telephone for anything urgent."
        ).format(peer=r.peer)
    text = r.gettext(
        "Traffic with {peer} is suspended here (by {by}): nothing is sent to {peer} or taken from it, and {peer}'s"
        " board says so. Messages to {peer} wait in the queue. Resume with 'hotline peer resume {peer}'."
    ).format(peer=r.peer, by=r.facts.get("by_name", "?"))
    remark = r.facts.get("remark")
    return f"{text} {r.gettext('Remark: {remark}').format(remark=remark)}" if remark else text


def _removed_by_peer(r: _Reading) -> str:
    return r.gettext(
        "{peer} has removed us from its peers and refuses every connection from us: nothing can be exchanged"
        " until the two parties pair again. What was exchanged stays here, and its evidence still verifies."
    ).format(peer=r.peer)


def _numbering_refused(r: _Reading) -> str:
    return r.gettext("{peer} refused {serial}: {reason} ({detail}).").format(
        peer=r.peer,
        serial=r.alarm.subject or "?",
        reason=r.facts.get("reason", "?"),
        detail=r.facts.get("detail", ""),
    )


def _serial_reused(r: _Reading) -> str:
    return r.gettext(
        "{peer} signed a second, different message under serial {serial}; it was refused and is kept as evidence."
    ).format(peer=r.peer, serial=r.alarm.subject or "?")


def _equivocation(r: _Reading) -> str:
    _ = r.gettext
    if r.facts.get("ours"):
        text = _("Our own transcript contradicts a checkpoint we signed, as {witness} proved: {reason}.")
    else:
        text = _("{witness}'s transcript contradicts a checkpoint we cosigned: {reason}.")
    text = text.format(witness=r.peer, reason=r.facts.get("reason", "?"))
    return text + " " + _("Both signed checkpoints are kept; keep both stores untouched.")


def _rotation_refused(r: _Reading) -> str:
    if r.facts.get("ours"):
        return r.gettext(
            "{peer} refused our key rotation ({reason}: {detail}): the rotation cannot end, and our old key stays"
            " in use for {peer}. Call its watch, and check that it pinned our current card."
        ).format(peer=r.peer, reason=r.facts.get("reason", "?"), detail=r.facts.get("detail", ""))
    return r.gettext(
        "{peer} sent a key rotation that failed a check ({reason}: {detail}); its keys are unchanged. If {peer}"
        " did not mean to change keys, someone holds its current signing key: call its watch by telephone."
    ).format(peer=r.peer, reason=r.facts.get("reason", "?"), detail=r.facts.get("detail", ""))


def _restore_losses(r: _Reading) -> str:
    if not r.alarm.peer:  # ours: no peer's name on it
        return r.gettext(
            "Our store was restored from a backup and could not get everything back from the peers: {report}"
            " Settle what is missing with the peers' watches, then close this alarm with a remark."
        ).format(report=r.facts.get("report", ""))
    return r.gettext(
        "{peer} was restored from a backup and could not get everything back from us: {report}"
        " Settle what is missing with its watch, then close this alarm with a remark."
    ).format(peer=r.peer, report=r.facts.get("report", ""))


def _declaration(r: _Reading) -> str:
    locale = babel_locale(r.lang)
    as_of = format_date(dt.date.fromisoformat(r.facts["as_of"]), "long", locale=locale)
    due = format_date(dt.date.fromisoformat(r.facts["last_day"]), "long", locale=locale)
    if r.alarm.kind is Kind.DECLARATION_DUE:
        text = r.gettext(
            "Our declaration as of {as_of} was due to {peer} by {due} and has not been sent."
            " Send it (form: strategic offensive arms data), or tell {peer}'s watch when it will come."
        )
    else:
        text = r.gettext(
            "{peer}'s declaration as of {as_of} was due by {due} and has not arrived. Ask its watch when it will come."
        )
    return text.format(peer=r.peer, as_of=as_of, due=due)


def _alleged(r: _Reading) -> str:
    return r.gettext(
        "{peer} claims our transcript contradicts what it cosigned ({reason}) but sent no checkpoint signed by us"
        " that shows it. Check our log with 'hotline log audit'; if it is consistent, close this alarm with a remark."
    ).format(peer=r.peer, reason=r.facts.get("reason", "?"))


_TEXTS: dict[Kind, Callable[[_Reading], str]] = {
    Kind.PEER_UNREACHABLE: _unreachable,
    Kind.PATH_DOWN: _path_down,
    Kind.URGENT_UNDELIVERED: _undelivered,
    Kind.LINK_TEST_FAILED: _link_test_failed,
    Kind.LINK_TEST_MISSING: _link_test_missing,
    Kind.CLOCK_SKEW: _clock,
    Kind.STORE_BEHIND: _store_behind,
    Kind.PEER_STORE_BEHIND: _peer_store_behind,
    Kind.HOOK_FAILED: _hook_failed,
    Kind.SETTINGS_DIFFER: _settings_differ,
    Kind.STANDBY_DOWN: _standby_down,
    Kind.CONSOLE_TROUBLE: _console_trouble,
    Kind.SUSPENDED: _suspended,
    Kind.REMOVED_BY_PEER: _removed_by_peer,
    Kind.NUMBERING_REFUSED: _numbering_refused,
    Kind.SERIAL_REUSED: _serial_reused,
    Kind.EQUIVOCATION: _equivocation,
    Kind.ALLEGED_EQUIVOCATION: _alleged,
    Kind.ROTATION_REFUSED: _rotation_refused,
    Kind.RESTORE_LOSSES: _restore_losses,
    Kind.DECLARATION_DUE: _declaration,
    Kind.DECLARATION_MISSING: _declaration,
}
