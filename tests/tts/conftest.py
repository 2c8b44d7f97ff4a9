"""Fixtures for the TTS tests."""

from __future__ import annotations

import pytest

from ivr.tts.engine import SynthesisError
from tests.tts.fakes import ToneSynthesizer


@pytest.fixture
def tone() -> ToneSynthesizer:
    return ToneSynthesizer()


@pytest.fixture
def failing() -> ToneSynthesizer:
    return ToneSynthesizer(fail=SynthesisError("pyttsx3 voice jpx/ja: exit 1: espeak missing"))
