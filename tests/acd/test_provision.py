"""Operators' phones as PJSIP objects over ARI dynamic configuration."""

from __future__ import annotations

from collections.abc import Mapping

from acd.provision import AGENT_CONTEXT, endpoint_objects, provision
from ivr.ari.errors import AriError
from tests.acd.builders import agent


class DynamicConfig:
    """Records every put/delete; fails the objects listed in ``refuse`` as (type, id)."""

    def __init__(self, refuse: set[tuple[str, str]] | None = None) -> None:
        self.refuse = refuse or set()
        self.calls: list[tuple[str, str, str, str]] = []
        self.fields: dict[tuple[str, str], Mapping[str, str]] = {}

    async def put_dynamic_config(
        self, config_class: str, object_type: str, id: str, fields: Mapping[str, str]
    ) -> list[dict[str, str]]:
        self.calls.append(("put", config_class, object_type, id))
        if (object_type, id) in self.refuse:
            raise AriError(400, "PUT", f"/asterisk/config/dynamic/{config_class}/{object_type}/{id}", "bad")
        self.fields[(object_type, id)] = fields
        return []

    async def delete_dynamic_config(self, config_class: str, object_type: str, id: str) -> None:
        self.calls.append(("delete", config_class, object_type, id))
        if (object_type, id) in self.refuse:
            raise AriError(404, "DELETE", f"/asterisk/config/dynamic/{config_class}/{object_type}/{id}", "x")


def test_an_agents_phone_is_an_auth_an_aor_and_an_endpoint_in_the_agents_context() -> None:
    objects = dict(endpoint_objects(agent("2101", {"orders": 3})))
    assert [kind for kind, _ in endpoint_objects(agent("2101", {"orders": 3}))] == ["auth", "aor", "endpoint"]
    assert objects["auth"] == {"auth_type": "userpass", "username": "2101", "password": "pw-2101-secret"}
    assert objects["aor"]["max_contacts"] == "1"
    endpoint = objects["endpoint"]
    assert (endpoint["context"], endpoint["auth"], endpoint["aors"]) == (AGENT_CONTEXT, "2101", "2101")
    assert endpoint["callerid"] == '"Agent 2101" <2101>'


def test_the_displayed_name_cannot_break_the_caller_id() -> None:
    hostile = agent("2102", {"orders": 1})
    hostile = type(hostile)(hostile.id, 'Eve "<x>"; \\\n', hostile.secret, hostile.skills, hostile.languages)
    endpoint = dict(endpoint_objects(hostile))["endpoint"]
    assert endpoint["callerid"] == '"Eve x " <2102>'


async def test_provision_puts_every_agent_and_deletes_the_removed() -> None:
    port = DynamicConfig()
    problems = await provision(port, [agent("2101", {"a": 1}), agent("2102", {"a": 1})], removed=["2109"])
    assert problems == []
    assert port.calls == [
        ("put", "res_pjsip", "auth", "2101"),
        ("put", "res_pjsip", "aor", "2101"),
        ("put", "res_pjsip", "endpoint", "2101"),
        ("put", "res_pjsip", "auth", "2102"),
        ("put", "res_pjsip", "aor", "2102"),
        ("put", "res_pjsip", "endpoint", "2102"),
        ("delete", "res_pjsip", "endpoint", "2109"),
        ("delete", "res_pjsip", "aor", "2109"),
        ("delete", "res_pjsip", "auth", "2109"),
    ]


async def test_an_agent_that_fails_is_reported_and_the_others_are_provisioned() -> None:
    port = DynamicConfig(refuse={("aor", "2101")})
    problems = await provision(port, [agent("2101", {"a": 1}), agent("2102", {"a": 1})])
    assert len(problems) == 1
    assert problems[0].startswith("agent 2101: aor not provisioned")
    assert ("put", "res_pjsip", "endpoint", "2101") not in port.calls  # no endpoint without its aor
    assert ("put", "res_pjsip", "endpoint", "2102") in port.calls


async def test_a_removed_agent_already_gone_is_not_a_problem() -> None:
    port = DynamicConfig(refuse={("endpoint", "2109")})
    assert await provision(port, [], removed=["2109"]) == []
    assert [c[2] for c in port.calls] == ["endpoint", "aor", "auth"]
