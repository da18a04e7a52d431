"""The append-only log: a pure RFC 6962 / RFC 9162 Merkle tree core (no I/O, no clock).

The co-signed transcript (C2SP tlog-checkpoint, tlog-witness, tlog-proof) is built on these
functions; the store feeds them stored subtree hashes through a ``SubtreeHash`` function.
"""

from hotline.log.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MemoryTree,
    ProofError,
    SubtreeHash,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "ProofError",
    "SubtreeHash",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]
