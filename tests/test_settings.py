"""``Settings.from_env``: each setting comes from its ``IVR_*`` variable."""

from __future__ import annotations

import pytest

from ivr.settings import Settings, SettingsError


def test_ring_cycle_and_answer_target_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_RING_CYCLE_S", "6")
    monkeypatch.setenv("IVR_ANSWER_TARGET_RINGS", "2")
    settings = Settings.from_env()
    assert settings.ring_cycle_s == 6.0
    assert settings.answer_target_rings == 2
    assert settings.answer_target_s == 12.0


def test_ring_cycle_defaults_to_japan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IVR_RING_CYCLE_S", raising=False)
    monkeypatch.delenv("IVR_ANSWER_TARGET_RINGS", raising=False)
    settings = Settings.from_env()
    assert settings.ring_cycle_s == 3.0  # 1 s on, 2 s off
    assert settings.answer_target_s == 9.0  # "three rings"


def test_a_ring_cycle_that_is_not_a_number_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_RING_CYCLE_S", "three")
    with pytest.raises(SettingsError, match="IVR_RING_CYCLE_S='three' is not a number"):
        Settings.from_env()


def test_the_web_and_ari_default_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IVR_HTTP_HOST", "IVR_ARI_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.http_host == "127.0.0.1"
    assert settings.ari_url.startswith("http://127.0.0.1:")
