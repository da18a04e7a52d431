"""``/metrics``: the node's health in the Prometheus text format, for a monitoring system that
pages someone when the watch floor cannot see.

Each scrape reads the node's state as it is at that moment (nothing is counted on the side, so
nothing can drift from what the console shows): the same alarms the board shows, the links, the
queues, the transcript's last checkpoint. The desk's ``readings`` is the thin part that reads the
node; ``exposition`` is pure and turns a snapshot into the text format with prometheus-client.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from hotline import __version__
from hotline.node import Snapshot
from hotline.watch import Level

if TYPE_CHECKING:
    from prometheus_client import Metric

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def exposition(
    snap: Snapshot, refused: Mapping[str, int] | None = None, taken: Mapping[str, int] | None = None
) -> bytes:
    """The snapshot in the Prometheus text exposition format, with what the front door of the
    API and console refused (by cause) and what of its bounds is taken now (``hotline.front``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(snap, refused or {}, taken or {}))
    return generate_latest(registry)


class _Collector(Collector):
    def __init__(self, snap: Snapshot, refused: Mapping[str, int], taken: Mapping[str, int]) -> None:
        self.snap = snap
        self.refused = refused
        self.taken = taken

    def collect(self) -> Iterator[Metric]:
        snap = self.snap
        yield InfoMetricFamily(
            "hotline_node", "This node's party and version.", {"party": snap.party, "version": __version__}
        )
        yield GaugeMetricFamily("hotline_node_stopping", "1 while the node is stopping.", value=int(snap.stopping))
        role = GaugeMetricFamily(
            "hotline_role", "1 for this node's role: active or standby.", labels=["party", "node", "role"]
        )
        role.add_metric([snap.party, str(snap.node), "active"], 1)
        yield role
        yield GaugeMetricFamily(
            "hotline_lease_epoch",
            "The lease epoch this node is active under (0: a store of its own).",
            value=snap.epoch,
        )
        yield from _peers(snap)
        yield from _alarms(snap)
        yield from _transcript(snap)
        yield from _port(snap)
        traffic = CounterMetricFamily(
            "hotline_peer_messages",
            "Since the node started: our messages the peer receipted (delivered) or rejected, and the"
            " peer's messages we refused, and of those the ones not kept as evidence (beyond the day's"
            " bound per peer).",
            labels=["peer", "outcome"],
        )
        for peer in snap.peers:
            for outcome in ("delivered", "rejected", "refused", "refused-not-kept"):
                traffic.add_metric([peer.party, outcome], snap.traffic.get((peer.party, outcome), 0))
        yield traffic
        unacknowledged = GaugeMetricFamily(
            "hotline_oldest_unacknowledged_age_seconds",
            "How long the oldest message awaiting a person's acknowledgement has waited: received"
            " (we must acknowledge) or sent (the peer must).",
            labels=["side"],
        )
        for side in ("receiver", "sender"):
            since = snap.oldest_unacknowledged_ms.get(side)
            unacknowledged.add_metric([side], 0.0 if since is None else max(0, snap.now_ms - since) / 1000)
        yield unacknowledged
        if snap.hook:
            outcomes = CounterMetricFamily(
                "hotline_alarm_hook_events", "Alarm hook events since the node started, by outcome.", labels=["outcome"]
            )
            for outcome, count in snap.hook.items():
                outcomes.add_metric([outcome], count)
            yield outcomes
        yield from _front(self.refused, self.taken)


def _front(refused: Mapping[str, int], taken: Mapping[str, int]) -> Iterator[Metric]:
    refusals = CounterMetricFamily(
        "hotline_front_refusals",
        "Since the node started: requests and connections of the API and console refused at a bound"
        " (docs/operations.md, Bounds), by cause.",
        labels=["cause"],
    )
    for cause, count in sorted(refused.items()):
        refusals.add_metric([cause], count)
    in_use = GaugeMetricFamily(
        "hotline_front_in_use", "What of the API's and console's bounds is taken now.", labels=["what"]
    )
    for what, count in sorted(taken.items()):
        in_use.add_metric([what], count)
    yield from (refusals, in_use)


