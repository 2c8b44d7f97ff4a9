from __future__ import annotations

from pathlib import Path

import pytest

from ivr.asr.config import AsrConfig, AsrConfigError


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
