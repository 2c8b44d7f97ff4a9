"""IVR_SIP_PROXY: unset keeps operators on this Asterisk; HOST:PORT rings them through Kamailio."""

from __future__ import annotations

import pytest

from ivr.settings import Settings, SettingsError


def test_unset_dials_operators_at_their_own_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IVR_SIP_PROXY", raising=False)
    settings = Settings.from_env()
    assert settings.sip_proxy is None
    assert settings.agent_dial.format(agent="2101") == "PJSIP/2101"


def test_a_proxy_rings_operators_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_SIP_PROXY", " 127.0.0.1:5090 ")
    settings = Settings.from_env()
    assert settings.sip_proxy == "127.0.0.1:5090"
    assert settings.agent_dial.format(agent="2101") == "PJSIP/kamailio/sip:2101@127.0.0.1:5090"


@pytest.mark.parametrize(
    "value", ["127.0.0.1", "127.0.0.1:port", "127.0.0.1:70000", "bad host:5090", ":5090"]
)
def test_a_proxy_that_is_not_host_colon_port_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("IVR_SIP_PROXY", value)
    with pytest.raises(SettingsError, match="IVR_SIP_PROXY"):
        Settings.from_env()
