"""Operators' phones as PJSIP endpoints, created and updated over ARI dynamic configuration.

No Asterisk restart and no reload: ``PUT /asterisk/config/dynamic/res_pjsip/{auth,aor,endpoint}/<id>``
(sorcery memory objects, see asterisk_conf/sorcery.conf). Updating an agent's password or name does not
touch calls in progress; an agent removed from the file loses its endpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from acd.model import AgentConfig
from ivr.ari.errors import AriError

log = logging.getLogger(__name__)

AGENT_CONTEXT = "agents"


class DynamicConfigPort(Protocol):
    async def put_dynamic_config(
        self, config_class: str, object_type: str, id: str, fields: Mapping[str, str]
    ) -> list[dict[str, str]]: ...
    async def delete_dynamic_config(self, config_class: str, object_type: str, id: str) -> None: ...


def endpoint_objects(agent: AgentConfig) -> list[tuple[str, dict[str, str]]]:
    """The auth, aor and endpoint objects (in creation order) for one operator's phone. Pure."""
    name = "".join(ch for ch in agent.name if ch.isprintable() and ch not in '"<>\\;')
    return [
        ("auth", {"auth_type": "userpass", "username": agent.id, "password": agent.secret}),
        ("aor", {"max_contacts": "1", "remove_existing": "yes", "qualify_frequency": "0"}),
        (
            "endpoint",
            {
                "transport": "transport-udp",
                "context": AGENT_CONTEXT,
                "disallow": "all",
                "allow": "ulaw,alaw",
                "auth": agent.id,
                "aors": agent.id,
                "dtmf_mode": "rfc4733",
                "direct_media": "no",
                "rtp_symmetric": "yes",
                "force_rport": "yes",
                "callerid": f'"{name}" <{agent.id}>',
            },
        ),
    ]


async def provision(
    asterisk: DynamicConfigPort, agents: Sequence[AgentConfig], removed: Sequence[str] = ()
) -> list[str]:
    """Create or update every agent's endpoint and delete the removed ones. Returns problems (one line
    each); an agent that fails is reported, the others are provisioned all the same."""
    problems: list[str] = []
    for agent in agents:
        for object_type, fields in endpoint_objects(agent):
            try:
                await asterisk.put_dynamic_config("res_pjsip", object_type, agent.id, fields)
            except AriError as exc:
                problems.append(f"agent {agent.id}: {object_type} not provisioned: {exc}")
                break
    for agent_id in removed:
        for object_type in ("endpoint", "aor", "auth"):
            try:
                await asterisk.delete_dynamic_config("res_pjsip", object_type, agent_id)
            except AriError as exc:
                log.debug("agent %s: %s not deleted: %s", agent_id, object_type, exc)
    return problems
