"""The catalogue of pre-agreed messages, read once from ``pre_agreed.toml``.

The texts live in a data file rather than in the gettext catalogues because they are not ours to
translate: each is an agreed text in both languages, and the file is what both sides sign off.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class PreAgreedText:
    code: str
    en: str
    ru: str

    def text(self, lang: str) -> str:
        if lang not in {"en", "ru"}:
            raise ValueError(f"unsupported language {lang!r}")
        return self.en if lang == "en" else self.ru


def _load() -> dict[str, PreAgreedText]:
    source = resources.files("hotline.forms").joinpath("pre_agreed.toml").read_text(encoding="utf-8")
    return {code: PreAgreedText(code, texts["en"], texts["ru"]) for code, texts in tomllib.loads(source).items()}


PRE_AGREED: dict[str, PreAgreedText] = _load()
