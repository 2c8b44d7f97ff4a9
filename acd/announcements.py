"""Position and expected-wait announcements for calls in line (``QueueStatus``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from acd.events import AcdCommand, QueueStatus
from acd.model import QueueConfig
from acd.queued_calls import IN_LINE, WAITING, QueuedCall
from acd.router import WaitingCall


def expected_wait_s(position: int, aht_s: float, staffed: int) -> int:
    """EWT = ceil(position x AHT / max(1, staffed)).

    ``staffed`` = agents with the queue's skill that are logged in and not paused."""
    return math.ceil(position * aht_s / max(1, staffed))


def announce_due(
    calls: Iterable[QueuedCall],
    queues: Mapping[str, QueueConfig],
    in_line: Callable[[str], list[WaitingCall]],
    measured_aht: Mapping[str, float],
    staffed: Callable[[QueueConfig], int],
    now: datetime,
    out: list[AcdCommand],
) -> None:
    """Announce to each call whose announcement is due (not while it is being offered) and move its
    timer on. ``in_line(queue)`` = that queue's calls in routing order; ``measured_aht`` overrides a
    queue's ``aht_estimate``."""
    due = [c for c in calls if c.next_announce is not None and c.next_announce <= now and c.phase in IN_LINE]
    positions: dict[str, dict[str, int]] = {}
    for call in sorted(due, key=lambda c: c.call_id):
        q = queues[call.queue]
        assert call.next_announce is not None
        if q.announce_every_s <= 0:  # turned off by a reload
            call.next_announce = None
            continue
        while call.next_announce <= now:
            call.next_announce += timedelta(seconds=q.announce_every_s)
        if call.phase != WAITING:
            continue
        if call.queue not in positions:
            ordered = in_line(call.queue)
            positions[call.queue] = {w.call_id: i for i, w in enumerate(ordered, start=1)}
        position = positions[call.queue][call.call_id]
        aht = measured_aht.get(call.queue, q.aht_estimate_s)
        out.append(QueueStatus(call.call_id, position, expected_wait_s(position, aht, staffed(q))))
