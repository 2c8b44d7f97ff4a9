"""What a caller hears, as data: the flow engine produces prompts, ``ivr.tts`` turns them into ARI media.

A leaf module (imports nothing from ``ivr``) so that both ``ivr.flows`` and ``ivr.tts`` can use it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Speak:
    """Text synthesised by TTS in the given language (``ja`` or ``en``)."""

    text: str
    lang: str


@dataclass(frozen=True)
class SoundFile:
    """A recorded prompt: an Asterisk sound name (``hello-world``) or an absolute path without extension."""

    name: str


@dataclass(frozen=True)
class Digits:
    """Digits read back one by one with the language's pronunciation rules (Japanese 7 is "nana")."""

    digits: str
    lang: str


@dataclass(frozen=True)
class Silence:
    ms: int


Prompt = Speak | SoundFile | Digits | Silence
