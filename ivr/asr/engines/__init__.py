"""Speech recognition engines behind one small protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Recognition = tuple[str, float]  # (text, confidence 0..1)


class Recognizer(Protocol):
    """Recognise one utterance against a closed list of words.

    ``samples16k`` is 16 kHz mono int16. Returns ``(text, confidence)`` or ``None`` when nothing in
    ``words`` was said. Blocking and CPU-bound: callers run it in a worker thread. Implementations must
    be safe to call from several threads at once.
    """

    def recognize(
        self, samples16k: npt.NDArray[np.int16], words: Sequence[str], lang: str
    ) -> Recognition | None: ...

    def warm_up(self) -> None:
        """Prepare per-thread state (called once in every worker thread when the pool starts)."""
