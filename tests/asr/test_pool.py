"""Which engine each language gets (build_engines), with stand-in engines: no model is loaded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from ivr.asr import pool
from ivr.asr.config import AsrConfig
from ivr.asr.engines import Recognition
from ivr.asr.engines.sphinx import SphinxUnavailable
from ivr.asr.engines.vosk_engine import VoskUnavailable
from ivr.asr.engines.whisper import WhisperUnavailable


class Stub:
    kind = "stub"

    def __init__(self, model_dir: Path | None = None, **_options: int) -> None:
        self.model_dir = model_dir

    def warm_up(self) -> None:
        pass

    def recognize(
        self, samples16k: npt.NDArray[np.int16], words: Sequence[str], lang: str
    ) -> Recognition | None:
        return None


class Whisper(Stub):
    kind = "whisper"

    def __init__(self, model_dir: Path, **options: int) -> None:
        if not (model_dir / "model.bin").is_file():
            raise WhisperUnavailable(f"{model_dir} is not a Whisper model directory")
        super().__init__(model_dir)


class Sphinx(Stub):
    kind = "sphinx"


class Vosk(Stub):
    kind = "vosk"

    def __init__(self, model_dir: Path) -> None:
        if not model_dir.is_dir():
            raise VoskUnavailable(f"{model_dir} is not a Vosk model directory")
        super().__init__(model_dir)


@pytest.fixture(autouse=True)
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "WhisperEngine", Whisper)
    monkeypatch.setattr(pool, "SphinxEngine", Sphinx)
    monkeypatch.setattr(pool, "VoskEngine", Vosk)


@pytest.fixture
def whisper_dir(tmp_path: Path) -> Path:
    (tmp_path / "whisper").mkdir()
    (tmp_path / "whisper" / "model.bin").write_bytes(b"x")
    return tmp_path / "whisper"


def kinds(config: AsrConfig) -> dict[str, str]:
    return {lang: getattr(engine, "kind", "?") for lang, engine in pool.build_engines(config).items()}


def speech_lines(caplog: pytest.LogCaptureFixture, lang: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"speech ({lang})")]


def test_whisper_is_the_default_for_english_and_japanese(
    whisper_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    engines = pool.build_engines(AsrConfig(whisper_model=whisper_dir))
    assert {lang: getattr(e, "kind", "?") for lang, e in engines.items()} == {
        "en": "whisper",
        "ja": "whisper",
    }
    assert engines["en"] is engines["ja"]  # one model in memory
    for lang in ("en", "ja"):
        lines = speech_lines(caplog, lang)
        assert len(lines) == 1 and "Whisper" in lines[0], lines


def test_a_fresh_environment_takes_whisper_when_its_model_is_there(whisper_dir: Path, tmp_path: Path) -> None:
    assert kinds(AsrConfig.from_env({"IVR_WHISPER_MODEL": str(whisper_dir)})) == {
        "en": "whisper",
        "ja": "whisper",
    }
    assert kinds(AsrConfig.from_env({"IVR_WHISPER_MODEL": str(tmp_path / "missing")})) == {"en": "sphinx"}


def test_without_the_whisper_model_english_falls_back_to_pocketsphinx(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    assert kinds(AsrConfig(whisper_model=tmp_path / "missing")) == {"en": "sphinx"}
    (en,) = speech_lines(caplog, "en")
    assert "PocketSphinx" in en and "Whisper not used" in en
    (ja,) = speech_lines(caplog, "ja")
    assert "DTMF only" in ja and "ivr asr assemble" in ja


def test_a_vosk_model_takes_its_language(whisper_dir: Path, tmp_path: Path) -> None:
    config = AsrConfig(whisper_model=whisper_dir, vosk_models={"ja": tmp_path, "ko": tmp_path})
    assert kinds(config) == {"en": "whisper", "ja": "vosk", "ko": "vosk"}


def test_a_broken_vosk_model_leaves_its_language_dtmf_only(whisper_dir: Path, tmp_path: Path) -> None:
    config = AsrConfig(whisper_model=whisper_dir, vosk_models={"ja": tmp_path / "nope"})
    assert kinds(config) == {"en": "whisper"}


@pytest.mark.parametrize(
    ("engine", "expected"),
    [("sphinx", {"en": "sphinx"}), ("vosk", {}), ("whisper", {"en": "whisper", "ja": "whisper"})],
)
def test_the_engine_setting_chooses(whisper_dir: Path, engine: str, expected: dict[str, str]) -> None:
    assert kinds(AsrConfig(whisper_model=whisper_dir, engine=engine)) == expected


def test_whisper_chosen_but_missing_is_an_error_and_english_keeps_pocketsphinx(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert kinds(AsrConfig(whisper_model=tmp_path / "missing", engine="whisper")) == {"en": "sphinx"}
    assert any(r.levelname == "ERROR" and "IVR_ASR_ENGINE=whisper" in r.getMessage() for r in caplog.records)


def test_sphinx_off_and_no_whisper_means_dtmf_only(tmp_path: Path) -> None:
    assert kinds(AsrConfig(sphinx=False, whisper_model=tmp_path / "missing")) == {}


def test_pocketsphinx_missing_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unavailable() -> None:
        raise SphinxUnavailable("the pocketsphinx package is not installed")

    monkeypatch.setattr(pool, "SphinxEngine", unavailable)
    assert kinds(AsrConfig(whisper_model=tmp_path / "missing")) == {}
    (en,) = speech_lines(caplog, "en")
    assert "pocketsphinx" in en and "DTMF only" in en


def test_speech_off_builds_nothing(whisper_dir: Path) -> None:
    assert kinds(AsrConfig(enabled=False, whisper_model=whisper_dir)) == {}


async def test_pending_counts_recognitions_in_flight() -> None:
    import asyncio
    import threading

    import numpy as np

    release = threading.Event()

    class Slow:
        kind = "slow"

        def warm_up(self) -> None:
            pass

        def recognize(self, samples: object, words: object, lang: str) -> None:
            release.wait(5)

    p = pool.RecognizerPool({"en": Slow()}, workers=1)
    try:
        task = asyncio.ensure_future(p.recognize("en", np.zeros(160, dtype=np.int16), ("yes",)))
        await asyncio.sleep(0.05)
        assert (p.pending, p.workers) == (1, 1)
        release.set()
        await task
        assert p.pending == 0
    finally:
        p.close()
