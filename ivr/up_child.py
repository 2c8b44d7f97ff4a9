"""``ivr up``'s controller: ``ivr serve`` as a child process, restarted whenever it dies.

The child dies with ``ivr up`` (``PR_SET_PDEATHSIG``: even when ``ivr up`` is SIGKILLed), so a second
``ivr up`` finds no controller left over and adopts Asterisk and its calls. The child has a process
group of its own: a terminal's Ctrl-C reaches only ``ivr up``, which then drains the child (SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ivr.supervisor import AfterExit, RestartPolicy, after_exit, describe_status, restart_delay

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
STOP_MARGIN_S = 15.0
"""How long past the drain limit a stopping controller may take before it is killed."""
LOCK_FILE = "up.lock"
DEFAULT_POLICY = RestartPolicy()


class AlreadyUp(RuntimeError):
    """Another ``ivr up`` runs on this data directory."""


def hold_up_lock(data_dir: Path) -> IO[str]:
    """Lock ``data_dir/up.lock`` for this process's life (released by the kernel when it dies, however
    it dies). Raises AlreadyUp when another live ``ivr up`` holds it."""
    path = data_dir / LOCK_FILE
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise AlreadyUp(
            f"ivr up already runs for {data_dir} (pid {holder}); stop it first (Ctrl-C)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _die_with(parent_pid: int) -> Callable[[], None]:
    """A ``preexec_fn``: the child gets SIGKILL when its parent dies (checked once more after the call,
    in case the parent died before it)."""
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


class ControllerChild:
    """One run of the controller process."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv = argv
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int:
        return self._proc.pid if self._proc is not None else 0

    def start(self) -> None:
        self.started_at = time.monotonic()
        self._proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with(os.getpid()),  # prctl must run in the child
            process_group=0,
        )

    def send(self, sig: signal.Signals) -> None:
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(sig)

    async def wait(self) -> int:
        """Its exit status, as soon as it exits (a pidfd: no polling)."""
        proc = self._proc
        assert proc is not None
        if proc.poll() is not None:
            return proc.returncode
        loop = asyncio.get_running_loop()
        exited = asyncio.Event()
        fd = os.pidfd_open(proc.pid)  # the child is ours and not reaped: its pid is not reused
        loop.add_reader(fd, exited.set)
        try:
            await exited.wait()
        finally:
            loop.remove_reader(fd)
            os.close(fd)
        return proc.wait()


async def supervise(
    argv: Callable[[bool], list[str]],
    env: dict[str, str],
    *,
    stop: asyncio.Event,
    hurry: asyncio.Event,
    drain_s: float,
    policy: RestartPolicy = DEFAULT_POLICY,
) -> int:
    """Run ``argv(first)`` and restart it whenever it exits, until ``stop`` is set; then SIGTERM it
    (drain), or SIGINT it once ``hurry`` is set (stop now). The exit status of ``ivr up``: 0 when it
    stopped as asked, else the child's status (its first start failed on a startup error)."""
    runs: list[float] = []
    first = True
    while not stop.is_set():
        child = ControllerChild(argv(first), env)
        child.start()
        exited = asyncio.ensure_future(child.wait())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not exited.done():
            exited.cancel()
            return await _stop(child, hurry, drain_s)
        status = exited.result()
        verdict = after_exit(status, stopping=stop.is_set(), first_run=first)
        if verdict is AfterExit.STOPPED:
            return 0
        if verdict is AfterExit.GIVE_UP:
            return status
        runs.append(time.monotonic() - child.started_at)
        delay = restart_delay(runs, policy)
        log.warning(
            "controller (pid %d) %s after %.1f s; restarting it%s",
            child.pid,
            describe_status(status),
            runs[-1],
            f" in {delay:.0f} s (it keeps dying)" if delay else "",
        )
        first = False
        if delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    return 0


async def _stop(child: ControllerChild, hurry: asyncio.Event, drain_s: float) -> int:
    """SIGTERM (drain), SIGINT when hurried (stop now), SIGKILL when it takes too long."""
    child.send(signal.SIGTERM)
    exited = asyncio.ensure_future(child.wait())
    hurried = asyncio.ensure_future(hurry.wait())
    try:
        done, _ = await asyncio.wait(
            {exited, hurried}, timeout=drain_s + STOP_MARGIN_S, return_when=asyncio.FIRST_COMPLETED
        )
        if exited not in done:
            if hurried in done:
                child.send(signal.SIGINT)
                done, _ = await asyncio.wait({exited}, timeout=STOP_MARGIN_S)
            if exited not in done:
                log.warning("controller (pid %d) did not stop; killing it", child.pid)
                child.send(signal.SIGKILL)
        status = await exited
    finally:
        hurried.cancel()
    return 0 if status == 0 else 1
