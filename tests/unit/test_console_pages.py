"""Pages of long lists, the message log's search as the address carries it, and one board
built for every console that asks meanwhile: pure parts of the console, without a node."""

import asyncio

import pytest

from hotline.console.i18n import words
from hotline.console.paging import PageError, Paging, page_number
from hotline.console.search import read_search
from hotline.console.shared import Shared
from hotline.storage import MessageFilter

EN = words("en").gettext
RU = words("ru").gettext
PEERS = ["GENSTAB", "OSCE"]


def test_page_numbers_are_whole_numbers_from_one() -> None:
    assert page_number(None, EN) == 1
    assert page_number("", EN) == 1
    assert page_number("42", EN) == 42
    for wrong in ("0", "-1", "1.5", "abc", "٣", "99999999999999999999"):
        with pytest.raises(PageError, match="is not a page number"):
            page_number(wrong, EN)
    with pytest.raises(PageError, match="не номер страницы"):
        page_number("x", RU)


def test_a_paging_says_what_is_shown_and_links_the_pages_around_it() -> None:
    paging = Paging(2, 100, 250, "/messages", {"peer": "GENSTAB", "form": "", "page": "2"})
    assert (paging.offset, paging.pages, paging.first, paging.last, paging.not_shown) == (100, 3, 101, 200, 150)
    assert paging.previous_href == "/messages?peer=GENSTAB"
    assert paging.next_href == "/messages?peer=GENSTAB&page=3"
    last = Paging(3, 100, 250, "/board")
    assert (last.first, last.last, last.next_href, last.previous_href) == (201, 250, None, "/board?page=2")
    beyond = Paging(9, 100, 250, "/board")
    assert (beyond.first, beyond.not_shown, beyond.previous_href) == (0, 250, "/board?page=3")
    assert Paging(1, 100, 0, "/outbox").pages == 1


def test_a_search_reads_every_filter_from_the_address() -> None:
    query = {
        "direction": "received",
        "peer": "GENSTAB",
        "form": "air_deconfliction",
        "precedence": "FLASH",
        "from": "2026-11-24",
        "to": "2026-11-25",
        "page": "3",
    }
    search, errors = read_search(query, PEERS, EN)
    assert errors == []
    assert search.page == 3
    day = 86_400_000
    assert search.found == MessageFilter(
        peer="GENSTAB",
        kind="air_deconfliction",
        precedence="FLASH",
        since_ms=1_795_478_400_000,
        until_ms=1_795_478_400_000 + 2 * day,  # the whole of the 25th
        sent=False,
    )
    assert read_search({}, PEERS, EN) == (read_search({"page": "1"}, PEERS, EN)[0], [])
    assert read_search({"direction": "sent"}, PEERS, EN)[0].found.sent is True


def test_every_wrong_filter_is_named_and_nothing_is_searched() -> None:
    query = {
        "direction": "sideways",
        "peer": "NOBODY",
        "form": "recipe",
        "precedence": "URGENT",
        "from": "2026-02-30",
        "to": "24.11.2026",
        "page": "zero",
    }
    search, errors = read_search(query, PEERS, EN)
    assert len(errors) == 7, errors
    assert "“NOBODY” is not a peer of this node" in errors[1]
    assert "From (UTC date): “2026-02-30” is not a date" in errors[4]
    assert search.found == MessageFilter()
    assert search.values["peer"] == "NOBODY"  # shown again in the form, to be corrected
    _, backwards = read_search({"from": "2026-11-25", "to": "2026-11-24"}, PEERS, EN)
    assert backwards == ["The dates are the wrong way round: the first is after the last."]
    _, russian = read_search({"peer": "NOBODY"}, PEERS, RU)
    assert russian == ["Сторона: «NOBODY» не входит в число сторон обмена этого узла."]


async def test_consoles_asking_meanwhile_share_one_build_and_none_gets_older_facts() -> None:
    version = 0
    started = asyncio.Event()
    release = asyncio.Event()

    async def build(key: str) -> tuple[str, int]:
        nonlocal version
        version += 1
        seen = version
        started.set()
        await release.wait()
        return key, seen

    shared: Shared[str, tuple[str, int]] = Shared(build)
    first = asyncio.ensure_future(shared.get("en"))
    await started.wait()
    # Twelve consoles ask while the first build runs: it started before them, so they all wait
    # for one more build, which starts when the first ends.
    later = [asyncio.ensure_future(shared.get("en")) for _ in range(12)]
    russian = asyncio.ensure_future(shared.get("ru"))
    await asyncio.sleep(0)
    release.set()
    assert await first == ("en", 1)
    assert {await f for f in later} == {("en", 3)}  # the Russian board was build 2
    assert await russian == ("ru", 2)
    assert shared.builds == 3


async def test_a_console_that_goes_away_does_not_cancel_the_build_others_wait_for() -> None:
    release = asyncio.Event()

    async def build(key: str) -> str:
        await release.wait()
        return key

    shared: Shared[str, str] = Shared(build)
    gone = asyncio.ensure_future(shared.get("en"))
    staying = asyncio.ensure_future(shared.get("en"))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    assert await staying == "en"


async def test_a_failed_build_reaches_every_waiter_and_the_next_one_runs_again() -> None:
    calls = 0

    async def build(key: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("store gone")
        return key

    shared: Shared[str, str] = Shared(build)
    with pytest.raises(RuntimeError, match="store gone"):
        await shared.get("en")
    assert await shared.get("en") == "en"
