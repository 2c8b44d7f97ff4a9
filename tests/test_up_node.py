"""``ivr up --node NAME``: the node's name reaches the settings, its Asterisk instance is named after it."""

from __future__ import annotations

from ivr.cli import build_parser
from ivr.up import as_node


def test_node_sets_the_node_and_names_the_asterisk_instance_unless_named() -> None:
    env: dict[str, str] = {}
    as_node(env, "n1")
    assert env == {"IVR_NODE": "n1", "IVR_PBX_NAME": "n1"}
    env = {"IVR_PBX_NAME": "main", "IVR_NODE": "old"}
    as_node(env, "n2")
    assert env == {"IVR_NODE": "n2", "IVR_PBX_NAME": "main"}


def test_without_node_nothing_changes() -> None:
    env = {"IVR_NODE": "keep"}
    as_node(env, None)
    assert env == {"IVR_NODE": "keep"}


def test_up_takes_node() -> None:
    assert build_parser().parse_args(["up", "--node", "n2"]).node == "n2"
    assert build_parser().parse_args(["up"]).node is None
