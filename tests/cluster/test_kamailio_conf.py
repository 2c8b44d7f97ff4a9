"""Rendering Kamailio's config: what the front door is told about nodes, operators and probing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from ivr.cluster.kamailio_conf import (
    KamailioConfigError,
    KamailioSettings,
    Node,
    Operator,
    ha1,
    render_config,
    render_dispatcher_list,
)

NODES = (Node("127.0.0.1", 5061), Node("127.0.0.1", 5062, priority=5))
OPERATORS = (Operator("2101", "s3cret-2101"), Operator("2102", "other-secret"))
LIST = Path("/run/ivr-kam/dispatcher.list")


def settings(**changes: object) -> KamailioSettings:
    values: dict[str, object] = {"nodes": NODES, "operators": OPERATORS}
    values.update(changes)
    return KamailioSettings(**values)  # type: ignore[arg-type]


def modparams(text: str) -> dict[tuple[str, str], str]:
    found = re.findall(r'^modparam\("([^"]+)", "([^"]+)", (.+)\)$', text, re.MULTILINE)
    return {(module, name): value.strip('"') for module, name, value in found}


def test_the_config_listens_where_told_and_loads_the_nodes_from_the_list_file() -> None:
    text = render_config(settings(listen_host="127.0.0.1", listen_port=5391), dispatcher_file=LIST)
    assert "listen=udp:127.0.0.1:5391" in text
    assert modparams(text)[("dispatcher", "list_file")] == str(LIST)
    assert "%%" not in text  # every placeholder filled
    assert "$sht(agents=>$au)" in text  # Kamailio's own variables untouched


def test_the_node_list_has_one_line_per_node_in_set_one_with_its_priority() -> None:
    lines = [line for line in render_dispatcher_list(NODES).splitlines() if not line.startswith("#")]
    assert lines == ["1 sip:127.0.0.1:5061 0 0", "1 sip:127.0.0.1:5062 0 5"]


@pytest.mark.parametrize(("algorithm", "number"), [("round-robin", "4"), ("call-id", "0"), ("priority", "8")])
def test_the_dispatch_algorithm_is_kamailios_number_for_it(algorithm: str, number: str) -> None:
    text = render_config(settings(algorithm=algorithm), dispatcher_file=LIST)
    assert f'ds_select_dst("1", "{number}")' in text


def test_probing_interval_and_no_reply_timeout_are_rendered() -> None:
    params = modparams(
        render_config(settings(probe_interval_s=2, no_reply_timeout_ms=1500), dispatcher_file=LIST)
    )
    assert params[("dispatcher", "ds_ping_interval")] == "2"
    assert params[("dispatcher", "ds_probing_mode")] == "1"  # every node is probed, not only failed ones
    assert params[("tm", "fr_timer")] == "1500"


def test_operators_are_stored_as_digest_hashes_never_as_their_secrets() -> None:
    text = render_config(settings(realm="shop"), dispatcher_file=LIST)
    for operator in OPERATORS:
        assert operator.secret not in text
        expected = hashlib.md5(f"{operator.id}:shop:{operator.secret}".encode()).hexdigest()
        assert f'$sht(agents=>{operator.id}) = "{expected}";' in text
    assert 'pv_www_authenticate("shop"' in text


def test_ha1_is_the_rfc2617_hash_of_user_realm_and_password() -> None:
    # RFC 2617 section 3.5's example user, realm and password
    assert ha1("Mufasa", "testrealm@host.com", "Circle Of Life") == "939e7578ed9e3c518a452acee763bce9"


def test_contacts_stay_in_memory_unless_a_database_is_given() -> None:
    memory = render_config(settings(), dispatcher_file=LIST)
    assert modparams(memory)[("usrloc", "db_mode")] == "0"
    assert "db_postgres" not in memory
    url = "postgres://kamailio:pw@127.0.0.1:5433/kamailio"
    stored = render_config(settings(db_url=url), dispatcher_file=LIST)
    assert modparams(stored)[("usrloc", "db_url")] == url
    assert modparams(stored)[("usrloc", "db_mode")] == "1"  # write-through: read by all at once
    assert 'loadmodule "db_postgres.so"' in stored


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"nodes": ()}, "no Asterisk nodes"),
        ({"nodes": (Node("127.0.0.1", 5061), Node("127.0.0.1", 5061))}, "listed twice"),
        ({"nodes": (Node("127.0.0.1", 70000),)}, "port"),
        ({"nodes": (Node("bad host", 5061),)}, "node host"),
        ({"nodes": (Node("127.0.0.1", 5090),)}, "Kamailio's own address"),
        ({"operators": (Operator("2101", ""),)}, "no secret"),
        ({"operators": (Operator('21"01', "x"),)}, "operator id"),
        ({"operators": (Operator("2101", "a"), Operator("2101", "b"))}, "listed twice"),
        ({"algorithm": "fastest"}, "algorithm"),
        ({"probe_interval_s": -1}, "probe interval"),
        ({"no_reply_timeout_ms": 10}, "no-reply timeout"),
        ({"realm": 'a"b'}, "realm"),
        ({"db_url": "mysql://x@y/z"}, "db_url"),
    ],
)
def test_settings_kamailio_could_not_take_are_refused_by_name(changes: dict[str, object], named: str) -> None:
    with pytest.raises(KamailioConfigError, match=named):
        settings(**changes)


def test_an_unknown_placeholder_in_the_template_is_named(tmp_path: Path) -> None:
    template = tmp_path / "kamailio.cfg"
    template.write_text("listen=udp:%%{listen_host}:%%{nope}\n")
    with pytest.raises(KamailioConfigError, match="nope"):
        render_config(settings(), dispatcher_file=LIST, template=template)