def _peers(snap: Snapshot) -> Iterator[Metric]:
    lane_up = GaugeMetricFamily(
        "hotline_peer_lane_up", "1 while the lane's link to the peer is up.", labels=["peer", "lane"]
    )
    reachable = GaugeMetricFamily(
        "hotline_peer_reachable", "1 while traffic can flow to the peer (some path is up).", labels=["peer"]
    )
    path_up = GaugeMetricFamily(
        "hotline_peer_path_up", "1 while the path (numbered from 1, as advertised) is up.", labels=["peer", "path"]
    )
    path_rtt = GaugeMetricFamily(
        "hotline_peer_path_rtt_seconds", "The path's smoothed round trip, from its probes.", labels=["peer", "path"]
    )
    rtt = GaugeMetricFamily("hotline_peer_rtt_seconds", "The last measured round trip to the peer.", labels=["peer"])
    contact = GaugeMetricFamily(
        "hotline_peer_last_contact_timestamp_seconds", "When the peer was last heard from (Unix time).", labels=["peer"]
    )
    queued = GaugeMetricFamily(
        "hotline_peer_queued_messages", "Messages waiting to be sent to the peer.", labels=["peer"]
    )
    in_flight = GaugeMetricFamily(
        "hotline_peer_in_flight_messages", "Messages sent to the peer and not yet receipted.", labels=["peer"]
    )
    urgent = GaugeMetricFamily(
        "hotline_peer_undelivered_urgent_messages", "FLASH and IMMEDIATE messages without a receipt.", labels=["peer"]
    )
    oldest = GaugeMetricFamily(
        "hotline_peer_oldest_undelivered_urgent_age_seconds",
        "How long the oldest urgent message without a receipt has waited.",
        labels=["peer"],
    )
    skew = GaugeMetricFamily(
        "hotline_peer_clock_skew_seconds", "The peer's clock minus ours, as last measured.", labels=["peer"]
    )
    stopped = GaugeMetricFamily(
        "hotline_peer_signing_stopped",
        "1 while nothing is signed to the peer (our store is behind it).",
        labels=["peer"],
    )
    for peer in snap.peers:
        for lane, up in peer.lanes.items():
            lane_up.add_metric([peer.party, lane], int(up))
        reachable.add_metric([peer.party], int(peer.connected))
        for number, (up, srtt) in peer.paths.items():
            path_up.add_metric([peer.party, str(number)], int(up))
            if srtt is not None:
                path_rtt.add_metric([peer.party, str(number)], srtt)
        if peer.rtt_s is not None:
            rtt.add_metric([peer.party], peer.rtt_s)
        if peer.last_contact_ms is not None:
            contact.add_metric([peer.party], peer.last_contact_ms / 1000)
        queued.add_metric([peer.party], peer.queued)
        in_flight.add_metric([peer.party], peer.in_flight)
        urgent.add_metric([peer.party], peer.undelivered_urgent)
        age = 0.0 if peer.oldest_undelivered_ms is None else max(0, snap.now_ms - peer.oldest_undelivered_ms) / 1000
        oldest.add_metric([peer.party], age)
        if peer.skew_ms is not None:
            skew.add_metric([peer.party], peer.skew_ms / 1000)
        stopped.add_metric([peer.party], int(peer.signing_stopped))
    yield from (lane_up, reachable, path_up, path_rtt, rtt, contact, queued, in_flight, urgent, oldest, skew, stopped)


def _alarms(snap: Snapshot) -> Iterator[Metric]:
    standing = GaugeMetricFamily(
        "hotline_alarm",
        "One series per standing alarm about the channel itself (value 1), as the board shows it.",
        labels=["kind", "peer", "level", "id"],
    )
    for alarm in snap.alarms:  # the id keeps two latched alarms of one kind apart
        standing.add_metric([alarm.kind.value, alarm.peer or "", alarm.level.label, alarm.key], 1)
    by_level = GaugeMetricFamily("hotline_alarms_open", "Standing alarms, by whom they call for.", labels=["level"])
    for level in Level:
        by_level.add_metric([level.label], sum(1 for a in snap.alarms if a.level is level))
    escalations = GaugeMetricFamily(
        "hotline_escalations_open",
        "Messages a person has yet to acknowledge, past a stage of their deadline.",
        labels=["side", "stage", "level"],
    )
    counted: dict[tuple[str, str, str], int] = {}
    for alert in snap.alerts:
        key = (alert.side.value, alert.stage.value, alert.level.label)
        counted[key] = counted.get(key, 0) + 1
    for key, count in sorted(counted.items()):
        escalations.add_metric(list(key), count)
    yield from (standing, by_level, escalations)


def _transcript(snap: Snapshot) -> Iterator[Metric]:
    if snap.transcript_size is None or snap.checkpoint_ms is None:
        return
    yield GaugeMetricFamily(
        "hotline_transcript_checkpoint_size",
        "Entries in our log's latest signed checkpoint.",
        value=snap.transcript_size,
    )
    yield GaugeMetricFamily(
        "hotline_transcript_checkpoint_age_seconds",
        "How long ago our log's latest checkpoint was signed.",
        value=max(0, snap.now_ms - snap.checkpoint_ms) / 1000,
    )
    yield GaugeMetricFamily(
        "hotline_transcript_checkpoint_cosignatures", "Witnesses that cosigned it.", value=len(snap.cosigned_by)
    )


def _port(snap: Snapshot) -> Iterator[Metric]:
    port = snap.port
    if port is None:
        return
    yield GaugeMetricFamily(
        "hotline_peer_handshakes",
        "Connections to the peer port whose TLS handshake is under way.",
        value=port.handshakes,
    )
    yield GaugeMetricFamily(
        "hotline_peer_handshakes_limit",
        "[bounds] peer_handshakes: handshakes under way at most.",
        value=port.handshakes_limit,
    )
    refused = CounterMetricFamily(
        "hotline_peer_port_refused",
        "Since the node started: connections to the peer port that ended before proving a pinned"
        " certificate, by cause (busy, source, evicted, timeout, handshake, unpinned, accept).",
        labels=["reason"],
    )
    for reason, count in sorted(port.refused.items()):
        refused.add_metric([reason], count)
    yield refused
    if port.handles_open is not None:
        yield GaugeMetricFamily("hotline_file_handles_open", "File handles the node holds.", value=port.handles_open)
    if port.handles_limit is not None and port.handles_needed is not None:
        yield GaugeMetricFamily(
            "hotline_file_handles_limit", "The node's limit on file handles.", value=port.handles_limit
        )
        yield GaugeMetricFamily(
            "hotline_file_handles_needed",
            "File handles the bounds need; above the limit, a bound may not hold.",
            value=port.handles_needed,
        )
