"""The board's order for many peers: what needs the watch first, the quiet ones by name."""

from hotline.watch.alarms import Alarm, Kind
from hotline.watch.attention import attention
from hotline.watch.escalation import Level


def alarm(kind: Kind, peer: str | None, level: Level = Level.DUTY_OFFICER) -> Alarm:
    return Alarm(kind=kind, peer=peer, subject=None, level=level, since_ms=0)


def test_peers_are_ordered_by_what_they_ask_of_the_watch() -> None:
    alarms = [
        alarm(Kind.PEER_UNREACHABLE, "DOWN"),
        alarm(Kind.CLOCK_SKEW, "SKEWED", Level.SUPERVISOR),
        alarm(Kind.PATH_DOWN, "ONEPATH"),
        alarm(Kind.HOOK_FAILED, None),  # about no peer: it moves none of them
    ]
    peers = [
        attention("QUIET_B", False, alarms, (0, 0, 0), 0),
        attention("QUIET_A", False, alarms, (0, 0, 0), 0),
        attention("OWING", False, alarms, (3, 0, 0), 0),
        attention("LATE", False, alarms, (1, 0, 1), 0),
        attention("ONEPATH", False, alarms, (0, 0, 0), 0),
        attention("SKEWED", False, alarms, (0, 0, 0), 0),
        attention("DOWN", True, alarms, (0, 0, 0), 2),
        attention("BACKLOG", False, alarms, (0, 0, 0), 5),
        attention("FRESH_DOWN", True, alarms, (0, 0, 0), 0),  # down, no alarm yet (within the grace)
    ]
    order = [p.peer for p in sorted(peers, key=lambda p: p.order())]
    assert order == [
        "DOWN",  # the hotline to it is down, and said so: the loudest kind of alarm
        "FRESH_DOWN",  # down, its alarm not raised yet
        "SKEWED",  # an alarm that calls for the supervisor
        "ONEPATH",  # one for the duty officer
        "LATE",  # an acknowledgement overdue
        "OWING",  # three outstanding
        "BACKLOG",  # messages waiting to go
        "QUIET_A",  # the quiet ones by name
        "QUIET_B",
    ]


def test_a_peer_s_view_says_why_it_is_where_it_is() -> None:
    down = attention("DOWN", True, [alarm(Kind.PEER_UNREACHABLE, "DOWN")], (2, 1, 1), 4)
    assert down.view() == {
        "quiet": False,
        "down": True,
        "alarms": 1,
        "calls_for": "duty_officer",
        "they_owe": 2,
        "we_owe": 1,
        "overdue": 1,
    }
    quiet = attention("QUIET", False, [alarm(Kind.PEER_UNREACHABLE, "DOWN")], (0, 0, 0), 0)
    assert quiet.quiet
    assert quiet.view()["alarms"] == 0


def test_an_escalated_acknowledgement_counts_as_what_it_calls_for() -> None:
    """Review: a FLASH overdue at the commander sorted below a peer with one path down."""
    overdue = attention("LATE", False, [], (1, 0, 1), 0, Level.COMMANDER)
    one_path = attention("ONEPATH", False, [alarm(Kind.PATH_DOWN, "ONEPATH")], (0, 0, 0), 0)
    assert [p.peer for p in sorted([one_path, overdue], key=lambda p: p.order())] == ["LATE", "ONEPATH"]
    assert overdue.view()["calls_for"] == "commander"
    assert overdue.view()["alarms"] == 0
