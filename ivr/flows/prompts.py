"""What a caller hears, as data. The session turns prompts into ARI media URIs."""

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
