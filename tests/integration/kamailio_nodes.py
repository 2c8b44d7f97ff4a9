"""Shared by the tests of nodes behind Kamailio (test_kamailio, test_two_nodes, test_cluster_faults): a
node's controller environment, its prompts, operator phones registered at Kamailio, callers entering
there, and the offers read back from the records."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from ivr.cluster.kamailio import Kamailio
from ivr.testing.sipp import SippProcess, SippResult, caller_pcap, free_udp_port, run_sipp, start_sipp
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.phones import SECRETS

HERE = Path(__file__).resolve().parent


def node_env(
    pbx: TestPbx, flows_dir: Path, *, node: str | None = None, db_url: str | None = None
) -> dict[str, str]:
    """A node's controller: the test agents and queues, the site's flows, DEBUG logs, hours open."""
    env = {
        **pbx.env,
        "IVR_AGENTS_FILE": str(HERE / "acd" / "agents.yaml"),
        "IVR_QUEUES_FILE": str(HERE / "acd" / "queues.yaml"),
        "IVR_FLOWS_DIR": str(flows_dir),
        "IVR_LOG_LEVEL": "DEBUG",
        "IVR_HOURS_OVERRIDE": "open",
    }
    if node is not None:
        env["IVR_NODE"] = node
    if db_url is not None:
        env["IVR_DB_URL"] = db_url
    return env


def wait_for_prompts(proc: ControllerProcess, wait_s: float = 600.0) -> None:
    deadline = time.monotonic() + wait_s
    while "prompts ready" not in proc.log_text():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the controller's prompts were not ready in {wait_s:g} s")
        time.sleep(0.5)


async def operator_phone(
    kamailio: Kamailio,
    agent_id: str,
    *,
    calls: int = 1,
    answer_ms: int = 1000,
    talk_ms: int = 2000,
    timeout_s: float = 90,
) -> SippProcess:
    """An operator's softphone: a SIPp that answers after ``answer_ms`` and hangs up after ``talk_ms``,
    registered at Kamailio with digest auth."""
    port = free_udp_port()
    phone = await start_sipp(
        "uas_answer_bye",
        local_port=port,
        timeout_s=timeout_s,
        calls=calls,
        keys={"answer_ms": str(answer_ms), "talk_ms": str(talk_ms)},
    )
    registered = await run_sipp(
        "register",
        kamailio.address,
        service=agent_id,
        auth=(agent_id, SECRETS[agent_id]),
        keys={"contact_host": "127.0.0.1", "contact_port": str(port), "expires": "600"},
        timeout_s=15,
    )
    if not registered.ok:
        await phone.stop()
        raise AssertionError(registered.describe())
    return phone


async def caller_at(
    target: str,
    tmp_path: Path,
    caller: str,
    *,
    service: str = "7701",
    display: str = "Through Kamailio",
    wait_s: float = 25.0,
) -> SippResult:
    """A caller at ``target`` (Kamailio or a node's Asterisk) who waits up to ``wait_s`` for the BYE."""
    pcap = caller_pcap(tmp_path / f"caller-{caller}.pcap", "", lead_silence_s=1.0, trailing_silence_s=wait_s)
    return await run_sipp(
        "caller_waits_bye",
        target,
        service=service,
        pcap=pcap,
        keys={"caller": caller, "display": display},
        timeout_s=wait_s + 45,
        recv_timeout_s=wait_s + 40,
    )


async def call_through(
    kamailio: Kamailio, tmp_path: Path, caller: str, display: str = "Through Kamailio"
) -> None:
    result = await caller_at(kamailio.address, tmp_path, caller, display=display)
    assert result.ok, result.describe() + "\n--- kamailio ---\n" + kamailio.log_text()[-3000:]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def rung(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The offers that rang (a lost reservation race leaves a zero-length offer that never rang)."""
    return [o for o in record["offers"] if o["outcome"] != "failed:reserved elsewhere"]
