"""Start a fresh Asterisk, or adopt the one a killed ``ivr up`` left running? Pure: facts in, decision out.

An instance is ours to adopt when its pid file names a live process started with this instance's
``asterisk.conf`` and ARI answers our credentials: its calls are still up and the new controller
takes them over. A pid file whose process is gone (or is something else now) is stale: start afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class PbxAction(Enum):
    START = "start"
    ADOPT = "adopt"
    REFUSE = "refuse"


@dataclass(frozen=True)
class LeftRunning:
    """What is found of an earlier run of the instance."""

    pid_in_file: int | None
    process_is_ours: bool  # alive, and its command line names this instance's asterisk.conf
    ari_status: int | None  # GET /asterisk/info with our credentials; None: nothing answered


@dataclass(frozen=True)
class PbxDecision:
    action: PbxAction
    stale_pidfile: bool = False
    message: str = ""


def adopt_or_start(name: str, found: LeftRunning, ari_url: str) -> PbxDecision:
    if found.pid_in_file is None:
        return PbxDecision(PbxAction.START)
    if not found.process_is_ours:
        return PbxDecision(PbxAction.START, stale_pidfile=True)
    if found.ari_status == 200:
        return PbxDecision(
            PbxAction.ADOPT,
            message=f"Asterisk {name!r} still runs (pid {found.pid_in_file}): adopting it and its calls",
        )
    answer = (
        "does not answer" if found.ari_status is None else f"refuses our credentials ({found.ari_status})"
    )
    stop = "ivr pbx stop" + ("" if name == "main" else f" --name {name}")
    return PbxDecision(
        PbxAction.REFUSE,
        message=(
            f"Asterisk {name!r} is already running (pid {found.pid_in_file}) but ARI at {ari_url} {answer}; "
            f"stop it first: {stop}"
        ),
    )
