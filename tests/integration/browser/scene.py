"""What the browser tests do on the phone side: callers and operators (SIPp) and the API look-ups
that tie a live call to what a page shows."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

from ivr.testing.sipp import SippResult
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call

ORDERS_LINE = "7702"  # acd_lines: straight into t_orders (operator 3102)
ORDERS_QUEUE = "t_orders"
ORDERS_AGENT = "3102"
ORDERS_AGENT_NAME = "Orders Only"


def path_of(url: str) -> str:
    return urlparse(url).path


def place_call(
    pbx: TestPbx,
    tmp_path: Path,
    *,
    caller: str,
    display: str = "Browser Caller",
    service: str = ORDERS_LINE,
    wait_s: float = 40.0,
) -> asyncio.Task[SippResult]:
    """A caller who stays on the line (``wait_s`` of silence) until the IVR hangs up, as a task."""
    return asyncio.create_task(
        call(
            pbx,
            tmp_path,
            service=service,
            caller=caller,
            display=display,
            trailing_silence_s=wait_s,
            timeout_s=wait_s + 30,
        )
    )


def live_call(controller: ControllerProcess, caller: str) -> dict[str, Any] | None:
    """The call from ``caller`` that has not ended, if any."""
    for record in controller.calls(limit=30):
        if record["caller"]["number"] == caller and record["ended_at"] is None:
            return record
    return None


async def live_call_id(controller: ControllerProcess, caller: str, within_s: float = 20.0) -> str:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        record = live_call(controller, caller)
        if record is not None:
            return str(record["id"])
        await asyncio.sleep(0.2)
    raise AssertionError(f"no live call from {caller} within {within_s} s")


async def queued(controller: ControllerProcess, caller: str, within_s: float = 20.0) -> str:
    """The id of the live call from ``caller`` once it waits in a queue."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        record = live_call(controller, caller)
        if record is not None and record.get("queued_at"):
            return str(record["id"])
        await asyncio.sleep(0.2)
    raise AssertionError(f"the call from {caller} did not queue within {within_s} s")


SUPERVISOR_PHONE = Path(__file__).resolve().parent / "supervisor_phone.xml"


class RtpSink(asyncio.DatagramProtocol):
    """Counts the RTP packets (version 2) that arrive on a UDP port: what a phone would play."""

    def __init__(self) -> None:
        self.packets = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Python 3.11's selector datagram transport is not a DatagramTransport subclass: no isinstance
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if len(data) >= 12 and data[0] >> 6 == 2:
            self.packets += 1

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def rtp_sink(port: int) -> RtpSink:
    loop = asyncio.get_running_loop()
    _, sink = await loop.create_datagram_endpoint(RtpSink, local_addr=("127.0.0.1", port))
    return sink
