"""The node: configuration, TLS, links, and the service that joins core, store and network.

This package's face is what the surfaces (API, console, CLI, demo) may use: they import from
``hotline.node`` itself, never from its modules (``tests/unit/test_architecture.py``).
"""

from hotline.node.card import IdentityCard, check_fingerprint, parse_address, vet_new_peer
from hotline.node.card_list import parse_card_list
from hotline.node.clock import SYSTEM_CLOCK, Clock, SystemClock, wall_ms
from hotline.node.config import NodeConfig, init_node, load_config
from hotline.node.console_tls import (
    certificate_trouble,
    check_console_files,
    console_certificate,
    console_tls_context,
    make_console_certificate,
)
from hotline.node.desk import Desk, Message
from hotline.node.doorway import Doorway
from hotline.node.holds import refusal as peer_state_refusal
from hotline.node.intake import EVERY_PARTY, SendError, SendRequest, several
from hotline.node.joining import join_node
from hotline.node.logs import OncePerCause
from hotline.node.logs import configure as configure_logging
from hotline.node.own_keys import commit_next_key, replace_own_keys
from hotline.node.party_settings import CHECK_EVERY_S as SETTINGS_CHECK_EVERY_S
from hotline.node.party_settings import record_settings
from hotline.node.readings import PeerSnapshot, PortReading, Snapshot
from hotline.node.recovery import Outcome as RecoveryOutcome
from hotline.node.recovery import recover as recover_store
from hotline.node.service import Node
from hotline.node.standby import Standby, open_standby
from hotline.node.tls import limit_tls_reads

__all__ = [
    "EVERY_PARTY",
    "SETTINGS_CHECK_EVERY_S",
    "SYSTEM_CLOCK",
    "Clock",
    "Desk",
    "Doorway",
    "IdentityCard",
    "Message",
    "Node",
    "NodeConfig",
    "OncePerCause",
    "PeerSnapshot",
    "PortReading",
    "RecoveryOutcome",
    "SendError",
    "SendRequest",
    "Snapshot",
    "Standby",
    "SystemClock",
    "certificate_trouble",
    "check_console_files",
    "check_fingerprint",
    "commit_next_key",
    "configure_logging",
    "console_certificate",
    "console_tls_context",
    "init_node",
    "join_node",
    "limit_tls_reads",
    "load_config",
    "make_console_certificate",
    "open_standby",
    "parse_address",
    "parse_card_list",
    "peer_state_refusal",
    "record_settings",
    "recover_store",
    "replace_own_keys",
    "several",
    "vet_new_peer",
    "wall_ms",
]
