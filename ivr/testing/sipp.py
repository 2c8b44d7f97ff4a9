"""Run SIPp (``sipp`` on the PATH, SIPp 3.6.1) non-interactively and read back what happened.

``start_sipp`` launches one SIPp process with its statistics, screen and error traces in a
private directory; ``SippProcess.wait()`` collects a :class:`SippResult` (final successful and
failed call counts from the ``-trace_stat`` CSV, falling back to the screen dump).
``run_sipp`` is start + wait, ``run_sipp_sync`` the same for plain scripts.

The process is stopped only through its own pid: ``SIGUSR1`` (SIPp's graceful quit), then
``SIGKILL`` — on timeout, on ``stop()`` and when the awaiting task is cancelled.

Scenarios shipped in ``ivr/testing/scenarios/`` (see :data:`SCENARIOS`) take their parameters
as SIPp keywords (``-key name value``); :func:`default_keys` fills every keyword they use, so a
caller only passes what it cares about.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import logging
import math
import os
import re
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ivr.testing.rtp_pcap import Silence, caller_pcap, write_pcap

log = logging.getLogger(__name__)

__all__ = [
    "SCENARIOS",
    "SCENARIOS_DIR",
    "SIPP_BINARY",
    "SippError",
    "SippProcess",
    "SippResult",
    "caller_pcap",
    "default_keys",
    "find_sipp",
    "free_udp_port",
    "quote_display",
    "run_sipp",
    "run_sipp_sync",
    "scenario_path",
    "start_sipp",
]

SIPP_BINARY = "sipp"
"""The SIPp program: a name looked up on the PATH, or a path."""
SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
SCENARIOS: dict[str, str] = {
    "caller_waits_bye": "caller: INVITE, play pcap, wait for the far end's BYE (recv_timeout_s bounds it)",
    "caller_hangs_up": "caller: INVITE, play pcap, send BYE after the hangup_ms keyword",
    "uas_answer": "answering phone: 180, answer_ms pause, 200, play pcap, wait for BYE",
    "uas_no_answer": "phone that rings and never answers: 180, then CANCEL -> 200 + 487",
    "uas_answer_bye": "answering phone that sends BYE talk_ms after the ACK",
    "agent_dials": "operator's phone: INVITE with digest auth (auth=(user, password)), wait for BYE",
    "register": "REGISTER with digest auth (auth=(user, password)); Contact contact_host:contact_port",
}

_STOP_GRACE_S = 3.0
_TAIL_CHARS = 4000


class SippError(RuntimeError):
    """SIPp could not be started (missing binary or scenario, bad keyword value)."""


@dataclass(frozen=True)
class SippResult:
    """The outcome of one SIPp run.

    ``returncode`` is SIPp's exit status (0: all calls succeeded, 1: at least one failed,
    97: stopped by command, 99: normal exit without calls, 255/254: fatal error), or the
    negative signal number when it had to be killed. ``stats`` is the last row of the
    ``-trace_stat`` CSV (cumulative ``(C)`` and periodic ``(P)`` counters). ``timed_out`` says
    SIPp's ``-timeout`` ended the run (or it had to be killed); ``open_calls`` were still in
    progress then — SIPp counts them neither successful nor failed.
    """

    returncode: int
    successful: int
    failed: int
    elapsed_s: float
    stats: dict[str, str]
    stderr_tail: str
    screen_tail: str
    errors_tail: str = ""
    timed_out: bool = False
    open_calls: int = 0
    command: tuple[str, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        """SIPp exited normally with no failed call."""
        return self.returncode == 0 and self.failed == 0 and not self.timed_out

    def describe(self) -> str:
        """A multi-line summary for assertion messages."""
        return (
            f"sipp rc={self.returncode} successful={self.successful} failed={self.failed} "
            f"open={self.open_calls} timed_out={self.timed_out} elapsed={self.elapsed_s:.1f}s\n"
            f"command: {' '.join(self.command)}\n"
            f"--- stderr ---\n{self.stderr_tail}\n--- errors ---\n{self.errors_tail}\n"
            f"--- screen ---\n{self.screen_tail}"
        )


def scenario_path(scenario: str | Path) -> Path:
    """A shipped scenario by name (``"caller_waits_bye"``) or any XML file path."""
    if isinstance(scenario, str) and scenario in SCENARIOS:
        return SCENARIOS_DIR / f"{scenario}.xml"
    path = Path(scenario)
    if not path.is_file():
        known = ", ".join(sorted(SCENARIOS))
        raise SippError(f"SIPp scenario not found: {scenario} (shipped: {known})")
    return path


def quote_display(name: str) -> str:
    """Escape a display name for the scenarios' ``"[display]"`` (RFC 3261 quoted-pair).

    Pass the raw value as ``keys["display"]`` to send a malformed header on purpose.
    """
    return name.replace("\\", "\\\\").replace('"', '\\"')


def free_udp_port(host: str = "127.0.0.1", *, span: int = 1) -> int:
    """A UDP port on ``host`` that is free now (with ``span`` > 1: port … port+span-1 free)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as first:
            first.bind((host, 0))
            port = int(first.getsockname()[1])
            if port + span > 65536:
                continue
            others: list[socket.socket] = []
            try:
                for offset in range(1, span):
                    extra = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    others.append(extra)
                    extra.bind((host, port + offset))
            except OSError:
                continue
            finally:
                for extra in others:
                    extra.close()
            return port
    raise SippError(f"no free UDP port range of {span} on {host}")


