"""What the node says when it refuses something, in the reader's language.

The node's refusals are English sentences with values in them ("unknown value 'x'; expected one
of ..."), written once where the check is made and read by the API's clients and the logs as
they are. On a console page they are read by an officer who may not read English: each kind of
sentence is recognised here and said again from the console's catalogue, with its values. A
sentence not recognised is shown as it is, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hotline.console.i18n import words
from hotline.forms.i18n import N_

# (the English sentence, as a pattern with named values; its msgid, with the same names)
SENTENCES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), m)
    for p, m in [
        (r"^line (?P<line>\d+): (?P<rest>.+)$", N_("line {line}: {rest}")),
        (r"^unknown value (?P<value>.+); expected one of (?P<expected>.+)$",
         N_("unknown value {value}; expected one of {expected}")),
        (r"^(?P<value>.+) is not a number$", N_("{value} is not a number")),
        (r"^(?P<number>\S+) has more than (?P<places>\d+) decimal places$",
         N_("{number} has more than {places} decimal places")),
        (r"^latitude (?P<number>\S+) is outside (?P<range>\S+)$", N_("latitude {number} is outside {range}")),
        (r"^longitude (?P<number>\S+) is outside (?P<range>\S+)$", N_("longitude {number} is outside {range}")),
        (r"^frequency (?P<number>\S+) is outside (?P<range>\S+)$", N_("frequency {number} is outside {range}")),
        (r"^(?P<value>.+) is not a UTC time such as 2026-11-24T06:00:00Z$",
         N_("{value} is not a UTC time such as 2026-11-24T06:00:00Z")),
        (r"^(?P<value>.+) is not a valid date and time$", N_("{value} is not a valid date and time")),
        (r"^(?P<value>.+) is not a valid date$", N_("{value} is not a valid date")),
        (r"^the password is too short: at least (?P<count>\d+) characters$",
         N_("the password is too short: at least {count} characters")),
        (r"^the password is too long: at most (?P<count>\d+) characters$",
         N_("the password is too long: at most {count} characters")),
        (r"^there is already an account (?P<name>'[^']*') \((?P<role>\w+)\)$",
         N_("there is already an account {name} ({role})")),
        (r"^there is no account (?P<name>'[^']*')$", N_("there is no account {name}")),
        (r"^(?P<name>'[^']*') is not a valid account name: .*$",
         N_("{name} is not a valid account name: 2-32 characters, lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter")),
        (r"^(?P<name>'[^']*') is not a display name: .*$",
         N_("{name} is not a display name: 1-64 printable characters, such as 'A. Petrov'")),
        (r"^(?P<serial>\S+) was already acknowledged by (?P<who>.+) at (?P<time>\S+)$",
         N_("{serial} was already acknowledged by {who} at {time}")),
        (r"^(?P<value>'[^']*') is not a pinned peer \(pinned: (?P<known>.+)\)$",
         N_("{value} is not a pinned peer (pinned: {known})")),
        (r"^(?P<parties>.+) named more than once$", N_("{parties} named more than once")),
        (r"^(?P<party>\S+) is this node's own party: .*$", N_("{party} is this node's own party")),
        (r"^(?P<party>\S+) was removed from this node's peers: nothing more is sent to it$",
         N_("{party} was removed from this node's peers: nothing more is sent to it")),
        (r"^(?P<party>\S+) only witnesses the transcripts; it takes no messages$",
         N_("{party} only witnesses the transcripts; it takes no messages")),
    ]
]  # fmt: skip
PLAIN = [
    N_("must not be blank"),
    N_("the window ends before it starts"),
    N_("the window is empty: it ends when it starts"),
    N_("must be a UTC time in whole seconds"),
    N_("choose at least one party"),
    N_("a reply answers one party's message and goes to that party alone"),
]


# pydantic's own words for the checks it makes itself (a whole number, a bound, a length), said
# as the node says its own: no page shows "Input should be ..." to a watch officer.
PYDANTIC: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), m)
    for p, m in [
        (r"^Input should be a valid integer.*$", N_("must be a whole number")),
        (r"^Input should be a valid (?:number|decimal).*$", N_("must be a number")),
        (r"^Input should be greater than or equal to (?P<n>\S+)$", N_("must be {n} or more")),
        (r"^Input should be less than or equal to (?P<n>\S+)$", N_("must be {n} or less")),
        (r"^Input should be greater than (?P<n>\S+)$", N_("must be more than {n}")),
        (r"^String should have at most (?P<n>\d+) characters?$", N_("must be at most {n} characters")),
        (r"^String should have at least (?P<n>\d+) characters?$", N_("must be at least {n} characters")),
        (r"^List should have at least (?P<n>\d+) items?.*$", N_("needs at least {n} entries")),
        (r"^List should have at most (?P<n>\d+) items?.*$", N_("takes at most {n} entries")),
        (r"^Input should be a valid string$", N_("must be text")),
        (r"^Field required$", N_("Required.")),
        (r"^Extra inputs are not permitted$", N_("is not a field of this form")),
    ]
]  # fmt: skip


def explain(message: str, lang: str) -> str:
    """``message`` as the console says it in ``lang``: translated whole, or by its kind (in
    English only pydantic's own words are said again; the node's are English already)."""
    _: Callable[[str], str] = words(lang).gettext
    if lang != "en" and _(message) != message:
        return _(message)
    for pattern, msgid in PYDANTIC if lang == "en" else PYDANTIC + SENTENCES:
        found = pattern.match(message)
        if found:
            values = {k: explain(v, lang) if k == "rest" else v for k, v in found.groupdict().items()}
            return _(msgid).format(**values)
    return message
