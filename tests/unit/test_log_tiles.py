"""C2SP tlog-tiles and tlog-proof: known answers from others, trees rebuilt from tiles, refusals.

Known answers (copied as data, with their source):

* c2sp.org/tlog-tiles: index 1234067 is ``x001/x234/067``; a tree of size 70,000 has 273 full
  level-0 tiles, a level-0 partial of width 112, one full level-1 tile, a level-1 partial of width
  17 and a level-2 partial of width 1; a tree of size 256 has one full level-0 tile and a level-1
  partial of width 1.
* github.com/transparency-dev/tessera ``api/layout/paths_test.go``: tile and entry-bundle paths
  for given (level, index, tree size), and the paths its parser accepts and refuses.
* c2sp.org/tlog-proof: the example proof's layout (its signatures are elided in the spec, so the
  checkpoint is re-signed with our own key and only the layout is compared).
* github.com/transparency-dev/formats ``proof/tlog_proof_test.go``: the Marshal layouts, and the
  inputs its Unmarshal refuses.
"""

from __future__ import annotations

import base64
import hashlib
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import hotline.log
from hotline.crypto.keys import SigningKey
from hotline.errors import EncodingError
from hotline.log import (
    TILE_WIDTH,
    Checkpoint,
    Ed25519Signer,
    MemoryTree,
    NoteError,
    ProofError,
    Tile,
    TileError,
    TlogProof,
    TlogProofError,
    build_tlog_proof,
    encode_bundle,
    entries_path,
    entry_bundle_for,
    leaf_hash,
    merkle_root,
    parse_bundle,
    parse_entries_path,
    parse_tile_path,
    sign_checkpoint,
    subtree_hash_from_tiles,
    subtree_root,
    tile_bytes,
    tile_for,
    tile_hashes,
    tile_path,
    tiles_for_size,
    verify_tlog_proof,
    verify_tlog_proof_hash,
)

MAX_UINT64 = 2**64 - 1


def fixed_key(n: int) -> SigningKey:
    return SigningKey(Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"tiles test key %d" % n).digest()))


LOG = Ed25519Signer("example.org/log", fixed_key(1))
WITNESS = Ed25519Signer("witness.example", fixed_key(2))
STRANGER = Ed25519Signer("example.org/log", fixed_key(3))  # same name, another key


# --- tile paths: the spec's examples --------------------------------------------------------------


def test_spec_index_encoding() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert parse_tile_path("tile/0/x001/x234/067") == Tile(0, 1234067, 256)


def test_spec_tree_of_70000() -> None:
    tiles = list(tiles_for_size(70_000))
    assert [t for t in tiles if t.level == 0 and not t.is_partial] == [Tile(0, i) for i in range(273)]
    assert [t for t in tiles if t.is_partial or t.level > 0] == [
        Tile(0, 273, 112),
        Tile(1, 0),
        Tile(1, 1, 17),
        Tile(2, 0, 1),
    ]


def test_spec_tree_of_256() -> None:
    assert list(tiles_for_size(256)) == [Tile(0, 0), Tile(1, 0, 1)]


# --- tile paths: transparency-dev/tessera api/layout/paths_test.go --------------------------------

