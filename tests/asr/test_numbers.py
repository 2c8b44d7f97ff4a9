"""Spoken digit strings → digits, in English and Japanese; anything else is None (no guessing)."""

from __future__ import annotations

import pytest

from ivr.asr.numbers import spoken_digits


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        (" 4, 2, 7, 1.", "4271"),
        (" 4 2 7 1", "4271"),
        ("4271", "4271"),
        ("4,271", "4271"),
        ("4-2-7-1", "4271"),
        ("Four two seven one.", "4271"),
        ("four, two, seven, one", "4271"),
        ("zero nine", "09"),
        ("oh nine O", "090"),
        ("double four two", "442"),
        ("triple 7", "777"),
        ("1 two 3", "123"),
        ("ＦＯＵＲ ４", "44"),
        ("Eight? Five!", "85"),
    ],
)
def test_english_digits(text: str, digits: str) -> None:
    assert spoken_digits(text, "en") == digits


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ... ",
        "hello",
        "four two seven and one",
        "forty two",
        "four hundred",
        "for two",  # homophones are not read as digits: no guessing
        "double",
        "double double four",
        "four double",
        "double 42",
        "4271 please",
        "よん に",  # Japanese words in an English request
    ],
)
def test_english_non_digits_are_none(text: str) -> None:
    assert spoken_digits(text, "en") is None


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("よん に なな いち", "4271"),
        ("よんになないち", "4271"),
        ("ヨン ニ ナナ イチ", "4271"),
        ("ヨンニナナイチ", "4271"),
        ("よん、に、なな、いち。", "4271"),
        ("四二七一", "4271"),
        ("四 二 七 一", "4271"),
        ("４２７１", "4271"),
        ("4 2 7 1", "4271"),
        ("4、2、7、1。", "4271"),
        ("ぜろ まる れい ゼロ", "0000"),
        ("〇零", "00"),
        ("しち し く きゅう", "7499"),
        ("しちし", "74"),
        ("ニー ゴー キュー", "259"),
        ("にいち", "21"),  # に + いち; にい + ち does not read
        ("ごう ろく はち さん", "5683"),
        ("いち二3よん", "1234"),
        ("キュウ", "9"),
    ],
)
def test_japanese_digits(text: str, digits: str) -> None:
    assert spoken_digits(text, "ja") == digits


@pytest.mark.parametrize(
    "text",
    [
        "",
        "。",
        "へんぴん",
        "よん に です",
        "4271番",
        "十二",  # a number, not digits
        "四十二",
        "にち",
        "four two",  # English words in a Japanese request
        "ー",
    ],
)
def test_japanese_non_digits_are_none(text: str) -> None:
    assert spoken_digits(text, "ja") is None


def test_language_tags_are_reduced_to_their_base() -> None:
    assert spoken_digits("four two", "en-US") == "42"
    assert spoken_digits("よん に", "ja-JP") == "42"


def test_other_languages_take_only_written_digits() -> None:
    assert spoken_digits("4 2 7", "ko") == "427"
    assert spoken_digits("four", "ko") is None
    assert spoken_digits("사 이", "ko") is None
