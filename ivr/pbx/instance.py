"""One running Asterisk: its directories, start/stop by pid, ARI readiness, sound paths.

Several instances may run at once from the same root (tests beside ``make up``): each has its
own etc/run/spool/log/lib/sounds directories and its own ports; binaries and prompts are shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import aiohttp

from ivr.ari.client import AriClient
from ivr.ari.errors import AriError, AriHTTPError
from ivr.pbx.adoption import LeftRunning, PbxAction, adopt_or_start
from ivr.pbx.config import PbxConfig
from ivr.pbx.crypt_hash import sha512_crypt
from ivr.pbx.errors import PbxError
from ivr.pbx.root import Progress, copy_hosts, ensure_root
from ivr.pbx.sip_proxy import FILE_NAME as PROXY_FILE
from ivr.pbx.sip_proxy import proxy_sections
from ivr.pbx.templates import render_templates, write_rendered

log = logging.getLogger(__name__)

MODES = ("auto", "root", "system", "external")
SUBDIRS = ("etc", "run", "spool", "spool/recording", "log", "log/cdr-csv", "lib", "lib/cache", "sounds")
PIDFILE = "run/ivr-pbx.json"
CONSOLE_LOG = "log/console.out"
MESSAGES_LOG = "log/messages.log"
SOUND_SUFFIXES = {".wav", ".gsm", ".sln", ".sln16", ".ulaw", ".alaw", ".pcm", ".g722", ".wav16"}
_ROOT_START = 'mount -t proc proc "$1/proc" && exec chroot "$1" "$2" -f -n -C "$3"'


@dataclass(frozen=True)
class PbxStatus:
    name: str
    mode: str
    running: bool
    pid: int | None
    ari_url: str
    sip_port: int
    ari_port: int


class Pbx:
    """An Asterisk for one :class:`PbxConfig`; ``mode`` is "root", "system" or "external"."""

    def __init__(
        self,
        config: PbxConfig,
        *,
        mode: str,
        instance_dir: Path,
        chroot: Path | None = None,
        binary: str = "/usr/sbin/asterisk",
        ari_url: str | None = None,
        ready_timeout: float = 60.0,
    ) -> None:
        if mode not in ("root", "system", "external"):
            raise PbxError(f"unknown PBX mode {mode!r}: use root, system or external")
        self.config = config
        self.mode = mode
        self.instance_dir = instance_dir  # host path
        self.chroot = chroot
        self.binary = binary
        self.ari_url = (ari_url or config.ari_url).rstrip("/")
        self.ready_timeout = ready_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self.started_in_s: float | None = None

    # -- paths --------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.config.name

    @property
    def sounds_dir(self) -> Path:
        """Host directory where the controller writes prompt files Asterisk can play."""
        return self.instance_dir / "sounds"

    @property
    def log_dir(self) -> Path:
        return self.instance_dir / "log"

    @property
    def recording_spool(self) -> Path:
        """Host directory where Asterisk writes ARI recordings (voicemail) before we file them."""
        return self.instance_dir / "spool" / "recording"

    def asterisk_path(self, host_path: Path) -> PurePosixPath:
        """``host_path`` as Asterisk sees it (inside the root when chrooted)."""
        resolved = Path(os.path.abspath(host_path))
        if self.chroot is None:
            return PurePosixPath(resolved)
        root = Path(os.path.abspath(self.chroot))
        try:
            return PurePosixPath("/") / resolved.relative_to(root)
        except ValueError:
            raise PbxError(
                f"{host_path} is outside the Asterisk root {root}; write it under {self.sounds_dir}"
            ) from None

    def media_uri(self, host_path: Path) -> str:
        """The ARI ``sound:`` URI for a prompt file (extension dropped: Asterisk picks the format)."""
        path = self.asterisk_path(host_path)
        if path.suffix.lower() in SOUND_SUFFIXES:
            path = path.with_suffix("")
        return f"sound:{path}"

    # -- state --------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        if self._proc is not None:
            return self._proc.pid if self._proc.poll() is None else None
        return self._pid_from_file()

    def status(self) -> PbxStatus:
        pid = None if self.mode == "external" else self.pid
        return PbxStatus(
            self.name,
            self.mode,
            pid is not None,
            pid,
            self.ari_url,
            self.config.sip_port,
            self.config.ari_port,
        )

    async def ari_answers(self, wait_s: float = 2.0) -> bool:
        """True when ``GET /ari/asterisk/info`` answers 200 with our credentials."""
        return await self._ari_status(wait_s) == 200

    def log_lines(self, name: str = MESSAGES_LOG) -> list[str]:
        try:
            return (self.instance_dir / name).read_text(errors="replace").splitlines()
        except OSError:
            return []

    def log_problems(self) -> list[str]:
        """ERROR and WARNING lines of this instance's messages log."""
        return [line for line in self.log_lines() if "ERROR[" in line or "WARNING[" in line]

    # -- start / stop -------------------------------------------------------------------------
    async def start(self, progress: Progress | None = None) -> None:
        """Render config, start Asterisk and return once ARI answers (no-op when external)."""
        say = progress or (lambda message: log.info("%s", message))
        if self.mode == "external":
            say(f"using the Asterisk already running at {self.ari_url}")
            return
        if self.pid is not None:
            raise PbxError(f"Asterisk {self.name!r} is already running (pid {self.pid}); stop it first")
        if os.geteuid() != 0 and self.mode == "root":
            raise PbxError(
                "no Asterisk: the Debian sid root needs root (chroot, mount); run as root, "
                "or install asterisk on PATH and set IVR_PBX=system"
            )
        if self.chroot is not None:
            await ensure_root(self.chroot, progress=progress)
            copy_hosts(self.chroot)
        self._check_ports()
        conf = self._prepare()
        argv = self._argv(conf)
        began = time.monotonic()
        where = "" if self.chroot is None else f" {self.chroot}"
        say(f"starting Asterisk {self.name!r} ({self.mode}{where})")
        self._proc = self._spawn(argv)
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        self.started_in_s = time.monotonic() - began
        self._write_pidfile()
        say(
            f"Asterisk {self.name!r} up in {self.started_in_s:.1f} s: pid {self._proc.pid}, "
            f"ARI {self.ari_url}, SIP udp 127.0.0.1:{self.config.sip_port}"
        )

    async def start_or_adopt(self, progress: Progress | None = None, ari_wait_s: float = 5.0) -> bool:
        """Adopt this instance if an earlier run left it running (its pid file names a live Asterisk
        with this instance's config, and ARI answers our credentials within ``ari_wait_s``), else
        start it. True when adopted. Raises PbxError when it runs but ARI will not have us."""
        say = progress or (lambda message: log.info("%s", message))
        if self.mode == "external":
            await self.start(progress)  # says which Asterisk it uses
            return False
        pid = self._pidfile_pid()
        ours = pid is not None and self._is_our_asterisk(pid)
        status = await self._ari_status_within(ari_wait_s) if ours else None
        decision = adopt_or_start(self.name, LeftRunning(pid, ours, status), self.ari_url)
        if decision.action is PbxAction.REFUSE:
            raise PbxError(decision.message)
        if decision.action is PbxAction.ADOPT:
            say(decision.message)
            return True
        if decision.stale_pidfile:
            say(f"Asterisk {self.name!r}: pid {pid} in {PIDFILE} is gone; starting afresh")
            with contextlib.suppress(FileNotFoundError):
                (self.instance_dir / PIDFILE).unlink()
        await self.start(progress)
        return False

    async def _ari_status_within(self, wait_s: float) -> int | None:
        """ARI's answer to us, asking again while nothing answers (an Asterisk still booting)."""
        deadline = time.monotonic() + wait_s
        while True:
            status = await self._ari_status(min(2.0, max(0.5, wait_s)))
            if status is not None or time.monotonic() >= deadline:
                return status
            await asyncio.sleep(0.3)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Ask Asterisk to stop (SIGTERM), wait, then SIGKILL — by pid only (no-op when external)."""
        if self.mode == "external":
            return
        pid = self.pid
        if pid is not None:
            log.info("stopping Asterisk %r (pid %d)", self.name, pid)
            self._signal(pid, signal.SIGTERM)
            if not await self._wait_exit(pid, grace_s):
                log.warning(
                    "Asterisk %r (pid %d) ignored SIGTERM for %.0f s; killing it", self.name, pid, grace_s
                )
                self._signal(pid, signal.SIGKILL)
                await self._wait_exit(pid, 5.0)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(FileNotFoundError):
            (self.instance_dir / PIDFILE).unlink()

    def remove_files(self) -> None:
        """Delete this instance's directories (config, logs, sounds) once it is stopped."""
        if self.mode == "external" or self.pid is not None:
            raise PbxError(f"not removing {self.instance_dir}: instance {self.name!r} is running or external")
        shutil.rmtree(self.instance_dir, ignore_errors=True)

    # -- internals ----------------------------------------------------------------------------
    def _template_values(self) -> dict[str, object]:
        c = self.config
        return {
            "name": c.name,
            "sip_port": c.sip_port,
            "ari_port": c.ari_port,
            "ari_user": c.ari_user,
            "ari_password": c.ari_password,
            "ari_password_hash": sha512_crypt(c.ari_password),  # ari.conf keeps only this
            "app": c.app,
            "rtp_start": c.rtp_start,
            "rtp_end": c.rtp_end,
            "instance_dir": self.asterisk_path(self.instance_dir),
            "sounds_dir": self.asterisk_path(self.sounds_dir),
            "moddir": self._moddir(),
            "datadir": self._datadir(),
            "bind_address": "127.0.0.1",
            "trunk_match": "127.0.0.1",
            "tone_country": c.tone_country,
        }

    def _prepare(self) -> str:
        for sub in SUBDIRS:
            (self.instance_dir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.instance_dir / "etc", 0o700)
        for stale in ("run/asterisk.ctl", "run/asterisk.pid", MESSAGES_LOG):
            with contextlib.suppress(FileNotFoundError):
                (self.instance_dir / stale).unlink()
        values = self._template_values()
        rendered = render_templates(values)
        rendered[PROXY_FILE] = proxy_sections(self.config.sip_proxy, trunk_match=str(values["trunk_match"]))
        write_rendered(rendered, self.instance_dir / "etc")
        return str(self.asterisk_path(self.instance_dir / "etc" / "asterisk.conf"))

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        with open(self.instance_dir / CONSOLE_LOG, "wb") as out:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )

    def _argv(self, conf: str) -> list[str]:
        if self.chroot is None:
            return [self.binary, "-f", "-n", "-C", conf]
        if shutil.which("unshare") is None:
            raise PbxError("unshare is missing (util-linux); it keeps the root's /proc mount private")
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            _ROOT_START,
            "ivr-asterisk",
            str(self.chroot),
            self.binary,
            conf,
        ]

    def _inside(self, path: str) -> Path:
        return Path(path) if self.chroot is None else self.chroot / path.lstrip("/")

    def _moddir(self) -> str:
        found = _conf_dir("astmoddir", self._inside("/etc/asterisk/asterisk.conf"))
        candidates = ([found] if found else []) + [
            "/usr/lib/x86_64-linux-gnu/asterisk/modules",
            "/usr/lib/aarch64-linux-gnu/asterisk/modules",
            "/usr/lib/asterisk/modules",
            "/usr/lib64/asterisk/modules",
        ]
        for candidate in candidates:
            if (self._inside(candidate) / "chan_pjsip.so").is_file():
                return candidate
        raise PbxError(
            f"no Asterisk module directory with chan_pjsip.so found (looked in {', '.join(candidates)})"
        )

    def _datadir(self) -> str:
        found = _conf_dir("astdatadir", self._inside("/etc/asterisk/asterisk.conf"))
        for candidate in ([found] if found else []) + ["/usr/share/asterisk", "/var/lib/asterisk"]:
            if (self._inside(candidate) / "sounds").is_dir():
                return candidate
        return found or "/usr/share/asterisk"

    def _check_ports(self) -> None:
        for port, kind, label in (
            (self.config.ari_port, socket.SOCK_STREAM, "ARI (TCP)"),
            (self.config.sip_port, socket.SOCK_DGRAM, "SIP (UDP)"),
        ):
            with socket.socket(socket.AF_INET, kind) as sock:
                if kind == socket.SOCK_STREAM:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    raise PbxError(
                        f"{label} port {port} on 127.0.0.1 is in use; "
                        "stop what holds it or choose another port"
                    ) from None

    async def _ari_status(self, wait_s: float) -> int | None:
        """The HTTP status of ``GET /asterisk/info`` with our credentials; None when nothing answers."""
        timeout = aiohttp.ClientTimeout(total=wait_s)
        c = self.config
        async with AriClient(self.ari_url, c.ari_user, c.ari_password, c.app, timeout=timeout) as ari:
            try:
                await ari.asterisk.info()
            except AriHTTPError as exc:
                return exc.status
            except AriError:
                return None
        return 200

    async def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                raise PbxError(
                    f"Asterisk {self.name!r} exited with code {code} before ARI answered; "
                    f"last output:\n{self._tail()}"
                )
            status = await self._ari_status(2.0)
            if status == 200:
                return
            if status in (401, 403):
                raise PbxError(
                    f"ARI at {self.ari_url} refused user {self.config.ari_user!r} ({status}); "
                    "is another Asterisk on that port?"
                )
            await asyncio.sleep(0.2)
        raise PbxError(
            f"Asterisk {self.name!r} did not answer ARI at {self.ari_url} within "
            f"{self.ready_timeout:.0f} s; last output:\n{self._tail()}"
        )

    def _tail(self, count: int = 15) -> str:
        lines = self.log_lines(CONSOLE_LOG)[-count:] + self.log_lines(MESSAGES_LOG)[-count:]
        return "\n".join(lines) or "(no output)"

    def _write_pidfile(self) -> None:
        assert self._proc is not None
        data = {
            "pid": self._proc.pid,
            "name": self.name,
            "mode": self.mode,
            "ari_url": self.ari_url,
            "sip_port": self.config.sip_port,
            "ari_port": self.config.ari_port,
            "app": self.config.app,
        }
        path = self.instance_dir / PIDFILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data) + "\n")
        os.replace(tmp, path)

    def _pid_from_file(self) -> int | None:
        pid = self._pidfile_pid()
        return pid if pid is not None and self._is_our_asterisk(pid) else None

    def _pidfile_pid(self) -> int | None:
        """The pid the pid file names, alive or not."""
        try:
            data = json.loads((self.instance_dir / PIDFILE).read_text())
            return int(data["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _is_our_asterisk(self, pid: int) -> bool:
        """The pid is alive and is Asterisk started with this instance's config (pids get reused)."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        conf = str(self.asterisk_path(self.instance_dir / "etc" / "asterisk.conf")).encode()
        return state != "Z" and conf in cmdline and any(arg.endswith(b"asterisk") for arg in cmdline)

    def _signal(self, pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    async def _wait_exit(self, pid: int, wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                if self._proc.poll() is not None:
                    return True
            elif not _alive(pid):
                return True
            await asyncio.sleep(0.05)
        return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _conf_dir(key: str, asterisk_conf: Path) -> str | None:
    try:
        lines = asterisk_conf.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        left, sep, right = line.split(";", 1)[0].partition("=>")
        if sep and left.strip() == key:
            return right.strip() or None
    return None
