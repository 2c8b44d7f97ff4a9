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


_EN_SMALL = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_JA_DIGIT = {1: "いち", 2: "に", 3: "さん", 4: "よん", 5: "ご", 6: "ろく", 7: "なな", 8: "はち", 9: "きゅう"}
_JA_HUNDREDS = {1: "ひゃく", 3: "さんびゃく", 6: "ろっぴゃく", 8: "はっぴゃく"}
_JA_THOUSANDS = {1: "せん", 3: "さんぜん", 8: "はっせん"}


def number_words(n: int, lang: str) -> str:
    """A count read as a number (``12`` → "twelve", じゅうに), 0–9999; Japanese with the same unmistakable
    readings as the digits (7 なな, 4 よん, 9 きゅう). Larger numbers are read digit by digit."""
    if n < 0 or n > 9999:
        return digits_to_words(str(n), lang)
    if lang == "ja":
        return _ja_number(n)
    return _en_number(n)


def _en_number(n: int) -> str:
    if n < 20:
        return _EN_SMALL[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_SMALL[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_EN_SMALL[hundreds]} hundred" + (f" {_en_number(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{_en_number(thousands)} thousand" + (f" {_en_number(rest)}" if rest else "")


def _ja_number(n: int) -> str:
    if n == 0:
        return "ゼロ"
    thousands, rest = divmod(n, 1000)
    hundreds, rest = divmod(rest, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if thousands:
        out += _JA_THOUSANDS.get(thousands, _JA_DIGIT[thousands] + "せん")
    if hundreds:
        out += _JA_HUNDREDS.get(hundreds, _JA_DIGIT[hundreds] + "ひゃく")
    if tens:
        out += ("" if tens == 1 else _JA_DIGIT[tens]) + "じゅう"
    if ones:
        out += _JA_DIGIT[ones]
    return out


_JA_MINUTE_ONES = {
    1: "いっぷん",
    2: "にふん",
    3: "さんぷん",
    4: "よんぷん",
    5: "ごふん",
    6: "ろっぷん",
    7: "ななふん",
    8: "はっぷん",
    9: "きゅうふん",
}


def ja_minutes(n: int) -> str:
    """Minutes with the counter's sound changes (いっぷん, にふん, さんぷん, じゅっぷん …)."""
    ones = n % 10
    if ones:
        return (number_words(n - ones, "ja") if n > ones else "") + _JA_MINUTE_ONES[ones]
    words = number_words(n, "ja")
    return words[: -len("じゅう")] + "じゅっぷん" if words.endswith("じゅう") else words + "ふん"
