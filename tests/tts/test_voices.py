from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.tts.voices import VoiceFiles, openjtalk_voice, piper_voice


def test_version_changes_with_the_voice_file(tmp_path: Path) -> None:
    voice = tmp_path / "voice.htsvoice"
    voice.write_bytes(b"voice one")
    files = VoiceFiles("openjtalk", (voice,), ("numpy",))
    first = files.version()
    assert files.version() == first
    voice.write_bytes(b"voice two")
    assert files.version() != first
    assert "numpy-" in first


def test_piper_version_covers_the_config_too(tmp_path: Path) -> None:
    model = tmp_path / "v.onnx"
    model.write_bytes(b"model")
    config = tmp_path / "v.onnx.json"
    config.write_text('{"audio": {"sample_rate": 22050}}')
    files = VoiceFiles("piper", piper_voice(model).files, ("numpy",))
    first = files.version()
    config.write_text('{"audio": {"sample_rate": 16000}}')
    assert files.version() != first


def test_missing_says_which_file_or_package(tmp_path: Path) -> None:
    assert "does not exist" in (openjtalk_voice(tmp_path / "none.htsvoice").missing() or "")
    assert piper_voice(tmp_path / "none.onnx").missing() is not None
    there = tmp_path / "v.htsvoice"
    there.write_bytes(b"x")
    assert "no-such-dist-xyz is not installed" in (
        VoiceFiles("openjtalk", (there,), ("no-such-dist-xyz",)).missing() or ""
    )


@pytest.mark.skipif(bool(openjtalk_voice().missing()), reason="pyopenjtalk-plus not installed")
def test_bundled_voices_are_found_without_downloads(tmp_path: Path) -> None:
    bundled = openjtalk_voice()
    assert bundled.missing() is None
    copy = tmp_path / "mei_normal.htsvoice"
    shutil.copy(bundled.files[0], copy)
    assert openjtalk_voice(copy).version() == bundled.version()  # the content, not the path