TESSERA_TILE_PATHS = [  # (level, index, log size, path); TilePath's tile/0/000 at size 0 is left out
    (0, 0, 256, "tile/0/000"),
    (0, 0, 255, "tile/0/000.p/255"),
    (1, 0, MAX_UINT64, "tile/1/000"),
    (1, 0, 256, "tile/1/000.p/1"),
    (1, 0, 1024, "tile/1/000.p/4"),
    (3, 1234567, MAX_UINT64, "tile/3/x001/x234/567"),
]
TESSERA_ENTRY_PATHS_FOR_INDEX = [  # (entry index, log size, path)
    (0, 256, "tile/entries/000"),
    (255, 256, "tile/entries/000"),
    (251, 255, "tile/entries/000.p/255"),
    (256, 512, "tile/entries/001"),
    (256, 257, "tile/entries/001.p/1"),
    (123456789 * 256, 123456790 * 256, "tile/entries/x123/x456/789"),
]
TESSERA_ENTRY_PATHS = [  # (bundle index, log size, path); N=255 at size 255*256-3 names no tile, left out
    (0, 289, "tile/entries/000"),
    (0, 8, "tile/entries/000.p/8"),
    (255, 256 * 256, "tile/entries/255"),
    (256, 257 * 256, "tile/entries/256"),
    (123456789000, MAX_UINT64, "tile/entries/x123/x456/x789/000"),
]
TESSERA_PARSED = [  # (path, level, index, width)
    ("tile/0/x001/x234/067", 0, 1234067, 256),
    ("tile/0/x001/x234/067.p/89", 0, 1234067, 89),
    ("tile/63/x999/x999/x999/x999/x999/999.p/255", 63, 999999999999999999, 255),
    ("tile/0/001", 0, 1, 256),
]
TESSERA_REFUSED = [
    "tile/0/x001/x234/067.p/",
    "tile/0/x001/x234/067.p",
    "tile/0/x001/x234/",
    "tile/0/x001/x234",
    "tile/0/x001/",
    "tile/0/x001",
    "tile/1/x001/.p/abc",
    "tile/64/x001/002",
    "tile/-1/x001/002",
    "tile/abc/x001/002",
    "tile/8/001/002",
    "tile/8/x001/0002",
    "tile/8/x001/-002",
    "tile/8/x001/002.p/256",
    "tile/63/x999/x999/x999/x999/x999/x999/999.p/255",
]


@pytest.mark.parametrize(("level", "index", "size", "path"), TESSERA_TILE_PATHS)
def test_tessera_tile_paths(level: int, index: int, size: int, path: str) -> None:
    assert tile_for(level, index, size).path() == path


def test_tessera_paths_beyond_a_uint64_tree() -> None:
    # Path syntax allows levels up to 63; no tree of 2**64 - 1 leaves has these tiles.
    assert tile_path(15, 455667) == "tile/15/x455/667"
    assert tile_path(15, 123456789) == "tile/15/x123/x456/789"
    with pytest.raises(TileError):
        tile_for(15, 455667, MAX_UINT64)


@pytest.mark.parametrize(("entry", "size", "path"), TESSERA_ENTRY_PATHS_FOR_INDEX)
def test_tessera_entry_paths_for_index(entry: int, size: int, path: str) -> None:
    assert entry_bundle_for(entry, size).entries_path() == path


@pytest.mark.parametrize(("index", "size", "path"), TESSERA_ENTRY_PATHS)
def test_tessera_entry_paths(index: int, size: int, path: str) -> None:
    tile = tile_for(0, index, size)
    assert entries_path(tile.index, tile.width) == path
    assert parse_entries_path(path) == tile


@pytest.mark.parametrize(("path", "level", "index", "width"), TESSERA_PARSED)
def test_tessera_parsed_paths(path: str, level: int, index: int, width: int) -> None:
    assert parse_tile_path(path) == Tile(level, index, width)
    assert tile_path(level, index, width) == path


# --- tile paths: refusals and round trips ---------------------------------------------------------

OUR_REFUSED = [
    "",
    "tile/",
    "tile/0/",
    "tile/0",
    "tile//000",
    "/tile/0/000",
    "tile/0/000/",
    "tile/0/000 ",
    "TILE/0/000",
    "tile/00/000",  # leading zero in the level
    "tile/01/000",
    "tile/+1/000",
    "tile/0/x000/001",  # leading zero group: 1 is 001
    "tile/0/x001",
    "tile/0/X001/000",
    "tile/0/x1/000",
    "tile/0/01",
    "tile/0/0001",
    "tile/0/x001x002/000",
    "tile/0/000.p/0",
    "tile/0/000.p/07",
    "tile/0/000.p/+7",
    "tile/0/000.p/7/",
    "tile/0/000.P/7",
    "tile/0/000.p/1000",
    "tile/0/000.p/7.p/7",
    "tile/0/٠٠٠",  # Arabic-Indic digits: int() would take them
    "tile/0/x018/x446/x744/x073/x709/x551/616",  # 2**64
    "tile/entries/000",  # an entry bundle, not a hash tile
    "tile/data/000",
    "tile/0/" + "x" + "9" * 5000,
]


