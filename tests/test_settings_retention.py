"""IVR_RECORDING_RETENTION_DAYS: default 90, 0 keeps forever, a negative number is refused."""

from __future__ import annotations

import pytest

from ivr.settings import Settings, SettingsError


def test_retention_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IVR_RECORDING_RETENTION_DAYS", raising=False)
    assert Settings.from_env().recording_retention_days == 90
    monkeypatch.setenv("IVR_RECORDING_RETENTION_DAYS", "0")
    assert Settings.from_env().recording_retention_days == 0
    monkeypatch.setenv("IVR_RECORDING_RETENTION_DAYS", "-1")
    with pytest.raises(SettingsError, match="IVR_RECORDING_RETENTION_DAYS"):
        Settings.from_env()
