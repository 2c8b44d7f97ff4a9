"""docker-compose.yml and the Asterisk image's config renderer (no Docker engine needed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def test_compose_file_is_valid_and_binds_loopback_only() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed")
    result = subprocess.run(
        [tool, "-f", str(REPO / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    ports = [port for service in config["services"].values() for port in service.get("ports", [])]
    assert ports and all(str(port).startswith("127.0.0.1:") for port in ports)
    assert config["services"]["controller"]["environment"]["IVR_PBX"] == "external"


def test_image_renderer_writes_config_with_a_password_placeholder(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "docker/asterisk/render.py"),
            "--templates",
            str(REPO / "asterisk_conf"),
            "--module",
            str(REPO / "ivr/pbx/templates.py"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    ari = (tmp_path / "ari.conf").read_text()
    assert "password = __IVR_ARI_PASSWORD_HASH__" in ari and "password_format = crypt" in ari
    assert "bind = 0.0.0.0:5060" in (tmp_path / "pjsip.conf").read_text()