@pytest.mark.parametrize("path", TESSERA_REFUSED + OUR_REFUSED)
def test_malformed_tile_paths_are_refused(path: str) -> None:
    with pytest.raises(TileError):
        parse_tile_path(path)


@pytest.mark.parametrize(
    "path", ["tile/entries/", "tile/entries/x000/001", "tile/entries/000.p/256", "tile/0/000", "tile/entries/1"]
)
def test_malformed_entry_paths_are_refused(path: str) -> None:
    with pytest.raises(TileError):
        parse_entries_path(path)


def test_largest_index_round_trips() -> None:
    path = tile_path(0, MAX_UINT64, 255)
    assert path == "tile/0/x018/x446/x744/x073/x709/x551/615.p/255"
    assert parse_tile_path(path) == Tile(0, MAX_UINT64, 255)


@pytest.mark.parametrize(
    ("level", "index", "width"), [(-1, 0, 256), (64, 0, 256), (0, -1, 256), (0, 2**64, 256), (0, 0, 0), (0, 0, 257)]
)
def test_invalid_tiles_are_refused(level: int, index: int, width: int) -> None:
    with pytest.raises(TileError):
        Tile(level, index, width)


def test_only_level_zero_has_entry_bundles() -> None:
    with pytest.raises(TileError):
        Tile(1, 0).entries_path()


def test_random_paths_round_trip() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        digits = rng.randint(1, 20)
        tile = Tile(rng.randint(0, 63), min(rng.randrange(10**digits), MAX_UINT64), rng.randint(1, 256))
        assert parse_tile_path(tile.path()) == tile
        bundle = Tile(0, tile.index, tile.width)
        assert parse_entries_path(bundle.entries_path()) == bundle
        # Every group but the last carries the x; every group is three digits.
        groups = tile.path().split(".p/")[0].split("/")[2:]
        assert all(g.startswith("x") and len(g) == 4 for g in groups[:-1])
        assert len(groups[-1]) == 3


# --- which tiles a tree has -----------------------------------------------------------------------


