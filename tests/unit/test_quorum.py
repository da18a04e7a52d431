"""Who witnesses a log in a network of many: rendezvous hashing over the log's peers."""

from collections import Counter

from hotline.log.quorum import quorum, rank
from hotline.testing.mesh import OSCE_STATES


def origin(party: str) -> str:
    return f"hotline.transcript/{party}/{party.encode().hex():0<32}"


def test_the_quorum_is_k_peers_by_rank_and_every_neutral_witness() -> None:
    peers = [p for p in OSCE_STATES if p != "AUT"]
    chosen = quorum(origin("AUT"), peers, ["OSCECPC"], 4)
    assert len(chosen) == 5
    assert "OSCECPC" in chosen
    by_rank = sorted(peers, key=lambda peer: rank(origin("AUT"), peer))
    assert chosen - {"OSCECPC"} == set(by_rank[:4])
    # Anyone with the card list works out the same quorum, whatever order they list it in.
    assert quorum(origin("AUT"), reversed(peers), ["OSCECPC"], 4) == chosen
    # Fewer peers than k: every one of them.
    assert quorum(origin("AUT"), ["GENSTAB", "SACEUR"], [], 4) == {"GENSTAB", "SACEUR"}


def test_every_party_witnesses_a_few_logs_not_all() -> None:
    load: Counter[str] = Counter()
    for party in OSCE_STATES:
        load.update(quorum(origin(party), [p for p in OSCE_STATES if p != party], [], 4))
    assert sum(load.values()) == 57 * 4  # 228 witnessing streams, not 57 x 56 = 3,192
    assert max(load.values()) <= 12, load.most_common(3)  # spread: nobody witnesses many


def test_a_party_joining_moves_only_the_quorums_it_enters() -> None:
    before = {p: quorum(origin(p), [q for q in OSCE_STATES if q != p], [], 4) for p in OSCE_STATES}
    after = {p: quorum(origin(p), [q for q in OSCE_STATES if q != p] + ["XKX"], [], 4) for p in OSCE_STATES}
    moved = 0
    for party in OSCE_STATES:
        added, removed = after[party] - before[party], before[party] - after[party]
        assert added <= {"XKX"}, (party, added)  # only the newcomer enters a quorum
        assert len(removed) == len(added)  # and pushes out exactly one, where it does
        moved += len(added)
    assert 0 < moved < 12  # about 4 of 57 logs take the newcomer as a witness
