"""``ivr cluster up``'s plan: two nodes on distinct ports sharing one PostgreSQL behind one Kamailio."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ivr.cli import build_parser
from ivr.cluster_up import busy_ports, cluster_plan, node_env
from ivr.settings import Settings


def test_two_nodes_with_their_own_ports_directories_and_rtp_ranges(tmp_path: Path) -> None:
    plan = cluster_plan(tmp_path)
    n1, n2 = plan.nodes
    assert (n1.name, n2.name) == ("n1", "n2")
    assert n1.data_dir != n2.data_dir and n1.data_dir.parent == tmp_path
    ports = plan.ports()
    assert len(ports) == len(set(ports)) == 8
    assert n1.rtp[1] < n2.rtp[0]


def test_a_plan_whose_ports_collide_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one port"):
        cluster_plan(tmp_path, kamailio_port=5071)  # node n1's SIP
    with pytest.raises(ValueError):
        cluster_plan(tmp_path, nodes=0)


def test_each_nodes_settings_share_the_database_and_the_front_door(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = cluster_plan(tmp_path)
    settings = []
    for node in plan.nodes:
        env = node_env(plan, node, {"IVR_NODE": "old", "KEEP": "x"})
        assert env["KEEP"] == "x"
        for key in list(env):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings.append(Settings.from_env())
    a, b = settings
    assert (a.node, b.node) == ("n1", "n2")
    assert (a.pbx_name, b.pbx_name) == ("n1", "n2")  # channel ids n1-… / n2-…: records tell nodes apart
    assert a.db_url == b.db_url == plan.db_url() and a.db_url.startswith("postgresql+asyncpg://")
    assert a.sip_proxy == b.sip_proxy
    assert a.agents_file == b.agents_file == plan.agents_file  # one set of operators for Kamailio
    assert len({a.sip_port, b.sip_port, a.http_port, b.http_port, a.http_port_ari, b.http_port_ari}) == 6
    assert a.data_dir != b.data_dir


def test_busy_ports_are_named(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        plan = cluster_plan(tmp_path, pg_port=port, kamailio_port=port + 1 if port < 65535 else port - 1)
        assert f"tcp {port}" in busy_ports(plan)


def test_cli_has_cluster_up() -> None:
    args = build_parser().parse_args(["cluster", "up", "--dir", "/tmp/somewhere"])
    assert args.dir == Path("/tmp/somewhere") and callable(args.func)


def test_a_private_directory_in_the_project_gets_only_the_traverse_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ivr.cluster_up as cluster_up

    project = tmp_path / "project"
    private = project / "var"
    base = private / "cluster"
    base.mkdir(parents=True)
    private.chmod(0o700)
    outside = tmp_path
    outside_mode = outside.stat().st_mode & 0o777
    monkeypatch.setattr(cluster_up, "PROJECT_ROOT", project)
    monkeypatch.setattr("ivr.cluster_up.os.geteuid", lambda: 0)
    cluster_up.traversable_by_postgres(base)
    assert private.stat().st_mode & 0o777 == 0o701  # traverse, not list
    assert outside.stat().st_mode & 0o777 == outside_mode  # nothing outside the project is touched
