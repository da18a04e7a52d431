"""Judging from a new link's hello whether the peer will resend less than we hold."""

from hotline.node.links import peer_behind_judged

BEHIND = (4, 7)  # the peer would send 4 next; we hold up to 6


def test_the_first_lane_up_judges_alone() -> None:
    assert peer_behind_judged(None, BEHIND, other_lane_up=False) == BEHIND
    assert peer_behind_judged(BEHIND, None, other_lane_up=False) is None


def test_with_the_other_lane_up_a_hello_saying_behind_proves_nothing() -> None:
    # Envelopes the peer signed after writing its hello may already have come on the other lane.
    assert peer_behind_judged(None, BEHIND, other_lane_up=True) is None
    assert peer_behind_judged(BEHIND, BEHIND, other_lane_up=True) == BEHIND


def test_with_the_other_lane_up_a_hello_saying_caught_up_clears_it() -> None:
    """Defect seen in CI: after a catch-up, one lane came back before the other's old link was
    seen to close; its hello (not behind) was not believed, and the alarm stood for good."""
    assert peer_behind_judged(BEHIND, None, other_lane_up=True) is None
