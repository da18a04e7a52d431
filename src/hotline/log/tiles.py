"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile paths, hash tiles and entry bundles.

A tiled log serves its Merkle tree as static files instead of answering proof queries. A *tile*
at level L is up to 256 consecutive hashes of Merkle level 8L: level 0 holds leaf hashes, level 1
the roots of full level-0 tiles, and so on. Hash ``i`` of tile ``n`` at level ``l`` is ::

    MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l])

which, in merkle.py's naming, is the perfect subtree ``(8 * l, n * 256 + i)``. That is why a tile
is built from a ``SubtreeHash`` function, and why the hashes of a set of tiles answer every
``SubtreeHash`` query a proof needs (``subtree_hash_from_tiles``): the seven Merkle levels inside
a tile are recomputed by hashing its hashes.

The right edge of a tree is served as *partial* tiles (width 1..255, path suffix ``.p/<W>``); a
partial tile is never hashed into the level above. Log entries are served as *entry bundles*,
which have the coordinates of the level-0 tile their leaf hashes form.

Paths are checked against the spec's syntax (level 0..63, index written in three-digit groups with
an ``x`` on all but the last, width 1..255 with no leading zeros) and, beyond the letter of the
spec, refuse anything that is not the one spelling ``tile_path`` writes: a path is a cache key and
a file name, so two spellings of one tile would be two files that can disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from hotline.errors import EncodingError
from hotline.log.merkle import HASH_SIZE, SubtreeHash, merkle_root

