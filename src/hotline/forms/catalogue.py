"""Form schemas (pydantic) and the one function that checks a body against them.

A body is checked twice: by the sender before it signs, and by the receiver before it receipts.
A failure names the field, so the signed rejection tells the sender exactly what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hotline.envelope.model import FieldError

LANGUAGE_TAG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"  # BCP 47, the subset hotline needs


class FormBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FreeText(FormBody):
    """Text in the author's language; the language tag travels with it."""

    text: str = Field(min_length=1, max_length=20_000)
    lang: str = Field(pattern=LANGUAGE_TAG)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the text is empty or only blanks")
        return text


@dataclass(frozen=True)
class FormSpec:
    kind: str
    version: int
    schema: type[FormBody]
    title: str


FORMS: dict[tuple[str, int], FormSpec] = {
    ("free_text", 1): FormSpec("free_text", 1, FreeText, "Free text"),
}


def validate_body(kind: str, version: int, body: dict[str, Any]) -> FormBody:
    """Return the parsed body, or raise ``FieldError`` naming the first bad field."""
    spec = FORMS.get((kind, version))
    if spec is None:
        raise FieldError("kind", f"unknown form {kind!r} version {version}")
    try:
        return spec.schema.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise FieldError(f"body.{where}", error["msg"].removeprefix("Value error, ")) from None
