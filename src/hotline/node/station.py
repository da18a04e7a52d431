"""What every part of a node shares, handed to each part instead of the node itself.

The parts (the watchkeeper, the lookout, the notary, the intake) each get a ``Station`` and the
few other collaborators they use, never a pointer back to the ``Node``: what a part can touch
is then written in its constructor, and a test can build one with a store and a clock alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hotline.node.bulletin import Bulletin
from hotline.node.clock import Clock
from hotline.storage import Store

if TYPE_CHECKING:
    from hotline.node.channel import Channel


@dataclass(frozen=True)
class Station:
    party: str  # who we are
    store: Store
    clock: Clock
    bulletin: Bulletin  # tells the console's open pages what changed
    channels: Mapping[str, Channel]  # the pinned peers, read-only here: only the node adds one
    stopped: asyncio.Event  # set once the node begins to stop
