"""The waiting caller's place in line: ordinary Japanese, numbers with the read-back's readings."""

from __future__ import annotations

from ivr.flows.queue_announcement import position_announcement, wait_minutes
from ivr.prompts import Speak


def _text(position: int, wait_s: int, lang: str, key: str | None = None) -> str:
    [prompt] = position_announcement(position, wait_s, lang, key)
    assert isinstance(prompt, Speak) and prompt.lang == lang
    return prompt.text


def test_wait_is_whole_minutes_rounded_up_and_at_least_one() -> None:
    assert [wait_minutes(s) for s in (0, 59, 60, 61, 400)] == [1, 1, 1, 2, 7]


def test_japanese_reads_position_and_minutes_as_the_read_back_does() -> None:
    text = _text(7, 400, "ja")
    assert "あなたはなな番目です。" in text and "およそななふんで" in text
    assert "押して" not in text  # no callback offer without a key


def test_japanese_first_in_line_and_callback_key() -> None:
    text = _text(1, 30, "ja", "8")
    assert "次におつなぎします。" in text and "番目" not in text and "いっぷん" in text
    assert text.endswith("はち番を押してください。")


def test_english_counts_in_words() -> None:
    text = _text(4, 90, "en", "8")
    assert "number four in line" in text and "about two minutes" in text and text.endswith("press eight.")
