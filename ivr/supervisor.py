"""What ``ivr up`` does when its controller process exits. Pure: facts in, decisions out.

``ivr up`` runs the controller (``ivr serve``) as a child and restarts it whenever it dies for any
reason other than our own stop, at once — unless it keeps dying quickly, then it waits longer each
time, so a controller that cannot start does not spin the machine.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

STARTUP_ERROR = 2
"""The exit status of ``ivr serve`` when it cannot start (bad settings, ARI refused, port in use)."""


class AfterExit(Enum):
    STOPPED = "stopped"  # we asked it to stop: ``ivr up`` ends
    GIVE_UP = "give up"  # the first start failed on a startup error: the user must fix something
    RESTART = "restart"


@dataclass(frozen=True)
class RestartPolicy:
    quick_s: float = 10.0
    """A run shorter than this counts as a quick death."""
    burst: int = 5
    """Fewer quick deaths in a row than this are restarted at once; from this many on, the wait is
    ``backoff_s``, doubling with each further quick death up to ``max_delay_s``."""
    immediate_s: float = 0.0
    backoff_s: float = 2.0
    max_delay_s: float = 60.0


def after_exit(status: int, *, stopping: bool, first_run: bool) -> AfterExit:
    """What to do once the controller exited with ``status`` (negative: killed by that signal)."""
    if stopping:
        return AfterExit.STOPPED
    if first_run and status == STARTUP_ERROR:
        return AfterExit.GIVE_UP
    return AfterExit.RESTART


def restart_delay(run_times_s: Sequence[float], policy: RestartPolicy = RestartPolicy()) -> float:
    """Seconds to wait before the next start, given how long each run lasted (oldest first; the last
    is the run that just ended). A run that lasted ``quick_s`` or more resets the count."""
    quick = 0
    for ran_s in reversed(run_times_s):
        if ran_s >= policy.quick_s:
            break
        quick += 1
    if quick < policy.burst:
        return policy.immediate_s
    return float(min(policy.max_delay_s, policy.backoff_s * 2 ** (quick - policy.burst)))


def describe_status(status: int) -> str:
    """``-9`` → ``killed by SIGKILL``; ``1`` → ``exit status 1``."""
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"
