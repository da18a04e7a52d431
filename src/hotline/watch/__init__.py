"""The watch: acknowledgement deadlines, escalation, and the watch's own schedule.

Pure code: times come in as milliseconds since the epoch, and nothing here reads a clock.
The node asks what is due now and when to ask again.
"""

from hotline.watch.deadlines import DEFAULT_DEADLINES, DeadlinePolicy, needs_acknowledgement
from hotline.watch.escalation import (
    Alert,
    Level,
    Outcome,
    Side,
    Stage,
    Tracked,
    Watch,
    current_alert,
    next_change,
    outcome,
)
from hotline.watch.schedule import next_watch_change, parse_watch_changes

__all__ = [
    "DEFAULT_DEADLINES",
    "Alert",
    "DeadlinePolicy",
    "Level",
    "Outcome",
    "Side",
    "Stage",
    "Tracked",
    "Watch",
    "current_alert",
    "needs_acknowledgement",
    "next_change",
    "next_watch_change",
    "outcome",
    "parse_watch_changes",
]