def default_keys(*, local_ip: str, local_port: int) -> dict[str, str]:
    """Values for every keyword the shipped scenarios use (SIPp rejects an unset keyword)."""
    return {
        "caller": "0312345678",
        "display": "SIPp Caller",
        "hangup_ms": "5000",
        "answer_ms": "1000",
        "talk_ms": "3000",
        "contact_host": local_ip,
        "contact_port": str(local_port),
        "expires": "3600",
    }


def _tail(path: Path, chars: int = _TAIL_CHARS) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-chars:].decode(errors="replace")


def _last_stats_row(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return {}
    rows = [row for row in csv.reader(text.splitlines(), delimiter=";") if row]
    if len(rows) < 2:
        return {}
    header, last = rows[0], rows[-1]
    return {name: value for name, value in zip(header, last, strict=False) if name}


_SCREEN_COUNT = re.compile(r"^\s*(Successful|Failed) call\s*\|\s*\d+\s*\|\s*(\d+)", re.MULTILINE)


def _counts(stats: Mapping[str, str], screen: str) -> tuple[int, int]:
    try:
        return int(stats["SuccessfulCall(C)"]), int(stats["FailedCall(C)"])
    except (KeyError, ValueError):
        pass
    found: dict[str, int] = {}
    for kind, value in _SCREEN_COUNT.findall(screen):
        found[kind] = int(value)  # the last screen wins
    return found.get("Successful", 0), found.get("Failed", 0)


class SippProcess:
    """One running SIPp; create with :func:`start_sipp`."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        command: tuple[str, ...],
        workdir: Path,
        *,
        keep_dir: bool,
        local_port: int,
        timeout_s: float,
    ) -> None:
        self._process = process
        self.command = command
        self.workdir = workdir
        self._keep_dir = keep_dir
        self.local_port = local_port
        self._timeout_s = timeout_s
        self._started = time.monotonic()
        self._result: SippResult | None = None

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process.returncode is None

    async def wait(self) -> SippResult:
        """Wait for SIPp to exit (killing it after ``timeout_s`` + grace) and read the results."""
        if self._result is not None:
            return self._result
        timed_out = False
        try:
            # SIPp's own -timeout should end it first; this is the hard stop.
            remaining = self._timeout_s + _STOP_GRACE_S - (time.monotonic() - self._started)
            await asyncio.wait_for(self._process.wait(), timeout=max(0.1, remaining))
        except TimeoutError:
            timed_out = True
            log.warning("sipp pid %d outlived its timeout; stopping it", self.pid)
            await self._terminate()
        except asyncio.CancelledError:
            await asyncio.shield(self._terminate())
            self._cleanup()
            raise
        self._result = self._collect(timed_out=timed_out)
        self._cleanup()
        return self._result

    async def stop(self) -> SippResult:
        """Ask SIPp to quit (SIGUSR1, then SIGKILL by pid) and read the results."""
        await self._terminate()
        return await self.wait()

    async def _terminate(self) -> None:
        if self._process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGUSR1)
        try:
            await asyncio.wait_for(self._process.wait(), timeout=_STOP_GRACE_S)
            return
        except TimeoutError:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        await self._process.wait()

    def _collect(self, *, timed_out: bool) -> SippResult:
        stats = _last_stats_row(self.workdir / "stats.csv")
        screen = _tail(self.workdir / "screen.log")
        if not screen.strip():
            screen = _tail(self.workdir / "stdout.log")
        successful, failed = _counts(stats, screen)
        returncode = self._process.returncode
        stderr = _tail(self.workdir / "stderr.log")
        try:
            open_calls = int(stats.get("CurrentCall", "0"))
        except ValueError:
            open_calls = 0
        return SippResult(
            returncode=-1 if returncode is None else returncode,
            successful=successful,
            failed=failed,
            elapsed_s=time.monotonic() - self._started,
            stats=stats,
            stderr_tail=stderr,
            screen_tail=screen,
            errors_tail=_tail(self.workdir / "errors.log"),
            timed_out=timed_out or " timed out after " in stderr,
            open_calls=open_calls,
            command=self.command,
        )

    def _cleanup(self) -> None:
        if not self._keep_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def find_sipp(sipp_binary: str = SIPP_BINARY) -> str:
    """The full path of the SIPp program (a name is looked up on the PATH); SippError when missing."""
    found = shutil.which(sipp_binary)
    if found is None:
        where = "at" if os.sep in sipp_binary else "on the PATH as"
        raise SippError(f"SIPp not found {where} {sipp_binary}: install the Debian package sip-tester")
    return found


def _workdir(log_dir: Path | None) -> Path:
    if log_dir is None:
        return Path(tempfile.mkdtemp(prefix="ivr-sipp-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir


def _absolute(path: Path) -> str:
    return str(Path(path).resolve())


def _check_key(name: str, value: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise SippError(f"SIPp keyword name must be an identifier: {name!r}")
    if "\r" in value or "\n" in value or "\0" in value:
        raise SippError(f"SIPp keyword {name!r} must not contain CR, LF or NUL")


async def start_sipp(
    scenario: str | Path,
    target: str | None = None,
    *,
    service: str = "s",
    keys: Mapping[str, str] | None = None,
    pcap: Path | None = None,
    calls: int = 1,
    rate: float = 1.0,
    limit: int | None = None,
    timeout_s: float = 60.0,
    local_port: int | None = None,
    local_ip: str = "127.0.0.1",
    media_port: int | None = None,
    recv_timeout_s: float | None = None,
    auth: tuple[str, str] | None = None,
    extra_args: Sequence[str] = (),
    cwd: Path | None = None,
    log_dir: Path | None = None,
    sipp_binary: str = SIPP_BINARY,
) -> SippProcess:
    """Start SIPp: a client towards ``target`` ("host:port"), or a server when ``target`` is None.

    ``calls`` (-m) calls are placed/answered, at ``rate`` calls per second (-r) and at most
    ``limit`` at once (-l). SIPp quits after ``timeout_s`` (-timeout, a failure exit).
    ``recv_timeout_s`` (-recv_timeout) fails a call that waits longer for any expected message —
    e.g. the IVR's BYE in ``caller_waits_bye``. ``pcap`` is the stream the scenario plays (a
    second of silence when None). With ``log_dir`` the traces (and ``-trace_msg``) are kept there.
    """
    program = find_sipp(sipp_binary)
    xml = scenario_path(scenario)
    if calls < 1 or rate <= 0 or timeout_s <= 0:
        raise SippError("calls must be >= 1, rate > 0 and timeout_s > 0")
    port = local_port if local_port is not None else free_udp_port(local_ip)
    rtp_port = media_port if media_port is not None else free_udp_port(local_ip, span=4)
    workdir = _workdir(log_dir)
    merged = default_keys(local_ip=local_ip, local_port=port)
    merged.update(keys or {})
    if pcap is not None:
        merged["pcap"] = _absolute(pcap)
    elif "pcap" not in merged:
        merged["pcap"] = str(write_pcap(workdir / "silence.pcap", [Silence(1.0)]))
    for name, value in merged.items():
        _check_key(name, value)

    command: list[str] = [program, "-sf", str(xml)]
    if target is not None:
        command.append(target)
    command += [
        "-s", service,
        "-i", local_ip,
        "-p", str(port),
        "-mp", str(rtp_port),
        "-m", str(calls),
        "-r", f"{rate:g}",
        "-timeout", f"{max(1, math.ceil(timeout_s))}s",
        "-timeout_error",
        "-aa",
        "-nostdin",
        "-trace_stat", "-stf", str(workdir / "stats.csv"), "-fd", "1",
        "-trace_screen", "-screen_file", str(workdir / "screen.log"),
        "-trace_err", "-error_file", str(workdir / "errors.log"),
    ]  # fmt: skip
    if limit is not None:
        command += ["-l", str(limit)]
    if recv_timeout_s is not None:
        command += ["-recv_timeout", str(max(1, round(recv_timeout_s * 1000)))]
    if auth is not None:
        command += ["-au", auth[0], "-ap", auth[1]]
    if log_dir is not None:
        command += ["-trace_msg", "-message_file", str(workdir / "messages.log")]
    for name, value in merged.items():
        command += ["-key", name, value]
    command += list(extra_args)

    log.debug("starting %s", " ".join(command))
    with (
        (workdir / "stdout.log").open("wb") as stdout,
        (workdir / "stderr.log").open("wb") as stderr,
    ):
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=str(cwd) if cwd is not None else str(workdir),
        )
    return SippProcess(
        process,
        tuple(command),
        workdir,
        keep_dir=log_dir is not None,
        local_port=port,
        timeout_s=timeout_s,
    )


async def run_sipp(
    scenario: str | Path,
    target: str | None = None,
    *,
    service: str = "s",
    keys: Mapping[str, str] | None = None,
    pcap: Path | None = None,
    calls: int = 1,
    rate: float = 1.0,
    limit: int | None = None,
    timeout_s: float = 60.0,
    local_port: int | None = None,
    local_ip: str = "127.0.0.1",
    media_port: int | None = None,
    recv_timeout_s: float | None = None,
    auth: tuple[str, str] | None = None,
    extra_args: Sequence[str] = (),
    cwd: Path | None = None,
    log_dir: Path | None = None,
    sipp_binary: str = SIPP_BINARY,
) -> SippResult:
    """Run SIPp to completion (see :func:`start_sipp` for the parameters)."""
    process = await start_sipp(
        scenario,
        target,
        service=service,
        keys=keys,
        pcap=pcap,
        calls=calls,
        rate=rate,
        limit=limit,
        timeout_s=timeout_s,
        local_port=local_port,
        local_ip=local_ip,
        media_port=media_port,
        recv_timeout_s=recv_timeout_s,
        auth=auth,
        extra_args=extra_args,
        cwd=cwd,
        log_dir=log_dir,
        sipp_binary=sipp_binary,
    )
    return await process.wait()


def run_sipp_sync(scenario: str | Path, target: str | None = None, **options: object) -> SippResult:
    """:func:`run_sipp` for synchronous scripts (runs its own event loop)."""
    return asyncio.run(run_sipp(scenario, target, **options))  # type: ignore[arg-type]
