from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator

import pytest

from ivr.pbx import Pbx, PbxError, scratch_pbx
from ivr.settings import Settings


def asterisk_available() -> str | None:
    """Why the real-Asterisk tests cannot run here, or None when they can."""
    if shutil.which("asterisk") is None and os.geteuid() != 0:
        return "needs root (for the Debian sid root) or asterisk on PATH"
    return None


@pytest.fixture(scope="module")
def pbx() -> Iterator[Pbx]:
    """One throw-away Asterisk on free ports for this test module; stopped and removed after."""
    reason = asterisk_available()
    if reason:
        pytest.skip(reason)
    instance = scratch_pbx(Settings.from_env(), prefix="pbxtest")
    try:
        asyncio.run(instance.start())
    except PbxError as exc:
        pytest.fail(f"Asterisk did not start: {exc}")
    yield instance
    asyncio.run(instance.stop())
    instance.remove_files()
