"""No speech leg, bridge or socket outlives its call: 50 listening calls on the real Asterisk.

Each call reaches the shop's language menu — a menu that listens, so the controller sets up a snoop
channel, an externalMedia channel and a mixing bridge for it (ivr/calls/speech.py) — and the caller hangs
up while the menu is speaking. Afterwards Asterisk (ARI) has none of those channels and bridges left, and
the controller process holds no more UDP sockets and (give or take a few) no more file descriptors than
before.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path
from typing import Any

from ivr.testing.sipp import run_sipp
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.recorded_line import ari_get

SHOP_NUMBER = "0120"  # the default flow (shop): greeting, then the language menu, which listens
CALLS = 50
AT_ONCE = 10
HANGUP_MS = 8000  # greeting ≈3 s, then the language menu: the caller hangs up in it
FD_SLACK = 4  # log rotation, a keep-alive HTTP connection, …


def _speech_legs(pbx: TestPbx) -> list[str]:
    channels: list[dict[str, Any]] = ari_get(pbx, "/channels")
    bridges: list[dict[str, Any]] = ari_get(pbx, "/bridges")
    legs = [c["name"] for c in channels if c["name"].startswith(("Snoop/", "UnicastRTP/"))]
    return legs + [f"bridge {b['id']}" for b in bridges if "-asr-" in b["id"]]


async def _until_no_legs(pbx: TestPbx, wait_s: float) -> list[str]:
    deadline = time.monotonic() + wait_s
    while True:
        legs = await asyncio.to_thread(_speech_legs, pbx)
        if not legs or time.monotonic() > deadline:
            return legs
        await asyncio.sleep(0.5)


def _udp_inodes() -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        inodes.update(line.split()[9] for line in lines if len(line.split()) > 9)
    return inodes


def _open_files(pid: int) -> tuple[int, int]:
    """(file descriptors, UDP sockets) of a process."""
    fd_dir = Path(f"/proc/{pid}/fd")
    targets = []
    for entry in fd_dir.iterdir():
        try:
            targets.append(os.readlink(entry))
        except OSError:
            continue  # closed meanwhile
    udp = _udp_inodes()
    sockets = [m.group(1) for t in targets if (m := re.fullmatch(r"socket:\[(\d+)\]", t))]
    return len(targets), sum(1 for inode in sockets if inode in udp)


async def _listening_calls(pbx: TestPbx, calls: int, caller: str) -> Any:
    return await run_sipp(
        "caller_hangs_up",
        pbx.sip_target,
        service=SHOP_NUMBER,
        calls=calls,
        rate=1.5,
        limit=AT_ONCE,
        keys={"hangup_ms": str(HANGUP_MS), "caller": caller, "display": "Leak Check"},
        timeout_s=30 + calls * 2,
    )


async def test_no_speech_leg_bridge_or_socket_is_left_after_50_listening_calls(
    pbx: TestPbx, controller: ControllerProcess
) -> None:
    assert controller.proc is not None
    pid = controller.proc.pid
    # One call first: the speech socket, the voices and the prompt cache exist from then on.
    warm = await _listening_calls(pbx, 2, "0355550000")
    assert warm.ok, warm.describe()
    assert await _until_no_legs(pbx, 15) == []
    fds_before, udp_before = _open_files(pid)

    run = asyncio.create_task(_listening_calls(pbx, CALLS, "0355550001"))
    peak = 0
    while not run.done():
        legs = await asyncio.to_thread(_speech_legs, pbx)
        peak = max(peak, sum(1 for leg in legs if leg.startswith("Snoop/")))
        await asyncio.sleep(0.5)
    result = await run
    assert result.ok and result.successful == CALLS, result.describe()
    # The calls did listen: several snoop legs at once while they ran.
    assert peak >= AT_ONCE // 2, f"at most {peak} snoop channels seen during {CALLS} listening calls"

    left = await _until_no_legs(pbx, 15)
    assert left == [], f"left in Asterisk after {CALLS} listening calls: {left}"
    fds_after, udp_after = _open_files(pid)
    assert udp_after <= udp_before, f"controller UDP sockets: {udp_before} before, {udp_after} after"
    assert fds_after <= fds_before + FD_SLACK, f"controller fds: {fds_before} before, {fds_after} after"
