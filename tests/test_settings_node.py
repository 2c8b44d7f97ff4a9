"""IVR_NODE: this node's name in a cluster; unset, the host name."""

from __future__ import annotations

import socket

import pytest

from ivr.settings import Settings, SettingsError


def test_unset_names_the_node_after_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IVR_NODE", raising=False)
    monkeypatch.setattr(socket, "gethostname", lambda: "pbx-1.example.net")
    assert Settings.from_env().node == "pbx-1"


def test_no_host_name_falls_back_to_main(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_NODE", " ")
    monkeypatch.setattr(socket, "gethostname", lambda: "")
    assert Settings.from_env().node == "main"


def test_a_given_name_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_NODE", " node-b ")
    assert Settings.from_env().node == "node-b"


@pytest.mark.parametrize("value", ["node b", "-node", "x" * 65, "nöde"])
def test_a_name_the_cluster_tables_cannot_hold_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("IVR_NODE", value)
    with pytest.raises(SettingsError, match="IVR_NODE"):
        Settings.from_env()
