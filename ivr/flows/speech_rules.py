"""Per-language rules for spoken input, in one place. Pure data and text; no I/O.

Japanese speech does not meet the English bar yet (Whisper base on Open JTalk read-backs: 0–5 of 10
digit strings right, menu words 60–71 %; see docs/speech.md), so:

- a spoken menu choice in a language of :data:`CONFIRM_SPOKEN_CHOICE` is confirmed before the call acts
  on it ("返品ですね？" then yes/no by voice or 1/2);
- a ``collect`` with ``speech: true`` in a language of :data:`KEYS_FIRST_DIGITS` does not listen: digit
  entry there is keys only (a wrong order number read back and confirmed costs more than a key press).

Drop a language from these sets when its measured accuracy reaches the English goal.
"""

from __future__ import annotations

CONFIRM_SPOKEN_CHOICE: frozenset[str] = frozenset({"ja"})
"""Languages whose spoken menu choices are confirmed before acting."""

KEYS_FIRST_DIGITS: frozenset[str] = frozenset({"ja"})
"""Languages where a ``collect`` never listens for spoken digits."""

DIGITS_REQUEST = "<digits>"
"""``ListenSpeech`` words ``(DIGITS_REQUEST,)`` ask the recogniser for a digit string ("4271") instead of
a menu word. The same token as ``ivr.asr.grammar.DIGITS`` (the flows core imports no ASR code)."""

YES_WORDS: dict[str, tuple[str, ...]] = {
    "ja": ("はい", "ええ", "そうです", "正しい"),
    "en": ("yes", "yeah", "correct", "right"),
}
NO_WORDS: dict[str, tuple[str, ...]] = {
    "ja": ("いいえ", "違います", "ちがいます", "いや"),
    "en": ("no", "wrong", "nope"),
}
"""Spoken yes / no, per language: ``confirm``'s default words and the answers to a spoken-choice check."""

YES_KEY, NO_KEY = "1", "2"
"""Keys that answer the check of a spoken menu choice."""

_CHECK_QUESTION = {
    "ja": "{word}ですね？ はいは1番、いいえは2番を押してください。",
    "en": "{word}, is that right? Press 1 for yes, 2 for no.",
}


def spoken_choice_question(word: str, lang: str) -> str:
    """What the caller hears before a spoken menu choice is acted on: ``返品ですね？ …``."""
    return _CHECK_QUESTION.get(lang, _CHECK_QUESTION["en"]).format(word=word)
