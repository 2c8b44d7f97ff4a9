"""Spoken digit strings → digits. Pure functions.

A recogniser's transcript of someone saying a number one digit at a time (``"four two seven one"``,
``"4, 2, 7, 1."``, ``"よん に なな いち"``, ``"四二七一"``) becomes ``"4271"``. Anything that is not
entirely digits, digit words and separators gives ``None``: a transcript is never half-read or guessed.

English: ``zero``/``oh``/``o``, ``one``…``nine``, ``double``/``triple`` before a digit, digits in the
text (``4,271`` too). Japanese: いち に さん よん/し ご ろく なな/しち はち きゅう/く, ゼロ/ぜろ/まる/れい,
in hiragana or katakana (long vowels ``ニー``, ``ゴー``, ``キュー``), the kanji 〇零一二三四五六七八九,
and digits; written with or without spaces. Japanese text that splits into digit words in two different
ways is ambiguous and gives ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Separators between digits: spaces and the punctuation a transcript puts there.
_SEPARATORS = re.compile(r"[\s,.、。・:;!?\-–—'\"「」『』()（）]+")

EN_WORDS: dict[str, str] = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
EN_REPEAT = {"double": 2, "triple": 3}

# Readings in hiragana (katakana is folded to hiragana first). Long forms with う or ー are listed
# explicitly; ー is kept (not stripped) so it can only lengthen a reading.
JA_READINGS: dict[str, str] = {
    "ぜろ": "0",
    "まる": "0",
    "れい": "0",
    "いち": "1",
    "に": "2",
    "にい": "2",
    "にー": "2",
    "さん": "3",
    "よん": "4",
    "し": "4",
    "ご": "5",
    "ごう": "5",
    "ごー": "5",
    "ろく": "6",
    "なな": "7",
    "しち": "7",
    "はち": "8",
    "きゅう": "9",
    "きゅー": "9",
    "きゅ": "9",
    "く": "9",
}
JA_KANJI = dict(zip("〇零一二三四五六七八九", "00123456789", strict=True))
_LONGEST_READING = max(len(r) for r in JA_READINGS)


def spoken_digits(text: str, lang: str) -> str | None:
    """The digits ``text`` says, or None when it says anything else (or nothing)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    base = lang.split("-", 1)[0].casefold()
    if base == "ja":
        return _japanese(folded)
    if base == "en":
        return _english(folded)
    return _plain(folded)


def _plain(text: str) -> str | None:
    """Only digits and separators, in any language."""
    chunks = [c for c in _SEPARATORS.split(text) if c]
    if not chunks or not all(c.isascii() and c.isdigit() for c in chunks):
        return None
    return "".join(chunks)


def _english(text: str) -> str | None:
    tokens = [t for t in _SEPARATORS.split(text) if t]
    out: list[str] = []
    repeat = 1
    for token in tokens:
        if token in EN_REPEAT:
            if repeat != 1:
                return None
            repeat = EN_REPEAT[token]
            continue
        if token.isascii() and token.isdigit():
            digits = token
        elif token in EN_WORDS:
            digits = EN_WORDS[token]
        else:
            return None
        if repeat != 1:
            if len(digits) != 1:
                return None
            digits *= repeat
            repeat = 1
        out.append(digits)
    if repeat != 1 or not out:
        return None
    return "".join(out)


def _hiragana(text: str) -> str:
    """Katakana → hiragana (the two blocks are 0x60 apart); everything else unchanged."""
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in text)


def _japanese(text: str) -> str | None:
    chunks = [c for c in _SEPARATORS.split(_hiragana(text)) if c]
    if not chunks:
        return None
    out: list[str] = []
    for chunk in chunks:
        digits = _japanese_chunk(chunk)
        if digits is None:
            return None
        out.append(digits)
    return "".join(out)


def _japanese_chunk(chunk: str) -> str | None:
    readings = _segmentations(chunk)
    if len(readings) != 1:
        return None  # not digits at all, or two readings (no guessing)
    return next(iter(readings))


@lru_cache(maxsize=1024)
def _segmentations(chunk: str) -> frozenset[str]:
    """Every digit string ``chunk`` can be read as, in full (empty when it cannot)."""
    if not chunk:
        return frozenset({""})
    found: set[str] = set()
    head = chunk[0]
    if head.isascii() and head.isdigit():
        found |= {head + rest for rest in _segmentations(chunk[1:])}
    elif head in JA_KANJI:
        found |= {JA_KANJI[head] + rest for rest in _segmentations(chunk[1:])}
    else:
        for size in range(1, min(_LONGEST_READING, len(chunk)) + 1):
            digit = JA_READINGS.get(chunk[:size])
            if digit is not None:
                found |= {digit + rest for rest in _segmentations(chunk[size:])}
    return frozenset(found)
