"""How an operator reads the links to one peer: which lanes are linked, and each path's state."""

from __future__ import annotations

from typing import Any

from hotline.node.channel import Channel, Routes
from hotline.protocol import Lane


def path_views(channel: Channel, mono: float, now_ms: int) -> list[dict[str, Any]]:
    """Each path to a peer as an operator reads it: up or down, round trip, last contact,
    what it carries, how often it fell."""
    routes = channel.routes(mono)
    addresses = channel.peer.addresses

    def wall(moment: float | None) -> int | None:
        return None if moment is None else now_ms - round((mono - moment) * 1000)

    views = []
    for path in channel.paths.paths:
        carries = [lane.value for lane in Lane if _carries(routes, path.index, lane)]
        probed = channel.links.get((path.index, Lane.URGENT))  # its probes, on its current link
        # Last contact: the latest bytes on any of the path's links (the path table notes only
        # when a link came up or was heard again after silence, which a healthy path never is).
        heard = [path.last_heard] if path.last_heard is not None else []
        heard += [link.session.last_received for (index, _), link in channel.links.items() if index == path.index]
        views.append(
            {
                "path": path.index + 1,  # as operators count them: the first advertised is 1
                "address": addresses[path.index] if path.index < len(addresses) else None,
                "up": path.up,
                "lanes": {lane.value: lane in path.links for lane in Lane},
                "carries": carries,
                "rtt_ms": None if path.srtt is None or not path.up else round(path.srtt * 1000, 3),
                "probe_ms": round(channel.paths.probe_interval(path.index) * 1000),
                "last_contact_ms": wall(max(heard, default=None)),
                "down_since_ms": None if path.up else wall(path.went_down),
                "downs": path.downs,
                "probes_sent": probed.session.pings_sent if probed else 0,
                "probes_answered": probed.session.pongs_received if probed else 0,
                "envelopes_out": path.envelopes_out,
                "bytes_out": path.bytes_out,
            }
        )
    return views


def last_contact(channel: Channel, mono: float, now_ms: int) -> int | None:
    """When we last heard from the peer (wall milliseconds): an event of its links, or any
    bytes on them (a ping answered makes no event at the end that answers it, and the peer is
    no less heard)."""
    heard = [now_ms - round((mono - link.session.last_received) * 1000) for link in channel.links.values()]
    if channel.last_contact_ms is not None:
        heard.append(channel.last_contact_ms)
    return max(heard, default=None)


def lanes_linked(channel: Channel) -> dict[str, bool]:
    """Which lanes have a link on some path."""
    return {lane.value: any(linked == lane for _, linked in channel.links) for lane in Lane}


def _carries(routes: Routes, path: int, lane: Lane) -> bool:
    if lane is Lane.ORDINARY:
        return routes.ordinary is not None and routes.ordinary.path == path
    return any(link.path == path for link in routes.urgent)
