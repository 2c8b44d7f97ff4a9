"""Hostile caller IDs (any text, non-BMP, control characters, huge): bounded, printable, never an error."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from ivr.calls.callerid import MAX_NAME, MAX_NUMBER, caller_name, caller_number, unescape_quoted_pairs

hostile = st.none() | st.text(max_size=400) | st.text(alphabet=st.characters(codec="utf-8"), min_size=100)


@given(hostile)
@example("\\")  # a lone backslash
@example("\\\x00" * 200)
@example("\U0001f4de" * 500)  # non-BMP, longer than the bound
@example("\u202e\u200b\ufeff")  # bidi override, zero width, BOM
def test_any_caller_id_is_bounded_printable_text(raw: str | None) -> None:
    name, number = caller_name(raw), caller_number(raw)
    assert len(name) <= MAX_NAME and len(number) <= MAX_NUMBER
    assert name.isprintable() and number.isprintable()
    assert number == "".join(ch for ch in raw or "" if ch.isprintable())[:MAX_NUMBER]


@given(st.text(max_size=100))
def test_unescaping_removes_one_backslash_per_pair(text: str) -> None:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    assert unescape_quoted_pairs(escaped) == text
