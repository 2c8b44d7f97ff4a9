"""Which asyncio event loop ``ivr serve`` and ``ivr up`` run on: ``IVR_EVENT_LOOP=asyncio|uvloop``.

The standard loop is the default. ``uvloop`` (libuv; ``pip install uvloop``) is an option: in the
capacity bench the controller's CPU goes mostly to the store and to scheduling, and no run has yet shown
uvloop winning on this workload, so it is not the default until one does (docs/benchmarks.md). Chosen
before the loop starts, so it cannot be a ``Settings`` field (those are read inside the running controller).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Callable

from ivr.settings import SettingsError

CHOICES = ("uvloop", "asyncio")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_name(value: str | None, *, uvloop_installed: bool) -> str:
    """The loop to use for an ``IVR_EVENT_LOOP`` value (None or empty: the default)."""
    choice = (value or "").strip().lower()
    if not choice:
        return "asyncio"
    if choice not in CHOICES:
        raise SettingsError(f"IVR_EVENT_LOOP={value!r}: use uvloop or asyncio")
    if choice == "uvloop" and not uvloop_installed:
        raise SettingsError("IVR_EVENT_LOOP=uvloop, but uvloop is not installed (pip install uvloop)")
    return choice


def loop_factory(value: str | None = None) -> LoopFactory | None:
    """The ``asyncio.Runner(loop_factory=…)`` for ``value`` (default: ``$IVR_EVENT_LOOP``); None is the
    standard loop."""
    raw = os.environ.get("IVR_EVENT_LOOP") if value is None else value
    installed = importlib.util.find_spec("uvloop") is not None
    if loop_name(raw, uvloop_installed=installed) == "asyncio":
        return None
    import uvloop  # optional: imported only when chosen

    return uvloop.new_event_loop
