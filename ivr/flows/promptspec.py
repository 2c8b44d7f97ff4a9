"""Prompt fields in flows (text, per-language text or a recorded file) and safe ``{var}`` templates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivr.prompts import Prompt, SoundFile, Speak

_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
ALL_LANGS = "*"


@dataclass(frozen=True)
class PromptText:
    """``texts`` maps a language (or ``*`` for all) to text; ``file`` is a recorded prompt instead."""

    texts: tuple[tuple[str, str], ...] = ()
    file: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> PromptText:
        if isinstance(raw, str):
            return cls(texts=((ALL_LANGS, raw),))
        if isinstance(raw, Mapping):
            if "file" in raw:
                return cls(file=str(raw["file"]))
            return cls(texts=tuple((str(k), str(v)) for k, v in raw.items()))
        return cls(texts=((ALL_LANGS, str(raw)),))

    @property
    def per_language(self) -> bool:
        return self.file is None and not any(k == ALL_LANGS for k, _ in self.texts)

    def languages(self) -> set[str]:
        return {k for k, _ in self.texts if k != ALL_LANGS}

    def text_for(self, lang: str) -> str | None:
        table = dict(self.texts)
        return table.get(lang, table.get(ALL_LANGS))

    def templates(self) -> list[str]:
        return [t for _, t in self.texts]

    def render(self, lang: str, variables: Mapping[str, str]) -> tuple[Prompt, ...]:
        if self.file is not None:
            return (SoundFile(self.file),)
        text = self.text_for(lang)
        if text is None:  # the checker rejects this; at run time fall back to any text
            text = self.texts[0][1] if self.texts else ""
        return (Speak(render_template(text, variables), lang),)


def template_names(text: str) -> list[str]:
    """Variable names used in ``text`` (``{{`` and ``}}`` are literal braces)."""
    return _VAR.findall(text.replace("{{", "").replace("}}", ""))


def render_template(text: str, variables: Mapping[str, str]) -> str:
    """Replace ``{name}`` by the variable's value (missing → empty). Never evaluates anything."""
    parts = text.split("{{")
    out = []
    for part in parts:
        pieces = part.split("}}")
        out.append("}".join(_VAR.sub(lambda m: str(variables.get(m.group(1), "")), p) for p in pieces))
    return "{".join(out)


def parse_words(raw: Any) -> dict[str, tuple[str, ...]]:
    """``words`` field: list/str (all languages) or {lang: list|str}."""
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return {str(k): _as_tuple(v) for k, v in raw.items()}
    return {ALL_LANGS: _as_tuple(raw)}


def _as_tuple(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, list | tuple):
        return tuple(str(x) for x in raw)
    return (str(raw),)
