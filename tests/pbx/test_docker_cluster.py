"""docker-compose's "cluster" profile (the topology of ``make cluster``) and the Kamailio image's config
renderer (no Docker engine needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def test_cluster_profile_adds_postgres_kamailio_and_a_second_node() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed")
    result = subprocess.run(
        [tool, "-f", str(REPO / "docker-compose.yml"), "--profile", "cluster", "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert {"asterisk", "controller", "postgres", "kamailio", "asterisk2", "controller2"} <= set(services)
    ports = [str(p) for s in services.values() for p in s.get("ports", [])]
    assert ports and all(p.startswith("127.0.0.1:") for p in ports)
    host_ports = [p.split(":")[1] for p in ports]
    assert len(host_ports) == len(set(host_ports))  # both nodes and Kamailio side by side
    node2 = services["controller2"]["environment"]
    assert (
        node2["IVR_DB_URL"].startswith("postgresql+asyncpg://") and node2["IVR_SIP_PROXY"] == "kamailio:5060"
    )
    assert node2["IVR_NODE"] != services["controller"]["environment"]["IVR_NODE"]
    assert services["kamailio"]["environment"]["IVR_KAMAILIO_NODES"] == "asterisk:5060,asterisk2:5060"


def test_kamailio_image_renders_its_config_from_the_environment(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "IVR_KAMAILIO_NODES": "asterisk:5060,asterisk2:5060",
        "IVR_AGENTS_FILE": str(REPO / "acd" / "defaults" / "agents.yaml"),
        "IVR_KAMAILIO_RUN_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(REPO / "docker" / "kamailio" / "render.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dispatcher.list").read_text().splitlines()[1:] == [
        "1 sip:asterisk:5060 0 0",
        "1 sip:asterisk2:5060 0 0",
    ]
    config = (tmp_path / "kamailio.cfg").read_text()
    assert "udp:kamailio:5060" in config
    assert "demo-2101-pw" not in config  # digest hashes only
