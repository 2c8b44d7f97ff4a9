"""One real Asterisk and one controller process for the whole test session.

The Asterisk is a private instance (own ports, own directories) from the cached Debian sid root, so
these tests run beside a developer's ``make up``. Everything is stopped by pid at the end.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.testing.prompt_cache import copy_new, default_cache, exclusive
from ivr.testing.sipp import free_udp_port
from ivr.testing.stack import ControllerProcess, TestPbx, start_test_pbx

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/integration needs the real Asterisk (``-m "not asterisk"`` leaves them out).

    A ``pytestmark`` in a conftest has no effect, and this hook sees every collected item, not only
    those of this directory: hence the path check."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.asterisk)


@pytest.fixture(scope="session")
def pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPbx]:
    running = start_test_pbx(tmp_path_factory.mktemp("pbx"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def site_flows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    flows = tmp_path_factory.mktemp("site-flows")
    shutil.copy(HERE / "flows" / "acd_lines.yaml", flows / "acd_lines.yaml")  # numbers 7001-7005: test queues
    return flows


@pytest.fixture(scope="session")
def acd_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The test agents and queues (copies: the reload test edits the agents file)."""
    folder = tmp_path_factory.mktemp("acd")
    agents, queues = folder / "agents.yaml", folder / "queues.yaml"
    shutil.copy(HERE / "acd" / "agents.yaml", agents)
    shutil.copy(HERE / "acd" / "queues.yaml", queues)
    return agents, queues


@pytest.fixture(scope="session")
def customer_port() -> int:
    """Where callbacks dial customers (IVR_OUTBOUND_DIAL): a SIPp phone listens there in the callback test."""
    return free_udp_port()


@pytest.fixture(scope="session")
def controller(
    pbx: TestPbx, site_flows: Path, acd_files: tuple[Path, Path], customer_port: int
) -> Iterator[ControllerProcess]:
    proc = ControllerProcess(
        # Business hours forced open (the supervisor switch), so the shop flow does not depend on the clock.
        env={
            **pbx.env,
            "IVR_AGENTS_FILE": str(acd_files[0]),
            "IVR_QUEUES_FILE": str(acd_files[1]),
            "IVR_OUTBOUND_DIAL": f"PJSIP/trunk/sip:{{number}}@127.0.0.1:{customer_port}",
            "IVR_FLOWS_DIR": str(site_flows),
            "IVR_LOG_LEVEL": "DEBUG",
            "IVR_HOURS_OVERRIDE": "open",
            "IVR_ADMIN_PASSWORD": "test-admin-password-1",  # the browser tests sign in as admin
        },
        log_path=pbx.data_dir / "controller.log",
    )
    # One controller at a time fills the shared prompt cache (xdist workers each run a session
    # controller): the first synthesises every static prompt, the next finds them all in the cache.
    with exclusive(default_cache()) as cache:
        copy_new(cache, pbx.pbx.sounds_dir)
        proc.start()
        _wait_for_prompts(proc)
        copy_new(pbx.pbx.sounds_dir, cache)
    try:
        yield proc
    finally:
        proc.stop()
        log = proc.log_text()
        assert "Traceback" not in log, f"controller logged a traceback:\n{proc.log_tail(200)}"


PROMPTS_READY = "prompts ready"
PROMPTS_WAIT_S = 600.0


def _wait_for_prompts(proc: ControllerProcess) -> None:
    """Calls placed before the static prompts are synthesised wait for them and miss their typed keys."""
    deadline = time.monotonic() + PROMPTS_WAIT_S
    while PROMPTS_READY not in proc.log_text():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the controller's prompts were not ready in {PROMPTS_WAIT_S:g} s")
        time.sleep(0.5)
