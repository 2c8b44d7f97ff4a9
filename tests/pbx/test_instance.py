from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ivr.pbx import Pbx, PbxConfig, PbxError, free_udp_range, free_udp_tcp_port, pbx_for
from ivr.pbx.ports import port_is_free
from ivr.settings import Settings

CONFIG = PbxConfig("unit", 5099, 8099, "ivr", "pw-unit", "ivr", 30000, 30199)


def test_media_uri_in_the_root_is_the_path_asterisk_sees(tmp_path: Path) -> None:
    root = tmp_path / "root"
    pbx = Pbx(CONFIG, mode="root", instance_dir=root / "srv/ivr/unit", chroot=root)
    assert pbx.sounds_dir == root / "srv/ivr/unit/sounds"
    assert pbx.media_uri(pbx.sounds_dir / "tts" / "abc.wav") == "sound:/srv/ivr/unit/sounds/tts/abc"
    with pytest.raises(PbxError, match="outside the Asterisk root"):
        pbx.media_uri(tmp_path / "elsewhere.wav")


def test_media_uri_for_a_system_asterisk_is_the_host_path(tmp_path: Path) -> None:
    pbx = Pbx(CONFIG, mode="system", instance_dir=tmp_path / "pbx/unit", binary="/usr/sbin/asterisk")
    assert pbx.media_uri(pbx.sounds_dir / "x.sln16") == f"sound:{tmp_path}/pbx/unit/sounds/x"


def test_config_rejects_bad_values() -> None:
    with pytest.raises(PbxError, match="name"):
        dataclasses.replace(CONFIG, name="../etc")
    with pytest.raises(PbxError, match="different ports"):
        dataclasses.replace(CONFIG, ari_port=5099)
    with pytest.raises(PbxError, match="ari_password"):
        dataclasses.replace(CONFIG, ari_password="")
    with pytest.raises(PbxError, match="RTP range"):
        dataclasses.replace(CONFIG, rtp_start=40000, rtp_end=30000)


def settings(tmp_path: Path, mode: str) -> Settings:
    base = Settings.from_env()
    return dataclasses.replace(
        base, pbx_mode=mode, data_dir=tmp_path, pbx_root=tmp_path / "root", ari_url="http://127.0.0.1:9999"
    )


def test_pbx_for_modes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ivr.pbx.factory.shutil.which", lambda name: None)
    root = pbx_for(settings(tmp_path, "auto"), CONFIG)
    assert root.mode == "root" and root.chroot == tmp_path / "root"
    external = pbx_for(settings(tmp_path, "external"), CONFIG)
    assert external.mode == "external" and external.ari_url == "http://127.0.0.1:9999"
    with pytest.raises(PbxError, match="no asterisk on PATH"):
        pbx_for(settings(tmp_path, "system"), CONFIG)
    with pytest.raises(PbxError, match="IVR_PBX='docker'"):
        pbx_for(settings(tmp_path, "docker"), CONFIG)
    monkeypatch.setattr("ivr.pbx.factory.shutil.which", lambda name: "/usr/bin/asterisk")
    system = pbx_for(settings(tmp_path, "auto"), CONFIG)
    assert system.mode == "system" and system.instance_dir == tmp_path / "pbx" / "unit"


async def test_external_start_and_stop_do_nothing(tmp_path: Path) -> None:
    pbx = pbx_for(settings(tmp_path, "external"), CONFIG)
    await pbx.start(lambda _m: None)
    await pbx.stop()
    assert pbx.status().running is False


def test_status_of_a_never_started_instance(tmp_path: Path) -> None:
    pbx = Pbx(CONFIG, mode="root", instance_dir=tmp_path / "srv/ivr/unit", chroot=tmp_path)
    status = pbx.status()
    assert (status.running, status.pid, status.sip_port, status.ari_port) == (False, None, 5099, 8099)


def test_free_ports() -> None:
    port = free_udp_tcp_port()
    assert port_is_free(port)
    start, end = free_udp_range(100)
    assert end - start == 99 and start % 2 == 0
