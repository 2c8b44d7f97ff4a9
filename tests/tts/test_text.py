from __future__ import annotations

from ivr.tts.text import cache_key, clean_text


def test_clean_text_drops_control_and_format_characters() -> None:
    assert clean_text("a\x00b\x1bc\u200bd\u202ee") == "abcde"
    assert clean_text("  line one\n\tline two \r\n") == "line one line two"
    assert clean_text("\x07") == ""


def test_clean_text_composes_kana() -> None:
    assert clean_text("こ\u3099") == "ご"


def test_cache_key_changes_with_every_input() -> None:
    base = {"text": "hi", "lang": "en", "voice": "gmw/en-us", "rate": 160, "engine": "e1", "fmt": "f1"}
    keys = {cache_key(**base)}  # type: ignore[arg-type]
    for field, other in [("text", "ho"), ("lang", "en-GB"), ("voice", "gmw/en"), ("rate", 150),
                         ("engine", "e2"), ("fmt", "f2")]:  # fmt: skip
        keys.add(cache_key(**{**base, field: other}))  # type: ignore[arg-type]
    assert len(keys) == 7
    assert cache_key(**base) == cache_key(**base)  # type: ignore[arg-type]
