"""A real Kamailio from the rendered config (no Asterisk): it starts, answers OPTIONS, takes REGISTERs only
with the operator's own digest credentials, marks a node that does not answer its probes down, and stops
by pid."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ivr.cluster.kamailio import Kamailio, KamailioError, find_kamailio
from ivr.cluster.kamailio_conf import KamailioSettings, Node, Operator
from ivr.cluster.sip_ping import answers_options
from ivr.testing.sipp import SippResult, free_udp_port, run_sipp

OPERATORS = (Operator("2101", "secret-of-2101"), Operator("2102", "secret-of-2102"))


@pytest.fixture(autouse=True)
def _needs_kamailio() -> None:
    try:
        find_kamailio()
    except KamailioError as exc:
        pytest.skip(str(exc))


def _settings(**changes: object) -> KamailioSettings:
    values: dict[str, object] = {
        "nodes": (Node("127.0.0.1", free_udp_port()),),  # nothing listens there
        "operators": OPERATORS,
        "listen_port": free_udp_port(),
    }
    values.update(changes)
    return KamailioSettings(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def _running(rundir: Path, settings: KamailioSettings) -> AsyncIterator[Kamailio]:
    kamailio = Kamailio(settings, rundir)
    await kamailio.start()
    try:
        yield kamailio
    finally:
        await kamailio.stop()


async def _register(kamailio: Kamailio, user: str, auth: tuple[str, str]) -> SippResult:
    return await run_sipp(
        "register",
        kamailio.address,
        service=user,
        auth=auth,
        keys={"contact_host": "127.0.0.1", "contact_port": str(free_udp_port()), "expires": "60"},
        timeout_s=8,
    )


def test_kamailio_accepts_the_rendered_config(tmp_path: Path) -> None:
    Kamailio(_settings(algorithm="priority", probe_interval_s=0), tmp_path / "k").check_config()


async def test_it_answers_options_keeps_its_config_private_and_stops_by_pid(tmp_path: Path) -> None:
    settings = _settings()
    async with _running(tmp_path / "k", settings) as kamailio:
        pid = kamailio.pid
        assert pid is not None
        assert answers_options(settings.listen_host, settings.listen_port)
        assert stat.S_IMODE(kamailio.config_path.stat().st_mode) == 0o600
        assert OPERATORS[0].secret not in kamailio.config_path.read_text()
    assert kamailio.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not answers_options(settings.listen_host, settings.listen_port, timeout_s=0.3)


async def test_an_operator_registers_with_its_own_credentials_only(tmp_path: Path) -> None:
    async with _running(tmp_path / "k", _settings()) as kamailio:
        assert (await _register(kamailio, "2101", ("2101", "secret-of-2101"))).ok
        assert not (await _register(kamailio, "2101", ("2101", "wrong"))).ok
        assert not (await _register(kamailio, "2999", ("2999", "secret-of-2101"))).ok  # unknown operator
        assert not (await _register(kamailio, "2101", ("2102", "secret-of-2102"))).ok  # someone else's id


async def test_a_node_that_does_not_answer_probes_is_marked_down(tmp_path: Path) -> None:
    dead = Node("127.0.0.1", free_udp_port())
    async with _running(tmp_path / "k", _settings(nodes=(dead,), probe_interval_s=1)) as kamailio:
        for _ in range(100):  # the probe's transaction times out after no_reply_timeout_ms (2 s)
            if f"node down: {dead.uri}" in kamailio.log_text():
                break
            await asyncio.sleep(0.1)
        assert f"node down: {dead.uri}" in kamailio.log_text()


async def test_a_config_kamailio_refuses_is_reported_with_its_words(tmp_path: Path) -> None:
    bad = tmp_path / "kamailio.cfg"
    bad.write_text('listen=udp:%%{listen_host}:%%{listen_port}\nloadmodule "no_such_module.so"\n')
    kamailio = Kamailio(_settings(), tmp_path / "k", template=bad)
    with pytest.raises(KamailioError, match="no_such_module"):
        kamailio.check_config()
    with pytest.raises(KamailioError, match="exited"):
        await kamailio.start(wait_s=5)
    assert kamailio.pid is None
