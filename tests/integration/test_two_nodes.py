"""One ACD across two nodes (issue #11): two Asterisk + controller nodes share one PostgreSQL database behind
one Kamailio (round-robin). Two callers enter at Kamailio, one lands on each node; the one operator, whose
phone registered at Kamailio, answers both, one after the other — never two offers at once."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ivr.cluster.kamailio import Kamailio, KamailioError, find_kamailio
from ivr.cluster.kamailio_conf import KamailioSettings, Node, Operator
from ivr.testing.prompt_cache import copy_new, default_cache, exclusive
from ivr.testing.sipp import SippProcess, free_udp_port
from ivr.testing.stack import ControllerProcess, TestPbx, start_test_pbx
from tests.integration.calls import newest_call
from tests.integration.kamailio_nodes import (
    at,
    call_through,
    node_env,
    operator_phone,
    rung,
    wait_for_prompts,
)
from tests.integration.phones import SECRETS, agent, set_state, until

HERE = Path(__file__).resolve().parent
OPERATOR = "3101"  # skills t_returns, reached on 7701 (tests/integration/flows/acd_lines.yaml)
CALLERS = ("0312240001", "0312240002")


@pytest.fixture
def kamailio_port() -> int:
    try:
        find_kamailio()
    except KamailioError as exc:
        pytest.skip(str(exc))
    return free_udp_port()


@pytest.fixture
def two_nodes(
    tmp_path: Path, kamailio_port: int, pg_url: str
) -> Iterator[list[tuple[TestPbx, ControllerProcess]]]:
    """Two Asterisks (started one after the other) whose operators are rung through Kamailio, each with
    its own controller; both controllers keep their records, reservations and agents' states in ``pg_url``."""
    proxy = f"127.0.0.1:{kamailio_port}"
    names = [f"n{i}x{int(time.time() * 1000) % 100000}" for i in (1, 2)]
    pbxs: list[TestPbx] = []
    try:
        for name in names:  # one after the other: two starts at once race on the shared root's files
            pbxs.append(start_test_pbx(tmp_path / name, name=name, sip_proxy=proxy))
    except BaseException:
        for pbx in pbxs:
            pbx.stop()
        raise
    flows = tmp_path / "site-flows"
    flows.mkdir()
    shutil.copy(HERE / "flows" / "acd_lines.yaml", flows / "acd_lines.yaml")
    nodes: list[tuple[TestPbx, ControllerProcess]] = []
    try:
        for pbx, name in zip(pbxs, names, strict=True):
            controller = ControllerProcess(
                env=node_env(pbx, flows, node=name, db_url=pg_url),
                log_path=pbx.data_dir / "controller.log",
            )
            nodes.append((pbx, controller))
        with exclusive(default_cache()) as cache:
            for pbx, controller in nodes:  # one after the other: the first one migrates the database
                copy_new(cache, pbx.pbx.sounds_dir)
                controller.start()
            for pbx, controller in nodes:
                wait_for_prompts(controller)
                copy_new(pbx.pbx.sounds_dir, cache)
        yield nodes
    finally:
        for _, controller in nodes:
            controller.stop()
        for pbx in pbxs:
            pbx.stop()
    for _, controller in nodes:
        assert "Traceback" not in controller.log_text(), controller.log_tail(200)


@contextlib.asynccontextmanager
async def _front_door(
    two_nodes: list[tuple[TestPbx, ControllerProcess]],
    kamailio_port: int,
    tmp_path: Path,
    **phone: int,
) -> AsyncIterator[tuple[Kamailio, SippProcess]]:
    """Kamailio round-robin over the two nodes, and the operator's phone registered there; afterwards
    the phone and Kamailio are stopped and the operator logged out."""
    (pbx_a, node_a), (pbx_b, _node_b) = two_nodes
    kamailio = Kamailio(
        KamailioSettings(
            nodes=(Node("127.0.0.1", pbx_a.config.sip_port), Node("127.0.0.1", pbx_b.config.sip_port)),
            operators=(Operator(OPERATOR, SECRETS[OPERATOR]),),
            listen_port=kamailio_port,
            algorithm="round-robin",
        ),
        tmp_path / "kamailio",
    )
    await kamailio.start()
    sipp: SippProcess | None = None
    try:
        sipp = await operator_phone(kamailio, OPERATOR, timeout_s=90, **phone)
        yield kamailio, sipp
    finally:
        if sipp is not None:
            await sipp.stop()
        await kamailio.stop()
        status, _ = node_a.post(f"/api/agents/{OPERATOR}/state", {"state": "logged_out"})
        assert status in (200, 409)


