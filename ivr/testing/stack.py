"""A whole system for tests and benchmarks: a private Asterisk instance and a controller process.

Everything listens on 127.0.0.1 on free ports, with its own data directory, so it runs beside a
developer's ``make up``. Processes are stopped by the pid we started, nothing else.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.pbx.config import PbxConfig
from ivr.pbx.factory import pbx_for
from ivr.pbx.instance import Pbx
from ivr.pbx.ports import free_udp_range, free_udp_tcp_port
from ivr.pbx.secrets import load_or_create_ari_password
from ivr.settings import Settings
from ivr.testing.prompt_cache import copy_new, default_cache


@dataclass
class TestPbx:
    __test__ = False  # not a pytest test class

    pbx: Pbx
    config: PbxConfig
    data_dir: Path
    env: dict[str, str]

    @property
    def sip_target(self) -> str:
        return f"127.0.0.1:{self.config.sip_port}"

    def stop(self) -> None:
        asyncio.run(self.pbx.stop())
        self.pbx.remove_files()


def rtp_ports_for(max_calls: int) -> int:
    """An even RTP range for ``max_calls`` concurrent calls (RTP + RTCP each) with 25 % headroom."""
    size = max(200, int(max_calls * 2 * 1.25))
    return size + size % 2


def start_test_pbx(
    data_dir: Path,
    *,
    name: str | None = None,
    app: str = "ivr",
    rtp_ports: int = 200,
    sip_proxy: str | None = None,
) -> TestPbx:
    """Start a private Asterisk instance on free ports; ``env`` holds the IVR_* settings for it.

    ``rtp_ports``: size of its RTP range — two ports per concurrent call (``rtp_ports_for``).
    ``sip_proxy``: ``HOST:PORT`` of a Kamailio in front (``IVR_SIP_PROXY``): operators are rung through it.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    name = name or f"t{os.getpid()}-{int(time.time() * 1000) % 100000}"
    sip_port = free_udp_tcp_port()
    ari_port = free_udp_tcp_port(exclude={sip_port})
    rtp_start, rtp_end = free_udp_range(rtp_ports)
    env = {
        "IVR_DATA_DIR": str(data_dir),
        "IVR_RECORDINGS_DIR": str(data_dir / "recordings"),
        "IVR_PBX_NAME": name,
        "IVR_SIP_PORT": str(sip_port),
        "IVR_ARI_PORT": str(ari_port),
        "IVR_ARI_URL": f"http://127.0.0.1:{ari_port}",
        "IVR_ARI_APP": app,
        "IVR_RTP_START": str(rtp_start),
        "IVR_RTP_END": str(rtp_end),
    }
    if sip_proxy is not None:
        env["IVR_SIP_PROXY"] = sip_proxy
    settings = _settings_with(env)
    password = load_or_create_ari_password(data_dir)
    env["IVR_ARI_PASSWORD"] = password
    config = PbxConfig(
        name=name,
        sip_port=sip_port,
        ari_port=ari_port,
        ari_user=settings.ari_user,
        ari_password=password,
        app=app,
        rtp_start=rtp_start,
        rtp_end=rtp_end,
        sip_proxy=settings.sip_proxy,
    )
    running = TestPbx(pbx=pbx_for(settings, config), config=config, data_dir=data_dir, env=env)
    try:
        asyncio.run(running.pbx.start(progress=lambda line: print(line, file=sys.stderr)))
    except BaseException:
        running.stop()  # a half-started Asterisk is ours too
        raise
    copy_new(default_cache(), running.pbx.sounds_dir)  # prompts synthesised by earlier sessions
    return running


def _settings_with(env: dict[str, str]) -> Settings:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return Settings.from_env()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class ControllerProcess:
    """``ivr serve`` as a child process against a running Asterisk."""

    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    http_port: int = 0
    token: str = "test-admin-token"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, *, wait_s: float = 60.0) -> None:
        self.http_port = self.http_port or free_udp_tcp_port()
        env = dict(os.environ)
        env.update(self.env)
        env.update(
            {
                "IVR_HTTP_PORT": str(self.http_port),
                "IVR_ADMIN_TOKEN": self.token,
                "PYTHONUNBUFFERED": "1",
            }
        )
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ivr.cli", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.wait_healthy(wait_s)

    def wait_healthy(self, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"controller exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, _ = self.get("/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"controller not healthy after {wait_s}s:\n{self.log_tail()}")

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        return self.get(path, body=body)

    def get(self, path: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method="POST" if data else "GET")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", f"Bearer {token if token is not None else self.token}")
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            body = exc.read()
            try:
                return exc.code, json.loads(body or b"null")
            except ValueError:
                return exc.code, body.decode(errors="replace")

    def calls(self, limit: int = 50) -> list[dict[str, Any]]:
        status, body = self.get(f"/api/calls?limit={limit}")
        if status != 200:
            raise RuntimeError(f"/api/calls answered {status}: {body}")
        return list(body["calls"] if isinstance(body, dict) else body)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the controller, by its pid: no clean shutdown (Asterisk keeps its calls in Stasis)."""
        proc, self.proc = self.proc, None
        if proc is None:
            raise RuntimeError("the controller is not running")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)

    def stop(self, timeout: float = 10.0, *, drain: bool = False) -> None:
        """Stop now (SIGINT: calls stay in Asterisk for the next controller), or with ``drain`` as an
        upgrade would (SIGTERM: new calls take the fallback, calls in progress finish first)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM if drain else signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
