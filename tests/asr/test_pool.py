"""Which engine each language gets (build_engines), with stand-in engines: no model is loaded."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
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


# --- faults: an engine that raises or hangs costs one utterance, never the pool ------------------


class Misbehaving:
    """Hears "yes" — except for the word "boom" (raises) and "hang" (blocks until ``release``)."""

    kind = "misbehaving"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.threads: set[str] = set()

    def warm_up(self) -> None:
        pass

    def recognize(self, samples: object, words: Sequence[str], lang: str) -> Recognition | None:
        self.threads.add(threading.current_thread().name)
        if "boom" in words:
            raise ValueError("decoder exploded")
        if "hang" in words:
            self.release.wait(30)
            return None
        return ("yes", 0.9)


AUDIO = np.zeros(160, dtype=np.int16)


async def until(condition: Callable[[], bool], limit: float = 10.0) -> None:
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110 - polling plain attributes
            await asyncio.sleep(0.01)


async def test_an_engine_that_raises_fails_that_utterance_only() -> None:
    p = pool.RecognizerPool({"en": Misbehaving()}, workers=1, timeout_s=5)
    try:
        with pytest.raises(pool.RecognitionFailed) as failed:
            await p.recognize("en", AUDIO, ("boom",))
        assert failed.value.reason == "error"
        assert "ValueError: decoder exploded" in str(failed.value) and "test_pool.py" in str(failed.value)
        assert await p.recognize("en", AUDIO, ("yes",)) == ("yes", 0.9)  # the same worker serves on
        assert (p.errors, p.timeouts, p.replaced, p.hung, p.pending) == (1, 0, 0, 0, 0)
    finally:
        p.close()


async def test_a_hung_recognition_times_out_and_a_fresh_worker_serves_the_other_calls() -> None:
    engine = Misbehaving()
    p = pool.RecognizerPool({"en": engine}, workers=1, timeout_s=0.3)
    try:
        with pytest.raises(pool.RecognitionFailed) as failed:
            await p.recognize("en", AUDIO, ("hang",))
        assert failed.value.reason == "timeout"
        assert "asr-1 written off, asr-2 started" in str(failed.value)
        assert (p.timeouts, p.replaced, p.hung) == (1, 1, 1)
        # One worker, and it is hung: only the replacement can answer these.
        results = await asyncio.gather(*(p.recognize("en", AUDIO, ("yes",)) for _ in range(3)))
        assert results == [("yes", 0.9)] * 3
        assert engine.threads == {"asr-1", "asr-2"}
        engine.release.set()  # the hung decode returns at last: that thread leaves, nobody waits for it
        await until(lambda: p.hung == 0)
        assert await p.recognize("en", AUDIO, ("yes",)) == ("yes", 0.9)
        assert [t.name for t in threading.enumerate() if t.name.startswith("asr-")] == ["asr-2"]
    finally:
        engine.release.set()
        p.close()


async def test_hung_threads_are_bounded_and_waiting_utterances_time_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = Misbehaving()
    p = pool.RecognizerPool({"en": engine}, workers=1, timeout_s=0.2, max_hung=1)
    try:
        for _ in range(2):
            with pytest.raises(pool.RecognitionFailed):
                await p.recognize("en", AUDIO, ("hang",))
        assert (p.replaced, p.hung) == (1, 2)  # the second hung worker was not replaced
        with pytest.raises(pool.RecognitionFailed) as failed:
            await p.recognize("en", AUDIO, ("yes",))  # no worker left: it waits, then times out
        assert "no free worker" in str(failed.value)
        limit = [r for r in caplog.records if "no more are started" in r.getMessage()]
        assert len(limit) == 1 and limit[0].levelname == "ERROR"
        engine.release.set()
        await until(lambda: p.hung == 0)
    finally:
        engine.release.set()
        p.close()


async def test_an_utterance_whose_call_went_away_is_never_decoded() -> None:
    engine = Misbehaving()
    p = pool.RecognizerPool({"en": engine}, workers=1, timeout_s=10)
    try:
        busy = asyncio.ensure_future(p.recognize("en", AUDIO, ("hang",)))
        await until(lambda: bool(engine.threads))
        waiting = asyncio.ensure_future(p.recognize("en", AUDIO, ("boom",)))
        await asyncio.sleep(0.05)
        waiting.cancel()  # the call ended while its utterance waited for a worker
        await asyncio.gather(waiting, return_exceptions=True)
        engine.release.set()
        assert await busy is None
        assert await p.recognize("en", AUDIO, ("yes",)) == ("yes", 0.9)
        assert p.errors == 0  # "boom" never ran
    finally:
        engine.release.set()
        p.close()


def test_the_test_fault_engine_replaces_every_engine(whisper_dir: Path) -> None:
    engines = pool.build_engines(AsrConfig(whisper_model=whisper_dir, test_faults=("raise", "hang")))
    assert {lang: getattr(e, "kind", "?") for lang, e in engines.items()} == {"en": "faulty", "ja": "faulty"}
