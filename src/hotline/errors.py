"""Every error hotline raises on purpose, in one tree.

    HotlineError                 root: anything we raise deliberately
    ├── ConfigError              the node directory or its config is missing or wrong
    ├── PairingError             an identity card is malformed, or a peer is unknown
    ├── EncodingError            bytes are not a canonical hotline object
    │   └── SignatureError       a signature does not verify under the expected key
    ├── ProtocolError            a session broke the rules (h11's split, kept apart):
    │   ├── LocalProtocolError   ... we did: a bug on our side
    │   └── RemoteProtocolError  ... the peer did: refuse, tell it why, close
    ├── StoreError               the store refused an operation (conflict, corruption)
    │   └── RefConflictError     an idempotency key already names a different message
    ├── NotFoundError            no message by that serial or id
    ├── AcknowledgeError         a message cannot be acknowledged (already done, not ours to)
    ├── AlarmError               an alarm cannot be closed (already closed, or it clears itself)
    ├── NumberingError           numbering cannot be resumed (nothing to resume, or the peer is away)
    └── ApiError                 the local operator API answered with an error

The CLI turns each of these into one line of text and an exit code (see ``cli.py``); nothing
else in the package prints.
"""

from __future__ import annotations


class HotlineError(Exception):
    """Root of every deliberate hotline error."""


class ConfigError(HotlineError):
    """The node directory or its configuration is missing or invalid."""


class PairingError(HotlineError):
    """An identity card is malformed, or a party is not pinned."""


class EncodingError(HotlineError):
    """Bytes that should hold a canonical hotline object do not."""


class SignatureError(EncodingError):
    """A signature does not verify under the key it must verify under."""


class ProtocolError(HotlineError):
    """A session broke the protocol. ``code`` is a stable machine-readable reason."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class LocalProtocolError(ProtocolError):
    """We tried to do something the protocol forbids: a bug on our side."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids."""


class StoreError(HotlineError):
    """The store refused an operation."""


class RefConflictError(StoreError):
    """A client reference (idempotency key) was reused for a message with other content."""

    def __init__(self, ref: str, number: int) -> None:
        super().__init__(f"ref {ref!r} already names message number {number}, with other content")
        self.ref = ref
        self.number = number


class NotFoundError(HotlineError):
    """No stored message answers to the serial or id given."""


class AcknowledgeError(HotlineError):
    """A message cannot be acknowledged: it was already, or it is not one a person acknowledges."""


class AlarmError(HotlineError):
    """An alarm cannot be closed: it was already, or it is a condition that clears itself."""


class NumberingError(HotlineError):
    """Numbering to a peer cannot be resumed: our store is not behind, or the peer is not linked."""


class ApiError(HotlineError):
    """The operator API answered with an error, or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
