"""How text is read out on the phone, per language (pure; a leaf module shared by ``ivr.flows`` and
``ivr.tts``): digit read-back words, and which text the Japanese voice cannot read (kanji).

Japanese uses the readings that cannot be misheard on the phone: 4 よん (never し), 7 なな (never しち),
9 きゅう (never く).
"""

from __future__ import annotations

import unicodedata

_WORDS: dict[str, dict[str, str]] = {
    "ja": {
        "0": "ゼロ",
        "1": "いち",
        "2": "に",
        "3": "さん",
        "4": "よん",
        "5": "ご",
        "6": "ろく",
        "7": "なな",
        "8": "はち",
        "9": "きゅう",
        "*": "こめ",
        "#": "シャープ",
    },
    "en": {
        "0": "zero",
        "1": "one",
        "2": "two",
        "3": "three",
        "4": "four",
        "5": "five",
        "6": "six",
        "7": "seven",
        "8": "eight",
        "9": "nine",
        "*": "star",
        "#": "pound",
    },
}

_SEPARATOR = {"ja": "、", "en": " "}


def supported_languages() -> tuple[str, ...]:
    return tuple(_WORDS)


def digit_word(digit: str, lang: str) -> str:
    """One digit's word; an unknown language falls back to English, an unknown character to itself."""
    return _WORDS.get(lang, _WORDS["en"]).get(digit, digit)


def digits_to_words(digits: str, lang: str) -> str:
    """``digits_to_words("4271", "en") == "four two seven one"``; ja: ``"よん、に、なな、いち"``.

    Characters that are not digits (spaces, dashes) are skipped.
    """
    words = [digit_word(d, lang) for d in digits if d in _WORDS["en"]]
    return _SEPARATOR.get(lang, " ").join(words)


def has_ideographs(text: str) -> bool:
    """True if ``text`` contains CJK ideographs (kanji), which espeak-ng's Japanese voice can't read."""
    return any(unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH") for ch in text)
