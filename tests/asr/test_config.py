from __future__ import annotations

from pathlib import Path

import pytest

from ivr.asr.config import AsrConfig, AsrConfigError
from ivr.asr.whisper_model import default_model_dir


def test_defaults() -> None:
    cfg = AsrConfig.from_env({})
    assert cfg.enabled and cfg.sphinx and cfg.workers == 2 and dict(cfg.vosk_models) == {}


def test_vosk_models_per_language() -> None:
    cfg = AsrConfig.from_env(
        {"IVR_VOSK_MODEL_JA": "/m/ja", "IVR_VOSK_MODEL_EN": "/m/en", "IVR_ASR_WORKERS": "3"}
    )
    assert dict(cfg.vosk_models) == {"ja": Path("/m/ja"), "en": Path("/m/en")}
    assert cfg.workers == 3


@pytest.mark.parametrize(
    ("env", "needle"),
    [({"IVR_ASR_WORKERS": "many"}, "IVR_ASR_WORKERS"), ({"IVR_ASR": "perhaps"}, "IVR_ASR")],
)
def test_bad_values_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(AsrConfigError, match=needle):
        AsrConfig.from_env(env)


def test_engine_and_whisper_model_settings() -> None:
    cfg = AsrConfig.from_env({"IVR_ASR_ENGINE": "Vosk", "IVR_WHISPER_MODEL": "/m/whisper-tiny.en"})
    assert cfg.engine == "vosk" and cfg.whisper_model == Path("/m/whisper-tiny.en")


def test_whisper_model_defaults_to_the_assembled_base() -> None:
    cfg = AsrConfig.from_env({})
    assert cfg.whisper_model == default_model_dir()


def test_the_default_engine_is_auto_whisper_when_its_model_is_there() -> None:
    assert AsrConfig.from_env({}).engine is None  # auto: the pool takes Whisper, else PocketSphinx
    assert AsrConfig.from_env({"IVR_ASR_ENGINE": "sphinx"}).engine == "sphinx"


def test_auto_takes_whisper_when_its_model_is_there() -> None:
    assert AsrConfig.from_env({"IVR_ASR_ENGINE": "auto"}).engine is None


def test_unknown_engine_is_an_error() -> None:
    with pytest.raises(AsrConfigError, match="IVR_ASR_ENGINE"):
        AsrConfig.from_env({"IVR_ASR_ENGINE": "kaldi"})


def test_recognition_timeout_setting() -> None:
    assert AsrConfig.from_env({}).timeout_s == 10.0
    assert AsrConfig.from_env({"IVR_ASR_TIMEOUT_S": "2.5"}).timeout_s == 2.5
    for bad in ("soon", "0", "-1", "601"):
        with pytest.raises(AsrConfigError, match="IVR_ASR_TIMEOUT_S"):
            AsrConfig.from_env({"IVR_ASR_TIMEOUT_S": bad})


def test_the_test_fault_engine_needs_the_testing_switch() -> None:
    assert AsrConfig.from_env({}).test_faults == ()
    with pytest.raises(AsrConfigError, match="for tests only"):
        AsrConfig.from_env({"IVR_ASR_TEST_FAULT": "hang"})
    testing = {"IVR_TESTING": "1"}
    assert AsrConfig.from_env({**testing, "IVR_ASR_TEST_FAULT": "raise, hang"}).test_faults == (
        "raise",
        "hang",
    )
    with pytest.raises(AsrConfigError, match="raise or hang"):
        AsrConfig.from_env({**testing, "IVR_ASR_TEST_FAULT": "explode"})
