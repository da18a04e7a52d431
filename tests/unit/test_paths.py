"""The path table: which paths are up, which carries ordinary traffic, how often to probe."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.errors import ConfigError
from hotline.node import init_node, load_config
from hotline.protocol import Lane
from hotline.protocol.paths import HOLD, MAX_PATHS, PROBE_CEILING, PROBE_FLOOR, PROBE_RATE, PathTable, PathTiming
from hotline.testing.process import configure


def both_up(table: PathTable, *indices: int, now: float = 0.0) -> None:
    for index in indices:
        table.linked(index, Lane.URGENT, now)
        table.linked(index, Lane.ORDINARY, now)


def test_no_link_no_path_no_carrier() -> None:
    table = PathTable(2)
    assert (table.up(), table.carrier(0.0)) == ([], None)


def test_the_first_advertised_path_carries_and_a_silent_cut_moves_traffic_at_once() -> None:
    table = PathTable(2)
    both_up(table, 0, 1)
    assert table.up() == [0, 1]
    assert table.carrier(0.0) == 0
    table.fell_silent(0, Lane.URGENT, 5.0)
    assert table.up() == [1]
    assert table.carrier(5.0) == 1  # no hold on the way out
    assert (table.paths[0].downs, table.paths[0].went_down) == (1, 5.0)


def test_a_returning_path_takes_the_traffic_back_only_after_holding() -> None:
    table = PathTable(2)
    both_up(table, 0, 1)
    table.fell_silent(0, Lane.URGENT, 1.0)
    assert table.carrier(1.0) == 1
    table.heard(0, Lane.URGENT, 2.0)
    assert table.up() == [0, 1]
    assert table.carrier(2.0 + HOLD / 2) == 1  # not yet: it might flap
    table.fell_silent(0, Lane.URGENT, 2.0 + HOLD / 2)  # it flapped: traffic never went back
    table.heard(0, Lane.URGENT, 3.0 + HOLD / 2)
    assert table.carrier(3.0 + HOLD) == 1
    assert table.carrier(3.0 + HOLD * 1.5) == 0  # held long enough


def test_the_ordinary_link_shares_its_paths_verdict_while_the_urgent_one_is_open() -> None:
    table = PathTable(1)
    both_up(table, 0)
    table.fell_silent(0, Lane.ORDINARY, 1.0)  # the slow heartbeat's silence is not the judge
    assert table.up() == [0]
    table.unlinked(0, Lane.URGENT, 2.0)  # without an urgent link, the ordinary one judges
    assert table.up() == []
    table.heard(0, Lane.ORDINARY, 3.0)
    assert table.up() == [0]


def test_all_paths_down_then_one_heals() -> None:
    table = PathTable(2)
    both_up(table, 0, 1)
    table.fell_silent(0, Lane.URGENT, 1.0)
    table.fell_silent(1, Lane.URGENT, 1.0)
    assert table.carrier(1.0) is None
    table.heard(1, Lane.URGENT, 4.0)
    assert table.carrier(4.0) == 1


def test_the_operators_order_comes_first() -> None:
    table = PathTable(3, order=(2,))
    both_up(table, 0, 1, 2)
    assert table.preference() == [2, 0, 1]
    assert table.carrier(0.0) == 2


def test_a_path_beyond_the_advertised_ones_is_made_and_one_beyond_any_is_refused() -> None:
    table = PathTable(1)
    table.linked(3, Lane.URGENT, 0.0)
    assert len(table.paths) == 4
    assert table.up() == [3]
    with pytest.raises(ValueError, match="out of range"):
        table.linked(MAX_PATHS, Lane.URGENT, 0.0)


def test_probes_follow_the_round_trip_within_floor_and_ceiling() -> None:
    table = PathTable(3)
    assert table.probe_interval(0) == PROBE_FLOOR  # unmeasured: probe soon, to measure it
    assert table.silence_limit(0) == PROBE_CEILING  # and do not find a long path dead meanwhile
    for _ in range(20):
        table.round_trip(0, 0.0003)  # loopback
        table.round_trip(1, 0.6)  # a geostationary satellite
        table.round_trip(2, 30.0)  # something badly wrong
    assert table.probe_interval(0) == PROBE_FLOOR
    assert 1.2 <= table.probe_interval(1) < 2.0
    assert table.silence_limit(1) == 3 * table.probe_interval(1)
    assert table.probe_interval(2) == PROBE_CEILING
    assert table.paths[1].probes == 20


@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from(["linked", "unlinked", "fell_silent", "heard"]),
            st.sampled_from(list(Lane)),
            st.floats(0, 3),
        ),
        max_size=60,
    )
)
def test_the_carrier_is_always_a_path_that_is_up(steps: list[tuple[int, str, Lane, float]]) -> None:
    table = PathTable(3)
    now = 0.0
    for index, verb, lane, later in steps:
        now += later
        getattr(table, verb)(index, lane, now)
        carrier = table.carrier(now)
        up = table.up()
        assert (carrier is None) == (not up)
        if carrier is not None:
            assert carrier in up
            # Never less preferred than a path that has held long enough.
            held = [i for i in up if (s := table.paths[i].up_since) is not None and now - s >= table.hold]
            assert not held or up.index(carrier) <= up.index(held[0])


def test_alpn_names_the_lane_and_the_path_past_the_first() -> None:
    assert Lane.URGENT.path_alpn(0) == "hotline-urgent/2"  # a node of before paths speaks to path 1
    assert Lane.ORDINARY.path_alpn(3) == "hotline-ordinary/2+3"
    for lane in Lane:
        for path in range(MAX_PATHS):
            assert Lane.from_alpn(lane.path_alpn(path)) == (lane, path)
    for nonsense in (
        None,
        "",
        "h2",
        "hotline-urgent/2+0",
        "hotline-urgent/2+-1",
        "hotline-urgent/2+x",
        "hotline-urgent/2+01",
    ):
        assert Lane.from_alpn(nonsense) is None


def test_a_config_with_a_bad_or_ninth_address_is_refused_when_read(tmp_path: Path) -> None:
    config = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102")
    for advertise, refusal in (
        (["127.0.0.1:7101", "nowhere"], "'nowhere' is not HOST:PORT"),
        ([f"10.0.0.{i}:7101" for i in range(1, 10)], "9 addresses to advertise; a party has at most 8 paths"),
    ):
        configure(config.directory, {"advertise": advertise})
        with pytest.raises(ConfigError, match=refusal):
            load_config(config.directory)


def test_a_silent_paths_ordinary_link_does_not_bring_it_back_when_the_urgent_link_closes() -> None:
    table = PathTable(1)
    both_up(table, 0)
    table.fell_silent(0, Lane.URGENT, 1.0)
    table.unlinked(0, Lane.URGENT, 15.0)  # the silent urgent link is buried; the ordinary lingers
    assert table.up() == []
    assert table.paths[0].downs == 1  # one outage, not two
    table.linked(0, Lane.URGENT, 16.0)  # redialed: a fresh judge
    assert table.up() == [0]


def test_the_operator_orders_a_peers_paths_in_config_toml(tmp_path: Path) -> None:
    config = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102")
    configure(config.directory, {"path_order": {"GENSTAB": [2, 1]}})
    assert load_config(config.directory).path_order == {"GENSTAB": (1, 0)}
    table = PathTable(2, order=load_config(config.directory).path_order["GENSTAB"])
    both_up(table, 0, 1)
    assert table.carrier(0.0) == 1
    for wrong in ([0], [1, 1], ["2"], [9], 2):
        configure(config.directory, {"path_order": {"GENSTAB": wrong}})
        with pytest.raises(ConfigError, match=r"\[path_order\] GENSTAB must list path numbers from 1 to 8"):
            load_config(config.directory)


def test_paths_the_peer_no_longer_advertises_are_forgotten_once_unlinked() -> None:
    table = PathTable(3)
    both_up(table, 0)
    table.linked(1, Lane.URGENT, 0.0)
    assert table.trim(1) == [2]  # path 2 (index 1) still has a link: it stays until it goes
    table.unlinked(1, Lane.URGENT, 1.0)
    assert table.trim(1) == [1]
    assert (len(table.paths), table.up(), table.carrier(1.0)) == (1, [0], 0)
    assert table.trim(0) == []  # never below one path


def test_a_node_of_many_peers_spreads_its_quick_probes() -> None:
    """Two parties keep the floor; a node probing 56 paths sends at most PROBE_RATE probes a
    second in all; never beyond the ceiling; an operator's higher floor stays."""
    timing = PathTiming()
    assert timing.spread_over(1).probe_floor == PROBE_FLOOR
    assert timing.spread_over(2).probe_floor == PROBE_FLOOR
    assert timing.spread_over(56).probe_floor == pytest.approx(56 / PROBE_RATE)
    assert timing.spread_over(10_000).probe_floor == timing.probe_ceiling
    assert PathTiming(probe_floor=4.0).spread_over(2).probe_floor == 4.0
    table = PathTable(1, timing=timing.spread_over(56))
    table.round_trip(0, 0.0005)  # loopback: the round trip alone would probe at the floor
    assert table.probe_interval(0) == pytest.approx(56 / PROBE_RATE)
    assert table.silence_limit(0) == pytest.approx(3 * 56 / PROBE_RATE)
