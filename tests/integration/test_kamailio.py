"""Kamailio in front of a real Asterisk node (issue #11): a caller enters at Kamailio, is dispatched to the
node, waits in a queue, and the operator whose phone registered at Kamailio (digest auth) answers — the
node rings it through Kamailio (``IVR_SIP_PROXY``). With a dead node listed first, the call fails over."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from ivr.cluster.kamailio import Kamailio, KamailioError, find_kamailio
from ivr.cluster.kamailio_conf import KamailioSettings, Node, Operator
from ivr.cluster.kamailio_db import kamailio_db_url, usrloc_schema
from ivr.cluster.postgres import ROLE, PostgresCluster
from ivr.testing.prompt_cache import copy_new, default_cache, exclusive
from ivr.testing.sipp import SippProcess, free_udp_port
from ivr.testing.stack import ControllerProcess, TestPbx, start_test_pbx
from tests.integration.calls import newest_call
from tests.integration.kamailio_nodes import call_through, node_env, operator_phone, wait_for_prompts
from tests.integration.phones import SECRETS, agent, set_state, until

HERE = Path(__file__).resolve().parent
OPERATOR = "3101"  # skills t_returns, reached on 7701 (tests/integration/flows/acd_lines.yaml)


@pytest.fixture(scope="module")
def kamailio_port() -> int:
    try:
        find_kamailio()
    except KamailioError as exc:
        pytest.skip(str(exc))
    return free_udp_port()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, kamailio_port: int) -> Iterator[TestPbx]:
    """An Asterisk whose operators are rung through the Kamailio on ``kamailio_port``."""
    running = start_test_pbx(tmp_path_factory.mktemp("node"), sip_proxy=f"127.0.0.1:{kamailio_port}")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def node_controller(node: TestPbx, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    files = tmp_path_factory.mktemp("node-site")
    shutil.copy(HERE / "flows" / "acd_lines.yaml", files / "acd_lines.yaml")
    proc = ControllerProcess(
        env=node_env(node, files),
        log_path=node.data_dir / "controller.log",
    )
    with exclusive(default_cache()) as cache:
        copy_new(cache, node.pbx.sounds_dir)
        proc.start()
        wait_for_prompts(proc)
        copy_new(node.pbx.sounds_dir, cache)
    try:
        yield proc
    finally:
        proc.stop()
        assert "Traceback" not in proc.log_text(), proc.log_tail(200)


@contextlib.asynccontextmanager
async def _front_door(
    rundir: Path, port: int, nodes: tuple[Node, ...], **settings: object
) -> AsyncIterator[Kamailio]:
    kamailio = Kamailio(
        KamailioSettings(
            nodes=nodes,
            operators=(Operator(OPERATOR, SECRETS[OPERATOR]),),
            listen_port=port,
            **settings,  # type: ignore[arg-type]
        ),
        rundir,
    )
    await kamailio.start()
    try:
        yield kamailio
    finally:
        await kamailio.stop()


async def _operator_phone(kamailio: Kamailio) -> SippProcess:
    """The operator's softphone (answers after 1 s, talks 2 s), registered at Kamailio with digest auth."""
    return await operator_phone(kamailio, OPERATOR)


async def _answered_by_the_operator(
    kamailio: Kamailio,
    controller: ControllerProcess,
    tmp_path: Path,
    caller: str,
    registered: Callable[[], list[str]] | None = None,
) -> None:
    phone = await _operator_phone(kamailio)
    try:
        if registered is not None:
            assert registered() == [OPERATOR]  # the contact Kamailio keeps for the operator
        set_state(controller, OPERATOR, "available")  # the node sees no registration of its own
        await until(lambda: agent(controller, OPERATOR)["state"] == "available", what="operator available")
        await call_through(kamailio, tmp_path, caller)
        record = newest_call(controller, caller=caller)
        assert record["queue"] == "t_returns"
        assert [(o["agent"], o["outcome"]) for o in record["offers"]] == [(OPERATOR, "answered")]
        assert (record["agent"], record["outcome"]) == (OPERATOR, "completed"), record
        assert (await phone.stop()).successful == 1  # the phone registered at Kamailio took the call
    finally:
        await phone.stop()
        status, _ = controller.post(f"/api/agents/{OPERATOR}/state", {"state": "logged_out"})
        assert status in (200, 409)


async def test_a_caller_entering_at_kamailio_is_answered_by_an_operator_registered_there(
    node: TestPbx, node_controller: ControllerProcess, kamailio_port: int, tmp_path: Path
) -> None:
    nodes = (Node("127.0.0.1", node.config.sip_port),)
    async with _front_door(tmp_path / "kamailio", kamailio_port, nodes) as kamailio:
        await _answered_by_the_operator(kamailio, node_controller, tmp_path, caller="0312230001")


async def test_a_call_fails_over_from_a_dead_node_to_the_live_one(
    node: TestPbx, node_controller: ControllerProcess, kamailio_port: int, tmp_path: Path
) -> None:
    dead = Node("127.0.0.1", free_udp_port(), priority=10)  # tried first; nothing listens there
    live = Node("127.0.0.1", node.config.sip_port, priority=0)
    # No probing: the dead node is still thought healthy, so only the failure route can save the call.
    async with _front_door(
        tmp_path / "kamailio", kamailio_port, (dead, live), algorithm="priority", probe_interval_s=0
    ) as kamailio:
        await _answered_by_the_operator(kamailio, node_controller, tmp_path, caller="0312230002")
        assert f"node sip:127.0.0.1:{dead.port} failed" in kamailio.log_text()


async def test_operators_registered_at_kamailio_are_kept_in_postgresql(
    node: TestPbx,
    node_controller: ControllerProcess,
    kamailio_port: int,
    tmp_path: Path,
    pg_cluster: PostgresCluster,
    pg_url: str,
) -> None:
    """usrloc in PostgreSQL (write-through): the operator's contact is a row any node can read, and the
    call still reaches the phone through it."""
    database = pg_url.rsplit("/", 1)[1]
    pg_cluster.psql(usrloc_schema(), database)
    db_url = kamailio_db_url("127.0.0.1", pg_cluster.port, database, ROLE)
    nodes = (Node("127.0.0.1", node.config.sip_port),)
    async with _front_door(tmp_path / "kamailio", kamailio_port, nodes, db_url=db_url) as kamailio:
        await _answered_by_the_operator(
            kamailio,
            node_controller,
            tmp_path,
            caller="0312230003",
            registered=lambda: pg_cluster.psql("SELECT username FROM location", database).split(),
        )
