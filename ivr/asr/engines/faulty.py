"""A misbehaving recogniser for fault tests only (``IVR_ASR_TEST_FAULT`` with ``IVR_TESTING=1``).

Each recognition takes the next fault of its list, in turn: ``raise`` raises ``RuntimeError``; ``hang``
blocks its thread for good (it waits on an event nobody sets; the thread is a daemon, so the process
still exits). The pool must turn both into a keys-only fallback for that utterance and replace a hung
worker. Never selected outside tests (``ivr.asr.config`` refuses the variable without ``IVR_TESTING``).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ivr.asr.engines import Recognition


class FaultyEngine:
    kind = "faulty"

    def __init__(self, faults: Sequence[str]) -> None:
        if not faults:
            raise ValueError("FaultyEngine needs at least one fault")
        self.faults = tuple(faults)
        self._next = itertools.cycle(self.faults)
        self._lock = threading.Lock()
        self._never = threading.Event()

    def warm_up(self) -> None:
        pass

    def recognize(
        self, samples16k: npt.NDArray[np.int16], words: Sequence[str], lang: str
    ) -> Recognition | None:
        with self._lock:
            fault = next(self._next)
        if fault == "hang":
            self._never.wait()
            return None
        raise RuntimeError(f"test fault: the recogniser raised ({lang}, {len(samples16k)} samples)")
