"""What the API and the console both show, as plain data: rows, messages, alarms, health.

The two surfaces sit side by side (``hotline.server`` mounts them) and never import each other;
what both render lives here, once.
"""

from hotline.views.cards import forms_view, peer_view
from hotline.views.declarations import COLUMNS as DECLARATION_COLUMNS
from hotline.views.declarations import declaration_item
from hotline.views.messages import message_view
from hotline.views.rows import (
    ack_item,
    alarm_item,
    b64,
    health_view,
    inbox_item,
    iso,
    outbox_item,
    state_tally,
    stored_alarm_item,
)

__all__ = [
    "DECLARATION_COLUMNS",
    "ack_item",
    "alarm_item",
    "b64",
    "declaration_item",
    "forms_view",
    "health_view",
    "inbox_item",
    "iso",
    "message_view",
    "outbox_item",
    "peer_view",
    "state_tally",
    "stored_alarm_item",
]
