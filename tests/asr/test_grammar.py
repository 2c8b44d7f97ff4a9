from __future__ import annotations

import json

import pytest

from ivr.asr.grammar import jsgf, phrases, sphinx_tokens, split_compound, vosk_grammar


def test_phrases_are_normalised_and_unique() -> None:
    assert phrases(["English", " english ", "New  Order", "ＯＲＤＥＲ", ""]) == (
        "english",
        "new order",
        "order",
    )


def test_sphinx_tokens() -> None:
    assert sphinx_tokens("Call-back!") == ("call", "back")
    assert sphinx_tokens("don't") == ("don't",)
    assert sphinx_tokens("返品") == ()


def test_jsgf() -> None:
    text = jsgf([("english",), ("new", "order")])
    assert text.startswith("#JSGF V1.0;")
    assert "public <choice> = english | new order;" in text
    with pytest.raises(ValueError):
        jsgf([])


def test_split_compound() -> None:
    known = {"call", "back", "callback"}.__contains__
    assert split_compound("callback", {"call", "back"}.__contains__) == ("call", "back")
    assert split_compound("xyzzy", known) is None


def test_vosk_grammar_keeps_japanese_unescaped() -> None:
    grammar = vosk_grammar(["英語", "えいご", "英語"])
    assert "英語" in grammar  # ensure_ascii=False, or Vosk ignores the words
    assert json.loads(grammar) == ["英語", "えいご", "[unk]"]
