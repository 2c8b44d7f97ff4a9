"""Which asyncio event loop ``ivr serve`` and ``ivr up`` run on: ``IVR_EVENT_LOOP=uvloop|asyncio``.

uvloop (libuv) is the default when it is installed: its sockets, timers and callbacks cost the
controller less CPU per ARI event than the standard loop's. ``asyncio`` picks the standard loop, and so
does the default when uvloop is not installed. Chosen before the loop starts, so it cannot be a
``Settings`` field (those are read inside the running controller).
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
        return "uvloop" if uvloop_installed else "asyncio"
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
