"""The Asterisk and controller a capacity run uses, started and stopped by pid.

``ivr.testing.stack.start_test_pbx`` gives a test Asterisk 100 RTP ports (about 50 calls);
a capacity run needs one RTP/RTCP pair per call, so ``start_bench_pbx`` builds the same
instance with a range sized for the highest level.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ivr.pbx import Pbx, PbxConfig, free_udp_range, free_udp_tcp_port, load_or_create_ari_password, pbx_for
from ivr.settings import Settings
from ivr.testing.stack import ControllerProcess

BENCH_APP = "ivr-bench"
FLOWS_DIR = Path(__file__).resolve().parent / "flows"


@dataclass
class BenchPbx:
    pbx: Pbx
    config: PbxConfig
    env: dict[str, str]

    @property
    def sip_target(self) -> str:
        return f"127.0.0.1:{self.config.sip_port}"

    @property
    def pid(self) -> int | None:
        return self.pbx.pid

    def stop(self) -> None:
        asyncio.run(self.pbx.stop())


def rtp_ports_for(max_calls: int) -> int:
    """An even RTP range for ``max_calls`` calls (RTP + RTCP each) with 25 % headroom."""
    size = max(200, int(max_calls * 2 * 1.25))
    return size + size % 2


def _settings_with(env: dict[str, str]) -> Settings:
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return Settings.from_env()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def start_bench_pbx(data_dir: Path, *, max_calls: int) -> BenchPbx:
    """A private Asterisk on free ports (as ``start_test_pbx``) with RTP ports for ``max_calls``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    name = f"bench-{os.getpid()}-{int(time.time()) % 100000}"
    sip_port = free_udp_tcp_port()
    ari_port = free_udp_tcp_port(exclude={sip_port})
    rtp_start, rtp_end = free_udp_range(rtp_ports_for(max_calls))
    env = {
        "IVR_DATA_DIR": str(data_dir),
        "IVR_PBX_NAME": name,
        "IVR_SIP_PORT": str(sip_port),
        "IVR_ARI_PORT": str(ari_port),
        "IVR_ARI_URL": f"http://127.0.0.1:{ari_port}",
        "IVR_ARI_APP": BENCH_APP,
        "IVR_RTP_START": str(rtp_start),
        "IVR_RTP_END": str(rtp_end),
    }
    settings = _settings_with(env)
    password = load_or_create_ari_password(data_dir)
    env["IVR_ARI_PASSWORD"] = password
    config = PbxConfig(
        name=name,
        sip_port=sip_port,
        ari_port=ari_port,
        ari_user=settings.ari_user,
        ari_password=password,
        app=BENCH_APP,
        rtp_start=rtp_start,
        rtp_end=rtp_end,
    )
    pbx = pbx_for(settings, config)
    bench = BenchPbx(pbx=pbx, config=config, env=env)
    try:
        asyncio.run(pbx.start(progress=lambda line: print(line, file=sys.stderr)))
    except BaseException:
        bench.stop()  # a half-started Asterisk is ours too
        raise
    return bench


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