async def test_two_callers_on_two_nodes_are_answered_one_after_the_other_by_one_operator(
    two_nodes: list[tuple[TestPbx, ControllerProcess]], kamailio_port: int, tmp_path: Path
) -> None:
    (pbx_a, node_a), (pbx_b, node_b) = two_nodes
    async with _front_door(two_nodes, kamailio_port, tmp_path, calls=2, answer_ms=500, talk_ms=2000) as (
        kamailio,
        phone,
    ):
        set_state(node_a, OPERATOR, "available")  # through node A's API only…
        await until(
            lambda: agent(node_b, OPERATOR)["state"] == "available", what="node B sees it", within_s=5
        )

        await asyncio.gather(*(call_through(kamailio, tmp_path, caller, "Two Nodes") for caller in CALLERS))

        records = [newest_call(node_a, caller=caller) for caller in CALLERS]
        assert {r["channel_id"].split("-")[0] for r in records} == {pbx_a.config.name, pbx_b.config.name}, [
            r["channel_id"] for r in records
        ]  # round-robin: one caller on each node
        assert [newest_call(node_b, caller=c)["id"] for c in CALLERS] == [r["id"] for r in records]
        for record in records:
            assert (record["queue"], record["agent"], record["outcome"]) == (
                "t_returns",
                OPERATOR,
                "completed",
            )
            assert [(o["agent"], o["outcome"]) for o in rung(record)] == [(OPERATOR, "answered")], record
        spans = sorted((at(o["ring_started_at"]), at(o["ended_at"])) for r in records for o in rung(r))
        assert spans[0][1] <= spans[1][0], spans  # the second offer rang only after the first ended
        assert (await phone.stop()).successful == 2


FIFO_CALLERS = ("0312240010", "0312240011", "0312240012")


def _waiting(controllers: list[ControllerProcess]) -> int:
    """Callers waiting in t_returns on all nodes."""
    total = 0
    for controller in controllers:
        status, body = controller.get("/api/queues")
        assert status == 200, body
        total += next(q["waiting"] for q in body if q["name"] == "t_returns")
    return total


async def test_the_caller_who_waited_longer_on_the_other_node_is_answered_first(
    two_nodes: list[tuple[TestPbx, ControllerProcess]], kamailio_port: int, tmp_path: Path
) -> None:
    """FIFO within priority across nodes: caller 0 talks with the one operator on node X; then caller 1
    waits on node Y, later caller 2 on node X (round-robin). The operator frees up on node X, where
    caller 2 waits, yet caller 1 — who waited longer, on the other node — is answered first."""
    (pbx_a, node_a), (_pbx_b, node_b) = two_nodes
    controllers = [node_a, node_b]
    async with _front_door(two_nodes, kamailio_port, tmp_path, calls=3, answer_ms=300, talk_ms=5000) as (
        kamailio,
        phone,
    ):
        set_state(node_a, OPERATOR, "available")
        await until(
            lambda: agent(node_b, OPERATOR)["state"] == "available", what="node B sees it", within_s=5
        )

        calls = [asyncio.create_task(call_through(kamailio, tmp_path, FIFO_CALLERS[0], "Two Nodes"))]
        await until(lambda: agent(node_a, OPERATOR)["state"] == "on_call", what="caller 0 talks", within_s=15)
        for n, caller in enumerate(FIFO_CALLERS[1:], start=1):
            calls.append(asyncio.create_task(call_through(kamailio, tmp_path, caller, "Two Nodes")))
            await until(lambda n=n: _waiting(controllers) == n, what=f"caller {n} waits", within_s=10)
        await asyncio.gather(*calls)

        records = [newest_call(node_a, caller=caller) for caller in FIFO_CALLERS]
        on = [r["channel_id"].split("-")[0] for r in records]
        assert on[0] == on[2] != on[1], on  # round-robin: callers 0 and 2 on one node, caller 1 on the other
        for record in records:
            assert (record["agent"], record["outcome"]) == (OPERATOR, "completed"), record
            assert [(o["agent"], o["outcome"]) for o in rung(record)] == [(OPERATOR, "answered")], record
        [talk0], [offer1], [offer2] = (rung(r) for r in records)
        queued1, queued2 = at(records[1]["queued_at"]), at(records[2]["queued_at"])
        assert queued1 < queued2 < at(talk0["ended_at"])  # both waited when the operator freed up
        assert at(offer1["answered_at"]) < at(offer2["ring_started_at"]), (offer1, offer2)
        freed_on = node_a if on[0] == pbx_a.config.name else node_b
        assert "waits longer" in freed_on.log_text()  # it tried the operator for caller 2: refused
        assert (await phone.stop()).successful == 3
