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

# C2SP formats on top of the tree: signed notes, checkpoints and cosignature/v1. The submodules
# themselves are public too (importing a name from them binds them here anyway), so they are listed.
from hotline.log import checkpoint, cosignature, note
from hotline.log.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    sign_checkpoint,
)
from hotline.log.cosignature import (
    ALG_COSIGNATURE_V1,
    CosignatureError,
    CosignatureSigner,
    CosignatureVerifier,
    TimedCosigner,
    cosign,
    cosignature_timestamp,
    cosigned_message,
    verify_cosignature,
)
from hotline.log.note import (
    ALG_ED25519,
    Ed25519Signer,
    Ed25519Verifier,
    Note,
    NoteError,
    OpenedNote,
    Signature,
    Signer,
    Verifier,
    key_id,
    open_note,
    parse_note,
    parse_verifier_key,
    sign_note,
    valid_key_name,
)

__all__ += [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "MAX_TREE_SIZE",
    "Checkpoint",
    "CheckpointError",
    "CosignatureError",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Ed25519Signer",
    "Ed25519Verifier",
    "Note",
    "NoteError",
    "OpenedNote",
    "Signature",
    "Signer",
    "TimedCosigner",
    "Verifier",
    "checkpoint",
    "cosign",
    "cosignature",
    "cosignature_timestamp",
    "cosigned_message",
    "key_id",
    "note",
    "open_checkpoint",
    "open_note",
    "parse_note",
    "parse_verifier_key",
    "sign_checkpoint",
    "sign_note",
    "valid_key_name",
    "verify_cosignature",
]
