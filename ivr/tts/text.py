"""Text hygiene and cache naming for synthesised prompts (pure)."""

from __future__ import annotations

import hashlib
import json
import unicodedata

MAX_TEXT_CHARS = 2000


def clean_text(text: str) -> str:
    """NFC-normalised text without control characters, whitespace collapsed.

    Control and format characters (C0/C1, bidi overrides, zero-width, surrogates, private use,
    unassigned) are dropped; tabs and line breaks become spaces. May return "" (nothing speakable).
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        category = unicodedata.category(ch)
        if ch.isspace():
            out.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def cache_key(*, text: str, lang: str, voice: str, rate: int, engine: str, fmt: str) -> str:
    """File name (no extension) for a rendered prompt: a hash of everything that shapes the audio."""
    blob = json.dumps([text, lang, voice, rate, engine, fmt], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:40]
