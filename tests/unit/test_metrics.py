"""/metrics: a snapshot of the node in the Prometheus text format (pure: no node runs here)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from hotline import __version__
from hotline.api.metrics import exposition
from hotline.node import PeerSnapshot, PortReading, Snapshot
from hotline.watch.alarms import Alarm, Kind
from hotline.watch.escalation import Level

NOW = 1_795_000_000_000


def _peer(**changes: object) -> PeerSnapshot:
    values: dict[str, object] = {
        "party": "GENSTAB",
        "lanes": {"urgent": True, "ordinary": False},
        "rtt_s": 0.004,
        "last_contact_ms": NOW - 2_000,
        "queued": 3,
        "in_flight": 2,
        "skew_ms": -1_500,
        "signing_stopped": False,
        "undelivered_urgent": 1,
        "oldest_undelivered_ms": NOW - 45_000,
        "connected": True,
        "paths": {1: (True, 0.0004), 2: (False, None)},
    }
    values.update(changes)
    return PeerSnapshot(**values)  # type: ignore[arg-type]


def _samples(snap: Snapshot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = exposition(snap).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_each_peer_and_alarm_is_a_series() -> None:
    unreachable = Alarm(Kind.PEER_UNREACHABLE, "NATO", None, Level.SUPERVISOR, NOW - 60_000, {})
    snap = Snapshot(
        party="SACEUR",
        now_ms=NOW,
        stopping=False,
        peers=[
            _peer(),
            # A silent cut: its links are open until they are buried, but no path is up.
            _peer(party="NATO", lanes={"urgent": True, "ordinary": True}, connected=False, rtt_s=None, paths={}),
        ],
        alarms=[unreachable],
        alerts=[],
        transcript_size=42,
        checkpoint_ms=NOW - 10_000,
        cosigned_by=["GENSTAB"],
        hook={"delivered": 5, "failed": 1, "dropped": 0},
        traffic={("GENSTAB", "delivered"): 7},
        oldest_unacknowledged_ms={"receiver": NOW - 30_000},
    )
    got = _samples(snap)
    assert got["hotline_peer_lane_up", (("lane", "urgent"), ("peer", "GENSTAB"))] == 1
    assert got["hotline_peer_lane_up", (("lane", "ordinary"), ("peer", "GENSTAB"))] == 0
    assert got["hotline_peer_reachable", (("peer", "GENSTAB"),)] == 1
    assert got["hotline_peer_reachable", (("peer", "NATO"),)] == 0
    assert got["hotline_peer_path_up", (("path", "1"), ("peer", "GENSTAB"))] == 1
    assert got["hotline_peer_path_up", (("path", "2"), ("peer", "GENSTAB"))] == 0
    assert got["hotline_peer_path_rtt_seconds", (("path", "1"), ("peer", "GENSTAB"))] == 0.0004
    assert ("hotline_peer_path_rtt_seconds", (("path", "2"), ("peer", "GENSTAB"))) not in got
    assert ("hotline_peer_rtt_seconds", (("peer", "NATO"),)) not in got, "no round trip measured, no sample"
    assert got["hotline_peer_oldest_undelivered_urgent_age_seconds", (("peer", "GENSTAB"),)] == 45
    assert got["hotline_peer_clock_skew_seconds", (("peer", "GENSTAB"),)] == -1.5
    alarm = (("id", "peer-unreachable/NATO"), ("kind", "peer-unreachable"), ("level", "supervisor"), ("peer", "NATO"))
    assert got["hotline_alarm", alarm] == 1
    assert got["hotline_alarms_open", (("level", "supervisor"),)] == 1
    assert got["hotline_alarms_open", (("level", "commander"),)] == 0
    assert got["hotline_peer_messages_total", (("outcome", "delivered"), ("peer", "GENSTAB"))] == 7
    assert got["hotline_peer_messages_total", (("outcome", "rejected"), ("peer", "NATO"))] == 0
    assert got["hotline_oldest_unacknowledged_age_seconds", (("side", "receiver"),)] == 30
    assert got["hotline_oldest_unacknowledged_age_seconds", (("side", "sender"),)] == 0
    assert got["hotline_transcript_checkpoint_age_seconds", ()] == 10
    assert got["hotline_alarm_hook_events_total", (("outcome", "failed"),)] == 1
    assert got["hotline_node_info", (("party", "SACEUR"), ("version", __version__))] == 1


def test_a_quiet_node_has_no_alarm_series_and_no_checkpoint_yet() -> None:
    got = _samples(Snapshot(party="SACEUR", now_ms=NOW, stopping=True, peers=[], alarms=[], alerts=[]))
    assert not [name for name, _ in got if name == "hotline_alarm"]
    assert not [name for name, _ in got if name.startswith("hotline_transcript")]
    assert not [name for name, _ in got if name.startswith("hotline_alarm_hook")], "no hook configured"
    assert got["hotline_node_stopping", ()] == 1


def test_the_peer_port_and_the_file_handles() -> None:
    port = PortReading(
        handshakes=64,
        handshakes_limit=64,
        refused={"evicted": 2, "source": 1036},
        handles_open=130,
        handles_limit=512,
        handles_needed=608,
    )
    samples = _samples(Snapshot("SACEUR", NOW, False, [], [], [], port=port))
    assert samples[("hotline_peer_handshakes", ())] == 64
    assert samples[("hotline_peer_handshakes_limit", ())] == 64
    assert samples[("hotline_peer_port_refused_total", (("reason", "source"),))] == 1036
    assert samples[("hotline_peer_port_refused_total", (("reason", "evicted"),))] == 2
    assert samples[("hotline_file_handles_open", ())] == 130
    assert samples[("hotline_file_handles_limit", ())] == 512
    assert samples[("hotline_file_handles_needed", ())] == 608
    assert port.handles_short, "a limit below what the bounds need is short"
    assert not any(
        name.startswith("hotline_peer_handshakes") for name, _ in _samples(Snapshot("X", NOW, False, [], [], []))
    )