__all__ = [
    "MAX_ENTRY_SIZE",
    "MAX_TILE_LEVEL",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Tile",
    "TileError",
    "encode_bundle",
    "entries_path",
    "entry_bundle_for",
    "parse_bundle",
    "parse_entries_path",
    "parse_tile_path",
    "subtree_hash_from_tiles",
    "tile_bytes",
    "tile_for",
    "tile_hashes",
    "tile_path",
    "tiles_for_size",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes, 8,192 bytes: the spec fixes both
# "<L> MUST be a decimal ASCII integer between 0 and 63". Only levels 0..7 occur in a tree of at
# most 2**64 - 1 leaves, but paths are a naming scheme and other tools name higher levels.
MAX_TILE_LEVEL = 63
# Entries are prefixed by a big-endian uint16 length, so none can be longer than this.
MAX_ENTRY_SIZE = 0xFFFF
_MAX_UINT64 = (1 << 64) - 1
_PATH_BASE = 1000  # three decimal digits per path element
_TILE_PREFIX = "tile/"
_ENTRIES_PREFIX = "tile/entries/"
_PARTIAL = ".p/"
# Shapes the parser accepts before the round-trip check; they keep int() away from hostile input
# (a 4,300-digit "group" would otherwise be parsed before being refused).
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_INDEX = re.compile(r"(?:x[0-9]{3}/){0,6}[0-9]{3}")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


class TileError(EncodingError):
    """A tile path, tile, or entry bundle is malformed, or does not belong to the tree asked about."""


@dataclass(frozen=True, order=True)
class Tile:
    """The coordinates of one tile: its level, its index within the level, and its width.

    A width of ``TILE_WIDTH`` is a full tile; 1..255 a partial one. The same coordinates at level 0
    also name the entry bundle whose entries hash to this tile's leaf hashes.
    """

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not 0 <= self.level <= MAX_TILE_LEVEL:
            raise TileError(f"a tile level is between 0 and {MAX_TILE_LEVEL}, not {self.level}")
        # Indexes are uint64 on the wire in every implementation (Go, tessera, sunlight).
        if not 0 <= self.index <= _MAX_UINT64:
            raise TileError(f"a tile index is an unsigned 64-bit integer, not {self.index}")
        if not 1 <= self.width <= TILE_WIDTH:
            raise TileError(f"a tile holds 1 to {TILE_WIDTH} hashes, not {self.width}")

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def merkle_level(self) -> int:
        """The Merkle level of the hashes in this tile (8 per tile level)."""
        return TILE_HEIGHT * self.level

    @property
    def first_hash(self) -> int:
        """The index, at ``merkle_level``, of the tile's first hash."""
        return self.index * TILE_WIDTH

    @property
    def start(self) -> int:
        """The spec's *start index*: the first leaf under this tile, ``n * 256**(l+1)``."""
        return self.first_hash << self.merkle_level

    @property
    def end(self) -> int:
        """One past the last leaf under this tile's hashes (the spec's *end index* for a full tile)."""
        return (self.first_hash + self.width) << self.merkle_level

    @property
    def byte_size(self) -> int:
        return self.width * HASH_SIZE

    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]``."""
        return f"{_TILE_PREFIX}{self.level}/{_encode_index(self.index, self.width)}"

    def entries_path(self) -> str:
        """``tile/entries/<N>[.p/<W>]``: the bundle of the entries under this level-0 tile."""
        if self.level != 0:
            raise TileError("only a level-0 tile has an entry bundle")
        return f"{_ENTRIES_PREFIX}{_encode_index(self.index, self.width)}"


def _encode_index(index: int, width: int) -> str:
    """``<N>[.p/<W>]``: N in zero-padded three-digit groups, every group but the last prefixed ``x``."""
    groups = [f"{index % _PATH_BASE:03d}"]
    index //= _PATH_BASE
    while index:
        groups.append(f"x{index % _PATH_BASE:03d}")
        index //= _PATH_BASE
    encoded = "/".join(reversed(groups))
    return encoded if width == TILE_WIDTH else f"{encoded}{_PARTIAL}{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """The path of hash tile ``(level, index)`` of ``width`` hashes, e.g. ``tile/0/x001/x234/067``."""
    return Tile(level, index, width).path()


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """The path of entry bundle ``index`` holding ``width`` entries, e.g. ``tile/entries/273.p/112``."""
    return Tile(0, index, width).entries_path()


def _parse_index(text: str, path: str) -> tuple[int, int]:
    """Parse ``<N>[.p/<W>]`` into (index, width), refusing every spelling but the canonical one."""
    index_text, partial, width_text = text.partition(_PARTIAL)
    if not _INDEX.fullmatch(index_text):
        raise TileError(f"malformed tile index in {path!r}")
    width = TILE_WIDTH
    if partial:
        # "between 1 and 255, with no additional leading zeroes"; 256 would be a full tile
        # spelled a second way.
        if not _WIDTH.fullmatch(width_text) or int(width_text) >= TILE_WIDTH:
            raise TileError(f"malformed partial tile width in {path!r}")
        width = int(width_text)
    index = 0
    for group in index_text.split("/"):
        index = index * _PATH_BASE + int(group.removeprefix("x"))
    if index > _MAX_UINT64:
        raise TileError(f"tile index in {path!r} is not an unsigned 64-bit integer")
    # Leading "000" groups parse to the same number as the short form; only the short one is valid.
    if _encode_index(index, width) != text:
        raise TileError(f"non-canonical tile index in {path!r}")
    return index, width


def parse_tile_path(path: str) -> Tile:
    """The tile named by ``tile/<L>/<N>[.p/<W>]``; ``TileError`` for anything else."""
    if not path.startswith(_TILE_PREFIX) or path.startswith(_ENTRIES_PREFIX):
        raise TileError(f"not a hash tile path: {path[:80]!r}")
    level_text, sep, rest = path[len(_TILE_PREFIX) :].partition("/")
    if not sep or not _LEVEL.fullmatch(level_text) or int(level_text) > MAX_TILE_LEVEL:
        raise TileError(f"malformed tile level in {path[:80]!r}")
    index, width = _parse_index(rest, path[:80])
    return Tile(int(level_text), index, width)


def parse_entries_path(path: str) -> Tile:
    """The level-0 coordinates of the entry bundle named by ``tile/entries/<N>[.p/<W>]``."""
    if not path.startswith(_ENTRIES_PREFIX):
        raise TileError(f"not an entry bundle path: {path[:80]!r}")
    index, width = _parse_index(path[len(_ENTRIES_PREFIX) :], path[:80])
    return Tile(0, index, width)


# -- which tiles a tree has ------------------------------------------------------------------------


def _check_size(size: int) -> None:
    if not 0 <= size <= _MAX_UINT64:
        raise TileError(f"a tree size is an unsigned 64-bit integer, not {size}")


def tile_for(level: int, index: int, tree_size: int) -> Tile:
    """Tile ``(level, index)`` as the tree of ``tree_size`` has it: full, or partial at the right edge.

    The tree has ``tree_size // 256**level`` hashes at Merkle level 8*level; the tile holds up to
    256 of them. ``TileError`` if the tree has none of its hashes yet (empty tiles do not exist).
    """
    _check_size(tree_size)
    probe = Tile(level, index)  # validates level and index
    width = min(TILE_WIDTH, (tree_size >> probe.merkle_level) - probe.first_hash)
    if width <= 0:
        raise TileError(f"a tree of size {tree_size} has no tile {level}/{index}")
    return Tile(level, index, width)


def entry_bundle_for(entry_index: int, tree_size: int) -> Tile:
    """The level-0 coordinates of the bundle that holds entry ``entry_index`` in a tree of ``tree_size``."""
    _check_size(tree_size)
    if not 0 <= entry_index < tree_size:
        raise TileError(f"entry {entry_index} is not in a tree of size {tree_size}")
    return tile_for(0, entry_index // TILE_WIDTH, tree_size)


def tiles_for_size(tree_size: int, old_size: int = 0) -> Iterator[Tile]:
    """The tiles a tree of ``tree_size`` has that a tree of ``old_size`` did not have in that form.

    With ``old_size`` 0 that is every tile of the tree: at each level l, ``tree_size // 256**(l+1)``
    full tiles, then one partial tile of width ``(tree_size // 256**l) % 256`` unless that is 0
    (spec, "Partial Tiles"). Otherwise it is what a log writes when it grows: the full tiles
    completed since ``old_size`` and the new right-edge partials. Yielded level by level, left to
    right; it is a generator because a large tree has billions of full tiles.
    """
    _check_size(tree_size)
    _check_size(old_size)
    if old_size > tree_size:
        raise TileError(f"a tree of size {tree_size} cannot follow one of size {old_size}")
    level = 0
    while tree_size >> (TILE_HEIGHT * level):
        hashes = tree_size >> (TILE_HEIGHT * level)
        old_hashes = old_size >> (TILE_HEIGHT * level)
        for index in range(old_hashes // TILE_WIDTH, hashes // TILE_WIDTH):
            yield Tile(level, index)
        width = hashes % TILE_WIDTH
        # A partial tile is new unless the old tree had the very same one (same index and width).
        if width and (hashes != old_hashes):
            yield Tile(level, hashes // TILE_WIDTH, width)
        level += 1


# -- tile contents ---------------------------------------------------------------------------------


def tile_bytes(tile: Tile, get_hash: SubtreeHash) -> bytes:
    """The tile's contents: its ``width`` hashes of Merkle level 8L, concatenated.

    ``get_hash(8 * level, index)`` must answer the perfect subtrees the tile covers, as a store or
    ``MemoryTree.hash_at`` does.
    """
    parts = []
    for i in range(tile.width):
        value = get_hash(tile.merkle_level, tile.first_hash + i)
        if len(value) != HASH_SIZE:
            raise TileError(f"subtree hash ({tile.merkle_level}, {tile.first_hash + i}) is {len(value)} bytes")
        parts.append(value)
    return b"".join(parts)


def tile_hashes(tile: Tile, data: bytes) -> list[bytes]:
    """Split a tile's contents into its hashes; its length must be exactly ``width * 32``.

    A fetched tile of the wrong length is refused rather than cut or padded: a full tile is 8,192
    bytes by the spec, and a partial one has the width its path names.
    """
    if len(data) != tile.byte_size:
        raise TileError(f"tile {tile.path()} is {tile.byte_size} bytes, not {len(data)}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def subtree_hash_from_tiles(tree_size: int, read_tile: Callable[[Tile], bytes]) -> SubtreeHash:
    """A ``SubtreeHash`` for the tree of ``tree_size`` that answers from its tiles.

    Subtree ``(m, i)`` with ``m = 8L + k`` covers the 2**k hashes of tile level L from position
    ``i * 2**k``; they lie in one tile (2**k divides 256), and since they form a perfect subtree
    their Merkle root is the answer. ``read_tile`` gets the tile as the tree of ``tree_size`` has
    it (full or the right partial), so a client can map it to ``tile.path()`` and fetch it. Tiles
    are read once and kept, since one proof asks several hashes of the same tile.
    """
    _check_size(tree_size)
    cache: dict[Tile, list[bytes]] = {}

    def get_hash(level: int, index: int) -> bytes:
        if level < 0 or index < 0:
            raise TileError(f"no subtree ({level}, {index})")
        tile_level, k = divmod(level, TILE_HEIGHT)
        first = index << k
        count = 1 << k
        if ((first + count) << (TILE_HEIGHT * tile_level)) > tree_size:
            raise TileError(f"subtree ({level}, {index}) is not complete in a tree of size {tree_size}")
        tile = tile_for(tile_level, first // TILE_WIDTH, tree_size)
        if tile not in cache:
            cache[tile] = tile_hashes(tile, read_tile(tile))
        offset = first % TILE_WIDTH
        return merkle_root(cache[tile][offset : offset + count])

    return get_hash


# -- entry bundles -----------------------------------------------------------------------------------


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length followed by its bytes.

    1 to 256 entries: a bundle has the coordinates of a level-0 tile, and empty tiles MUST NOT be
    served. Entries longer than 65,535 bytes cannot be length-prefixed and are refused.
    """
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise TileError(f"an entry bundle holds 1 to {TILE_WIDTH} entries, not {len(entries)}")
    parts = []
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise TileError(f"entry {i} is {len(entry)} bytes; a bundle entry is at most {MAX_ENTRY_SIZE}")
        parts.append(len(entry).to_bytes(2, "big") + bytes(entry))
    return b"".join(parts)


def parse_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Split an entry bundle into its entries, refusing truncation and trailing bytes.

    ``width``, if given (from the bundle's path), is the number of entries it must hold: a bundle
    with more or fewer entries than its tile has hashes cannot match that tile.
    """
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if len(entries) == TILE_WIDTH:
            raise TileError(f"an entry bundle holds at most {TILE_WIDTH} entries")
        if pos + 2 > len(data):
            raise TileError(f"entry bundle ends inside the length of entry {len(entries)}")
        size = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + size > len(data):
            raise TileError(f"entry {len(entries)} runs past the end of the bundle")
        entries.append(bytes(data[pos : pos + size]))
        pos += size
    if not entries:
        raise TileError("an entry bundle holds at least one entry")
    if width is not None and len(entries) != width:
        raise TileError(f"entry bundle holds {len(entries)} entries, its path says {width}")
    return entries
