"""Operators' softphones for the ACD tests: one SIPp registers as the agent (digest auth) with a Contact
pointing at a second SIPp that answers INVITEs (after ``answer_ms``), or never answers."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from ivr.testing.sipp import SippProcess, SippResult, free_udp_port, run_sipp, start_sipp
from ivr.testing.stack import ControllerProcess, TestPbx

_PORTS: dict[str, int] = {}  # agent -> the contact port its phone registered

SECRETS = {f"31{n:02d}": f"test-31{n:02d}-secret" for n in range(1, 10)}


@dataclass
class AgentPhone:
    agent_id: str
    uas: SippProcess
    port: int

    async def hang_up(self) -> SippResult:
        """Stop the phone (SIGUSR1, by pid); its result counts the calls it took."""
        return await self.uas.stop()


async def register(
    pbx: TestPbx,
    agent_id: str,
    *,
    answer_ms: int = 1000,
    talk_ms: int | None = None,
    never_answer: bool = False,
    calls: int = 1,
    timeout_s: float = 120.0,
    expires: int = 600,
) -> AgentPhone:
    port = free_udp_port()
    if never_answer:
        scenario, keys = "uas_no_answer", {}
    elif talk_ms is not None:
        scenario, keys = "uas_answer_bye", {"answer_ms": str(answer_ms), "talk_ms": str(talk_ms)}
    else:
        scenario, keys = "uas_answer", {"answer_ms": str(answer_ms)}
    uas = await start_sipp(scenario, local_port=port, calls=calls, timeout_s=timeout_s, keys=keys)
    _PORTS[agent_id] = port
    reg = await run_sipp(
        "register",
        pbx.sip_target,
        service=agent_id,
        auth=(agent_id, SECRETS[agent_id]),
        keys={"contact_host": "127.0.0.1", "contact_port": str(port), "expires": str(expires)},
        timeout_s=15,
    )
    assert reg.ok, reg.describe()
    return AgentPhone(agent_id, uas, port)


async def unregister(pbx: TestPbx, agent_id: str, port: int) -> None:
    """Remove the phone's registration (its own contact, Expires: 0)."""
    await run_sipp(
        "register",
        pbx.sip_target,
        service=agent_id,
        auth=(agent_id, SECRETS[agent_id]),
        keys={"contact_host": "127.0.0.1", "contact_port": str(port), "expires": "0"},
        timeout_s=15,
    )


def agent(controller: ControllerProcess, agent_id: str) -> dict[str, Any]:
    status, body = controller.get("/api/agents")
    assert status == 200, body
    return next(a for a in body if a["id"] == agent_id)


async def until(predicate: Any, within_s: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not reached within {within_s} s")


async def available(controller: ControllerProcess, *agent_ids: str) -> None:
    """Wait until the phones registered and their agents are available: a phone coming online logs its
    agent in; one that stayed registered (a refresh) does not, so the operator logs in (like *21)."""
    for agent_id in agent_ids:
        await until(lambda a=agent_id: agent(controller, a)["registered"], what=f"{agent_id} registered")
        if agent(controller, agent_id)["state"] != "available":
            set_state(controller, agent_id, "available")
    for agent_id in agent_ids:
        await until(
            lambda a=agent_id: (
                agent(controller, a)["registered"] and agent(controller, a)["state"] == "available"
            ),
            what=f"agent {agent_id} registered and available",
        )


def set_state(
    controller: ControllerProcess, agent_id: str, state: str, reason: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"state": state}
    if reason is not None:
        body["reason"] = reason
    status, answer = controller.post(f"/api/agents/{agent_id}/state", body)
    assert status == 200, answer
    return dict(answer)


async def log_out(controller: ControllerProcess, pbx: TestPbx, *agent_ids: str) -> None:
    for agent_id in agent_ids:
        if agent_id in _PORTS:
            await unregister(pbx, agent_id, _PORTS.pop(agent_id))
        status, _ = controller.post(f"/api/agents/{agent_id}/state", {"state": "logged_out"})
        assert status in (200, 409)
