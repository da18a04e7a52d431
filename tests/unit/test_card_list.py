"""A file of identity cards pinned at once (issue 19, item 1): every line checked first, and
the first that fails named by its number."""

from __future__ import annotations

import re

import pytest

from hotline.errors import PairingError
from hotline.node import IdentityCard, init_node, parse_card_list


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, IdentityCard]:
    root = tmp_path_factory.mktemp("cards")
    found = {}
    for n, party in enumerate(("ALPHA", "BRAVO", "CHARLIE", "DELTA")):
        config = init_node(root / party.lower(), party, f"127.0.0.1:{7100 + n}", f"127.0.0.1:{7200 + n}")
        found[party] = config.card()
    return found


def line(card: IdentityCard, fingerprint: str | None = None) -> str:
    return f"{card.line()} {fingerprint or card.fingerprint}"


def test_every_card_of_the_file_in_order_comments_and_blank_lines_aside(cards: dict[str, IdentityCard]) -> None:
    text = "\n".join(["# the network's list, fingerprints read at the 1 December conference", "",
                      line(cards["BRAVO"]), "   " + line(cards["CHARLIE"]), line(cards["DELTA"]), ""])  # fmt: skip
    assert [c.party for c in parse_card_list(text, cards["ALPHA"], [])] == ["BRAVO", "CHARLIE", "DELTA"]
    # Pinned already with the same keys: pinned again (its addresses may have changed).
    pinned = [cards["BRAVO"].as_peer(0)]
    assert len(parse_card_list(text, cards["ALPHA"], pinned)) == 3


@pytest.mark.parametrize(
    ("broken", "said"),
    [
        ("wrong fingerprint", "line 3: fingerprint mismatch"),
        ("twice", "line 3: BRAVO is listed twice (line 2 too)"),
        ("ours", "line 3: ALPHA is this node's own party"),
        ("no fingerprint", "line 3: a card, a space, then its fingerprint"),
        ("not a card", "line 3: "),
        ("other keys", "line 3: CHARLIE is already pinned with different keys"),
    ],
)
def test_the_first_bad_line_is_named_and_nothing_is_pinned(
    cards: dict[str, IdentityCard], broken: str, said: str
) -> None:
    third = {
        "wrong fingerprint": line(cards["CHARLIE"], cards["DELTA"].fingerprint),
        "twice": line(cards["BRAVO"]),
        "ours": line(IdentityCard.parse(cards["BRAVO"].line().replace(":BRAVO:", ":ALPHA:"))),
        "no fingerprint": cards["CHARLIE"].line(),
        "not a card": "hotline:2:CHARLIE:nonsense " + cards["CHARLIE"].fingerprint,
        "other keys": line(cards["CHARLIE"]),
    }[broken]
    text = "\n".join(["# list", line(cards["BRAVO"]), third, line(cards["DELTA"])])
    # "Other keys": CHARLIE pinned before under DELTA's card's keys, as a thief's card would be.
    pinned = [IdentityCard.parse(cards["DELTA"].line().replace(":DELTA:", ":CHARLIE:")).as_peer(0)]
    with pytest.raises(PairingError, match=re.escape(said)) as refused:
        parse_card_list(text, cards["ALPHA"], pinned if broken == "other keys" else [])
    assert "nothing was pinned" in str(refused.value)


def test_an_empty_file_is_refused_saying_what_it_should_hold(cards: dict[str, IdentityCard]) -> None:
    with pytest.raises(PairingError, match="holds no card"):
        parse_card_list("# nothing yet\n\n", cards["ALPHA"], [])
    with pytest.raises(PairingError, match="holds no card but ours"):
        parse_card_list(line(cards["ALPHA"]), cards["ALPHA"], [])


def test_the_networks_one_list_serves_every_party_in_it(cards: dict[str, IdentityCard]) -> None:
    """Our own line is passed over when it is our card; under other keys it is refused."""
    text = "\n".join(line(card) for card in cards.values())
    for party, own in cards.items():
        assert [c.party for c in parse_card_list(text, own, [])] == sorted(set(cards) - {party})


def test_a_file_too_long_is_refused(cards: dict[str, IdentityCard]) -> None:
    with pytest.raises(PairingError, match="at most 10000"):
        parse_card_list("\n" * 10_001, cards["ALPHA"], [])
