"""The Asterisk and controller a capacity run uses, started and stopped by pid."""

from __future__ import annotations

import os
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
