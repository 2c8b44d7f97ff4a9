"""The Asterisk and controller a capacity run uses, started and stopped by pid."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.testing.stack import ControllerProcess, TestPbx, rtp_ports_for, start_test_pbx

BENCH_APP = "ivr-bench"
FLOWS_DIR = Path(__file__).resolve().parent / "flows"


def start_bench_pbx(data_dir: Path, *, max_calls: int) -> TestPbx:
    """A private Asterisk on free ports with RTP ports for ``max_calls`` concurrent calls."""
    return start_test_pbx(
        data_dir, name=f"bench-{os.getpid()}", app=BENCH_APP, rtp_ports=rtp_ports_for(max_calls)
    )


@dataclass
class Controllers:
    """Controller processes started one after another (one per level), each stopped by pid."""

    env: dict[str, str]
    log_path: Path
    current: ControllerProcess | None = None
    started: int = field(default=0)

    def restart(self) -> ControllerProcess:
        self.stop()
        controller = ControllerProcess(
            env={**self.env, "IVR_FLOWS_DIR": str(FLOWS_DIR)}, log_path=self.log_path
        )
        self.current = controller
        self.started += 1
        controller.start(wait_s=90.0)
        return controller

    def stop(self) -> None:
        controller, self.current = self.current, None
        if controller is not None:
            controller.stop()


def stop_stack(
    bench: str,
    stop_controller: Callable[[], None] | None,
    pbx: TestPbx | None,
    workdir: Path,
    *,
    keep: bool,
    echo: Callable[[str], None],
) -> None:
    """Stop what a bench run started (controller first, then Asterisk, each by pid). With ``keep`` the
    Asterisk logs are copied into ``workdir`` before the instance's files are removed."""
    if stop_controller is not None:
        try:
            stop_controller()
        except Exception as exc:  # keep going: Asterisk must still be stopped
            print(f"{bench}: stopping the controller: {exc}", file=sys.stderr)
    if pbx is not None:
        try:
            asyncio.run(pbx.pbx.stop())
            if keep:
                shutil.copytree(pbx.pbx.log_dir, workdir / "asterisk-log", dirs_exist_ok=True)
            pbx.pbx.remove_files()
        except Exception as exc:
            print(f"{bench}: stopping Asterisk: {exc}", file=sys.stderr)
    if keep:
        echo(f"logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