def expected_tiles(size: int) -> set[Tile]:
    """The spec's definition, level by level, written out the slow way."""
    tiles: set[Tile] = set()
    level = 0
    while size // 256**level:
        hashes = size // 256**level
        tiles |= {Tile(level, n) for n in range(hashes // 256)}
        if hashes % 256:
            tiles.add(Tile(level, hashes // 256, hashes % 256))
        level += 1
    return tiles


def test_tiles_for_size_follow_the_definition() -> None:
    rng = random.Random(2)
    sizes = [0, 1, 255, 256, 257, 65535, 65536, 65537, 70_000, *(rng.randrange(300_000) for _ in range(40))]
    for size in sizes:
        assert set(tiles_for_size(size)) == expected_tiles(size)
        assert len(list(tiles_for_size(size))) == len(expected_tiles(size))


def test_tiles_for_growth_are_the_new_tiles() -> None:
    rng = random.Random(3)
    for _ in range(200):
        new = rng.randrange(200_000)
        old = rng.randrange(new + 1)
        assert set(tiles_for_size(new, old)) == expected_tiles(new) - expected_tiles(old)
    assert list(tiles_for_size(1000, 1000)) == []
    with pytest.raises(TileError):
        list(tiles_for_size(5, 6))


def test_tile_for_and_entry_bundle_for_refuse_what_the_tree_lacks() -> None:
    assert tile_for(0, 1, 257) == Tile(0, 1, 1)
    with pytest.raises(TileError):
        tile_for(0, 2, 512)
    with pytest.raises(TileError):
        tile_for(1, 0, 255)
    with pytest.raises(TileError):
        entry_bundle_for(10, 10)
    with pytest.raises(TileError):
        tile_for(0, 0, 2**64)


def test_the_largest_tree_has_eight_levels() -> None:
    assert tile_for(7, 0, MAX_UINT64) == Tile(7, 0, 255)
    with pytest.raises(TileError):
        tile_for(8, 0, MAX_UINT64)
    # One more leaf at the very end changes only the level-0 right edge.
    assert list(tiles_for_size(MAX_UINT64, MAX_UINT64 - 1)) == [Tile(0, MAX_UINT64 >> 8, 255)]


# --- tiles built from a tree recompute it ---------------------------------------------------------


def random_tree(size: int, seed: int) -> tuple[MemoryTree, list[bytes]]:
    rng = random.Random(seed)
    entries = [rng.randbytes(rng.randrange(40)) for _ in range(size)]
    return MemoryTree([leaf_hash(e) for e in entries]), entries


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 512, 65535, 65536, 70_000])
def test_tiles_recompute_the_tree(size: int) -> None:
    tree, entries = random_tree(size, size)
    store = {tile.path(): tile_bytes(tile, tree.hash_at) for tile in tiles_for_size(size)}
    reads: list[str] = []

    def read(tile: Tile) -> bytes:
        reads.append(tile.path())
        return store[tile.path()]

    get_hash = subtree_hash_from_tiles(size, read)
    assert subtree_root(0, size, get_hash) == tree.root()
    rng = random.Random(size)
    for index in {0, size - 1, *(rng.randrange(size) for _ in range(20))}:
        assert tree.inclusion_proof(index) == hotline.log.inclusion_proof(index, size, get_hash)
    assert len(reads) == len(set(reads)), "each tile is read once"
    # Level-0 tiles are the leaf hashes of the entry bundles.
    for tile in tiles_for_size(size):
        if tile.level == 0:
            bundle = encode_bundle(entries[tile.start : tile.end])
            assert [leaf_hash(e) for e in parse_bundle(bundle, tile.width)] == tile_hashes(tile, store[tile.path()])
        else:
            # "each hash in a tile is the Merkle Tree Hash of a full tile at the level below"
            for i, value in enumerate(tile_hashes(tile, store[tile.path()])):
                below = Tile(tile.level - 1, tile.first_hash + i)
                assert value == merkle_root(tile_hashes(below, store[below.path()]))


def test_a_smaller_trees_tiles_recompute_its_older_root() -> None:
    tree, _ = random_tree(1000, 5)
    for old in (1, 100, 256, 300, 999):
        store = {tile: tile_bytes(tile, tree.hash_at) for tile in tiles_for_size(old)}
        get_hash = subtree_hash_from_tiles(old, store.__getitem__)
        assert subtree_root(0, old, get_hash) == tree.root(old)
        with pytest.raises(TileError):
            get_hash(0, old)


def test_tiles_of_the_wrong_length_are_refused() -> None:
    tile = Tile(0, 0, 3)
    assert tile_hashes(tile, bytes(96)) == [bytes(32)] * 3
    for length in (0, 95, 97, 8192):
        with pytest.raises(TileError):
            tile_hashes(tile, bytes(length))
    get_hash = subtree_hash_from_tiles(3, lambda _: bytes(95))
    with pytest.raises(TileError):
        get_hash(0, 0)
    with pytest.raises(TileError):
        tile_bytes(tile, lambda _level, _index: bytes(31))


# --- entry bundles --------------------------------------------------------------------------------


def test_bundle_layout() -> None:
    assert encode_bundle([b"", b"ab", b"\x00" * 300]) == b"\x00\x00\x00\x02ab\x01\x2c" + b"\x00" * 300
    assert parse_bundle(b"\x00\x00\x00\x02ab") == [b"", b"ab"]


def test_bundles_round_trip() -> None:
    rng = random.Random(4)
    for _ in range(100):
        entries = [rng.randbytes(rng.choice([0, 1, 50, 65535])) for _ in range(rng.randint(1, 256))]
        assert parse_bundle(encode_bundle(entries), len(entries)) == entries


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\x00\x02a", b"\x00\x01ab", b"\x00\x00\x00", b"\xff\xff" + b"a" * 65534, b"\x00\x00" * 257],
)
def test_malformed_bundles_are_refused(data: bytes) -> None:
    with pytest.raises(TileError):
        parse_bundle(data)


def test_bundle_limits() -> None:
    with pytest.raises(TileError):
        parse_bundle(b"\x00\x00" * 3, 2)
    with pytest.raises(TileError):
        encode_bundle([])
    with pytest.raises(TileError):
        encode_bundle([b""] * 257)
    with pytest.raises(TileError):
        encode_bundle([b"a" * 65536])
    assert len(parse_bundle(encode_bundle([b""] * TILE_WIDTH))) == TILE_WIDTH


# --- tlog-proof -----------------------------------------------------------------------------------


def signed_tree(
    size: int, seed: int, signers: tuple[Ed25519Signer, ...] = (LOG,)
) -> tuple[MemoryTree, list[bytes], str]:
    tree, entries = random_tree(size, seed)
    return tree, entries, sign_checkpoint(Checkpoint("example.org/log", size, tree.root()), signers)


def test_transparency_dev_marshal_layout() -> None:
    _, _, note = signed_tree(3, 0)
    h1 = hashlib.sha256(b"hash1").digest()
    h2 = hashlib.sha256(b"hash2").digest()
    b64 = [base64.b64encode(h).decode() for h in (h1, h2)]
    extra = base64.b64encode(b"extra information").decode()
    assert TlogProof(5, (h1, h2), note).encode() == f"c2sp.org/tlog-proof@v1\nindex 5\n{b64[0]}\n{b64[1]}\n\n{note}"
    assert (
        TlogProof(10, (h1,), note, b"extra information").encode()
        == f"c2sp.org/tlog-proof@v1\nextra {extra}\nindex 10\n{b64[0]}\n\n{note}"
    )
    assert TlogProof(0, (), note).encode() == f"c2sp.org/tlog-proof@v1\nindex 0\n\n{note}"


SPEC_PROOF_HEAD = """c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

"""
SPEC_CHECKPOINT_BODY = "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n"


def test_spec_example_layout() -> None:
    fancylog = Ed25519Signer("example.com/fancylog", fixed_key(4))
    note = sign_checkpoint(Checkpoint.parse(SPEC_CHECKPOINT_BODY), [fancylog])
    text = SPEC_PROOF_HEAD + note
    proof = TlogProof.parse(text)
    assert proof.index == 73894
    assert len(proof.hashes) == 5
    assert proof.hashes[0] == base64.b64decode("gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=")
    assert proof.extra is not None
    assert proof.extra.startswith(b"age-v1.2.1-darwin-arm64.tar.gz")
    assert proof.checkpoint == note
    assert proof.encode() == text
    # The example is illustrative: 5 hashes cannot prove index 73894 in a tree of 109482.
    with pytest.raises(ProofError, match="too short"):
        verify_tlog_proof(b"entry", text, [fancylog.verifier()], origin="example.com/fancylog")


TRANSPARENCY_DEV_REFUSED = [
    b"wrong-header\nindex 0\n\ncheckpoint\n",
    b"c2sp.org/tlog-proof@v1\nextra !!notbase64!!\nindex 0\n\ncheckpoint\n",
    b"c2sp.org/tlog-proof@v1\n\n\ncheckpoint\n",
    b"c2sp.org/tlog-proof@v1\nindex notanumber\n\ncheckpoint\n",
    b"c2sp.org/tlog-proof@v1\nindex -5\n\ncheckpoint\n",
    b"c2sp.org/tlog-proof@v1\nindex 0\n!!notbase64!!\n\ncheckpoint\n",
    b"c2sp.org/tlog-proof@v1\nindex 0\n" + base64.b64encode(bytes(64)) + b"\n\ncheckpoint\n",
    b"c2sp.org/tlog-proof@v1\nindex 0\n" + b"a" * 65 * 1024 + b"\n",
]


@pytest.mark.parametrize("data", TRANSPARENCY_DEV_REFUSED)
def test_transparency_dev_refusals(data: bytes) -> None:
    with pytest.raises(TlogProofError):
        TlogProof.parse(data)


def test_proof_round_trip_and_verify() -> None:
    tree, entries, note = signed_tree(1000, 6, (LOG, WITNESS))
    rng = random.Random(6)
    for index in {0, 999, 511, 512, *(rng.randrange(1000) for _ in range(20))}:
        proof = build_tlog_proof(index, note, tree.hash_at)
        assert TlogProof.parse(proof.encode()) == proof
        assert TlogProof.parse(proof.encode().encode()) == proof
        verified = verify_tlog_proof(entries[index], proof.encode(), [LOG.verifier()], origin="example.org/log")
        assert verified.index == index
        assert verified.checkpoint == Checkpoint("example.org/log", 1000, tree.root())
        assert verified.leaf_hash == leaf_hash(entries[index])
        assert verified.verified_by == ("example.org/log",)
        assert verified.extra is None
    both = verify_tlog_proof_hash(
        leaf_hash(entries[3]), build_tlog_proof(3, note, tree.hash_at), [WITNESS.verifier(), LOG.verifier()]
    )
    assert both.verified_by == ("example.org/log", "witness.example")


def test_single_entry_tree_has_an_empty_proof() -> None:
    tree, entries, note = signed_tree(1, 7)
    proof = build_tlog_proof(0, note, tree.hash_at, extra=b"context")
    assert proof.hashes == ()
    assert proof.encode().startswith("c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 0\n\n")
    assert verify_tlog_proof(entries[0], proof.encode(), [LOG.verifier()]).extra == b"context"


def test_every_one_byte_change_is_refused() -> None:
    tree, entries, note = signed_tree(300, 8)
    proof = build_tlog_proof(257, note, tree.hash_at).encode().encode()
    verifiers = [LOG.verifier()]
    assert verify_tlog_proof(entries[257], proof, verifiers)
    refused = 0
    for pos in range(len(proof)):
        for flip in (0x01, 0x20, 0x80):
            mutated = proof[:pos] + bytes([proof[pos] ^ flip]) + proof[pos + 1 :]
            with pytest.raises(EncodingError) as info:
                verify_tlog_proof(entries[257], mutated, verifiers)
            assert str(info.value), "every refusal says why"
            refused += 1
    assert refused == 3 * len(proof)
    leaf = entries[257]
    for pos in range(len(leaf)):
        with pytest.raises(ProofError):
            verify_tlog_proof(leaf[:pos] + bytes([leaf[pos] ^ 1]) + leaf[pos + 1 :], proof, verifiers)
    for wrong in (leaf + b"\x00", leaf[:-1], entries[256], entries[258]):
        with pytest.raises(ProofError):
            verify_tlog_proof(wrong, proof, verifiers)


def test_policy_refusals() -> None:
    tree, entries, note = signed_tree(10, 9, (LOG, WITNESS))
    proof = build_tlog_proof(4, note, tree.hash_at)
    with pytest.raises(TlogProofError, match=r"not 'example\.org/other'"):
        verify_tlog_proof(entries[4], proof, [LOG.verifier()], origin="example.org/other")
    with pytest.raises(NoteError, match="no signature from a known key"):
        verify_tlog_proof(entries[4], proof, [STRANGER.verifier()])
    # A witness's signature that fails refuses the proof when the witness is trusted...
    witness_line = next(line for line in note.splitlines() if line.startswith("— witness.example "))
    raw = bytearray(base64.b64decode(witness_line.split(" ")[-1]))
    raw[-1] ^= 1  # still well-formed, no longer a valid signature
    bad_line = "— witness.example " + base64.b64encode(bytes(raw)).decode()
    broken = proof.encode().replace(witness_line, bad_line)
    assert verify_tlog_proof(entries[4], broken, [LOG.verifier()]).verified_by == ("example.org/log",)
    with pytest.raises(NoteError, match=r"invalid signature for key witness\.example"):
        verify_tlog_proof(entries[4], broken, [LOG.verifier(), WITNESS.verifier()])
    # ...and the extra data is not authenticated: it travels, and is returned, unverified.
    with_extra = TlogProof(proof.index, proof.hashes, proof.checkpoint, b"one")
    assert verify_tlog_proof(entries[4], with_extra, [LOG.verifier()]).extra == b"one"
    forged = with_extra.encode().replace("extra b25l", "extra dHdv")
    assert verify_tlog_proof(entries[4], forged, [LOG.verifier()]).extra == b"two"


def test_build_refuses_entries_outside_the_checkpoint() -> None:
    tree, _, note = signed_tree(10, 10)
    for index in (-1, 10, 11):
        with pytest.raises(TlogProofError):
            build_tlog_proof(index, note, tree.hash_at)
    with pytest.raises(TlogProofError):
        build_tlog_proof(0, "not a note\n", tree.hash_at)


def proof_text(index: str = "0", hashes: tuple[str, ...] = (), extra: str | None = None) -> str:
    _, _, note = signed_tree(1, 11)
    head = ["c2sp.org/tlog-proof@v1", *([f"extra {extra}"] if extra is not None else []), f"index {index}", *hashes]
    return "".join(line + "\n" for line in head) + "\n" + note


GOOD_HASH = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (proof_text("00"), "leading zero in the index"),
        (proof_text("01"), "leading zero in the index"),
        (proof_text("+1"), "sign in the index"),
        (proof_text(" 1"), "two spaces"),
        (proof_text("18446744073709551616"), "index past uint64"),
        (proof_text("1" * 5000), "absurd index"),
        (proof_text(extra=""), "empty extra data has no line"),
        (proof_text(extra="YQ"), "unpadded base64"),
        (proof_text(extra="YR=="), "non-canonical base64"),
        (proof_text(hashes=(GOOD_HASH[:-1] + "B",)), "non-canonical hash"),
        (proof_text(hashes=(base64.b64encode(bytes(31)).decode(),)), "short hash"),
        (proof_text(hashes=(GOOD_HASH,) * 65), "too many hashes"),
        (proof_text(hashes=(GOOD_HASH + " ",)), "trailing space"),
        (proof_text().replace("index 0\n", "index 0\nextra YQ==\n"), "extra after index"),
        (proof_text().replace("@v1\n", "@v1 \n"), "header with a space"),
        (proof_text().replace("@v1\n", "@v2\n"), "another version"),
        (proof_text().replace("\n", "\r\n"), "CRLF"),
        (proof_text().replace("index 0\n\n", "index 0\n"), "no empty line"),
        (proof_text() + "\n", "trailing empty line"),
        (proof_text() + "— x AAAA\n", "garbage signature line"),
        (proof_text().split("\n\n")[0] + "\n\n", "no checkpoint"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n\nexample.org/log\n1\n\n— a AAAAAA==\n", "not a checkpoint"),
        ("\ufeff" + proof_text(), "byte order mark"),
    ],
)
def test_malformed_proofs_are_refused(text: str, why: str) -> None:
    with pytest.raises(TlogProofError):
        TlogProof.parse(text)
    assert why


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(TlogProofError, match="UTF-8"):
        TlogProof.parse(proof_text().encode() + b"\xff")


def test_invalid_proof_records_are_refused() -> None:
    _, _, note = signed_tree(1, 12)
    for args in [(-1, (), note), (2**64, (), note), (0, (bytes(31),), note), (0, (bytes(32),) * 65, note)]:
        with pytest.raises(TlogProofError):
            TlogProof(*args)
    with pytest.raises(TlogProofError):
        TlogProof(0, (), note, b"")
    with pytest.raises(TlogProofError):
        TlogProof(0, (), "example.org/log\n1\n")


def test_errors_are_encoding_errors() -> None:
    assert issubclass(TileError, EncodingError)
    assert issubclass(TlogProofError, EncodingError)
