"""What the API's requests carry: one pydantic model for each body it accepts.

Every model forbids fields it does not know, so that a misspelt field is refused (422) rather
than silently dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hotline.envelope import DEFAULT_MARKING
from hotline.node import SendRequest


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(
        description="the pinned peer party to send to; several, separated by commas; or * for every pinned party",
        examples=["GENSTAB", "GENSTAB,SACEUR", "*"],
        max_length=4096,
    )
    kind: str = Field("free_text", description="form id")
    kind_version: int = Field(1, ge=1)
    body: dict[str, Any] = Field(description="the form's fields", examples=[{"text": "Link check.", "lang": "en"}])
    precedence: str = Field("ROUTINE", examples=["FLASH"])
    marking: str = DEFAULT_MARKING
    reply_to: str | None = Field(None, pattern="^[0-9a-f]{64}$", description="id of the message this answers")
    ref: str | None = Field(None, max_length=128, description="idempotency key: the same ref never queues twice")


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[MessageIn] = Field(min_length=1, max_length=10_000)


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64, description="who acknowledges: the officer's name")
    remark: str | None = Field(None, description="checked by the ack form, as every form field is")
    rank: str | None = Field(None, description="the officer's rank, a code: `hotline forms ack` lists them")


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64, description="who closes it: the officer's name")
    remark: str = Field(min_length=1, max_length=2000, description="what was found and what was done")


class CatchUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64, description="who decided it: the officer's name")
    remark: str = Field(min_length=1, max_length=2000, description="why: which copy was restored, what was lost")


class PeerStateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64, description="who decided it: the officer's name")
    remark: str | None = Field(None, min_length=1, max_length=2000, description="why (kept in the audit)")


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    next_key: str = Field(min_length=1, max_length=4096, description="the committed next signing key, PEM")
    by: str = Field(min_length=1, max_length=64, description="who decided it: the officer's name")


class CardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    card: str
    fingerprint: str = Field(description="the fingerprint confirmed by voice; must match the card's")
    replace: bool = Field(False, description="the party is pinned with other keys: replace them (a compromise)")
    by: str = Field("operator", min_length=1, max_length=64, description="who decided it (kept in the audit)")


class CardListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cards: str = Field(
        max_length=4_000_000, description="lines of CARD FINGERPRINT, as `hotline peer add --file` reads"
    )
    by: str = Field("operator", min_length=1, max_length=64, description="who decided it (kept in the audit)")


def to_request(message: MessageIn) -> SendRequest:
    return SendRequest(
        to=message.to,
        kind=message.kind,
        kind_version=message.kind_version,
        body=message.body,
        precedence=message.precedence,
        marking=message.marking,
        reply_to=bytes.fromhex(message.reply_to) if message.reply_to else None,
        ref=message.ref,
    )
