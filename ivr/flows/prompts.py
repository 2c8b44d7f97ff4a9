"""The prompt types live in the leaf module ``ivr.prompts`` (shared with ``ivr.tts``); re-exported here."""

from ivr.prompts import Digits, Prompt, Silence, SoundFile, Speak

__all__ = ["Digits", "Prompt", "Silence", "SoundFile", "Speak"]
