"""What a waiting caller hears about their place in line. Pure; ordinary Japanese (kanji, は) for Open
JTalk, numbers in kana with the read-back's unmistakable readings (7 なな)."""

from __future__ import annotations

import math

from ivr.prompts import Prompt, Speak
from ivr.speech_text import digit_word, ja_minutes, number_words


def wait_minutes(expected_wait_s: int) -> int:
    """Whole minutes, at least one: callers are told "about N minutes"."""
    return max(1, math.ceil(expected_wait_s / 60))


def position_announcement(
    position: int, expected_wait_s: int, lang: str, callback_key: str | None = None
) -> tuple[Prompt, ...]:
    minutes = wait_minutes(expected_wait_s)
    if lang == "ja":
        text = (
            "ただいま、順番におつなぎしております。"
            + (
                "次におつなぎします。"
                if position == 1
                else f"あなたは{number_words(position, 'ja')}番目です。"
            )
            + f"およそ{ja_minutes(minutes)}でおつなぎできる見込みです。"
        )
        if callback_key:
            key = digit_word(callback_key, "ja")
            text += f"順番を保ったまま折り返しをご希望の方は{key}番を押してください。"
        return (Speak(text, "ja"),)
    where = (
        "You are next in line."
        if position == 1
        else f"You are number {number_words(position, 'en')} in line."
    )
    unit = "minute" if minutes == 1 else "minutes"
    wait = f"{number_words(minutes, 'en')} {unit}"
    text = f"All our operators are busy. {where} Your expected wait is about {wait}."
    if callback_key:
        text += f" To be called back instead, keeping your place, press {digit_word(callback_key, 'en')}."
    return (Speak(text, "en" if lang != "ja" else lang),)
