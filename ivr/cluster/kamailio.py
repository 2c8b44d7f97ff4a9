"""Run Kamailio as a plain process of our own: its own run directory, config and pid file.

``kamailio -f kamailio.cfg -P kamailio.pid -DD -E`` (foreground, logs to stderr, captured in
``kamailio.log``): no system service, no root needed, several may run side by side on other ports.
Stopped by the pid we started (SIGTERM, then SIGKILL of its own process group).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from ivr.cluster.kamailio_conf import TEMPLATE, KamailioSettings, render_config, render_dispatcher_list
from ivr.cluster.sip_ping import answers_options

log = logging.getLogger(__name__)

CONFIG_FILE = "kamailio.cfg"
DISPATCHER_FILE = "dispatcher.list"
PID_FILE = "kamailio.pid"
LOG_FILE = "kamailio.log"


class KamailioError(RuntimeError):
    """Kamailio is missing, refused its config or did not come up."""


def find_kamailio(binary: str = "kamailio") -> str:
    """The Kamailio program (a path or a name on the PATH, /usr/sbin included)."""
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
    if found is None:
        raise KamailioError(f"{binary} not found: install Debian's kamailio package")
    return found


class Kamailio:
    """One Kamailio for ``settings``, with its files in ``rundir`` (config rendered from ``template``)."""

    def __init__(
        self, settings: KamailioSettings, rundir: Path, *, binary: str = "kamailio", template: Path = TEMPLATE
    ) -> None:
        self.settings = settings
        self.rundir = rundir
        self._binary = binary
        self._template = template
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        return self.rundir / CONFIG_FILE

    @property
    def log_path(self) -> Path:
        return self.rundir / LOG_FILE

    @property
    def address(self) -> str:
        """``host:port`` where it takes SIP (what a node's ``IVR_SIP_PROXY`` names)."""
        return f"{self.settings.listen_host}:{self.settings.listen_port}"

    @property
    def pid(self) -> int | None:
        if self._proc is None or self._proc.poll() is not None:
            return None
        return self._proc.pid

    def write_files(self) -> Path:
        """Render the config (0600: it holds the operators' digest hashes) and the node list."""
        self.rundir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.rundir, 0o700)
        dispatcher = self.rundir / DISPATCHER_FILE
        _write(dispatcher, render_dispatcher_list(self.settings.nodes), 0o600)
        _write(
            self.config_path,
            render_config(self.settings, dispatcher_file=dispatcher, template=self._template),
            0o600,
        )
        return self.config_path

    def check_config(self) -> None:
        """``kamailio -c``: raise ``KamailioError`` with Kamailio's own words if it rejects the config."""
        self.write_files()
        result = subprocess.run(
            [find_kamailio(self._binary), "-c", "-f", str(self.config_path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise KamailioError(f"kamailio rejected {self.config_path}:\n{_tail(result.stderr)}")

    async def start(self, *, wait_s: float = 15.0) -> None:
        """Start it and wait until it answers OPTIONS on its SIP address."""
        if self.pid is not None:
            raise KamailioError(f"Kamailio already running (pid {self.pid})")
        binary = find_kamailio(self._binary)
        self.write_files()
        argv = [binary, "-f", str(self.config_path), "-P", str(self.rundir / PID_FILE), "-DD", "-E"]
        self._proc = self._spawn(argv)
        log.info("Kamailio starting (pid %d) on udp:%s", self._proc.pid, self.address)
        try:
            await self._wait_ready(wait_s)
        except BaseException:
            await self.stop()
            raise

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        with open(self.log_path, "ab") as out:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                cwd=self.rundir,
            )

    async def _wait_ready(self, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        host, port = self.settings.listen_host, self.settings.listen_port
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                raise KamailioError(f"Kamailio exited with {code}:\n{_tail(self.log_text())}")
            if await asyncio.to_thread(answers_options, host, port, timeout_s=0.3):
                return
            await asyncio.sleep(0.1)
        raise KamailioError(f"Kamailio did not answer OPTIONS on {self.address} in {wait_s:g} s")

    async def answers(self) -> bool:
        """Readiness: does it answer OPTIONS now?"""
        host, port = self.settings.listen_host, self.settings.listen_port
        return await asyncio.to_thread(answers_options, host, port, timeout_s=0.5)

    async def stop(self, grace_s: float = 5.0) -> None:
        """SIGTERM by pid; after ``grace_s``, SIGKILL to its process group (its own children)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(proc.wait, grace_s)
        if proc.poll() is None:
            log.warning("Kamailio (pid %d) ignored SIGTERM for %.0f s; killing it", proc.pid, grace_s)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        with contextlib.suppress(FileNotFoundError):
            (self.rundir / PID_FILE).unlink()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def _write(path: Path, text: str, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])
