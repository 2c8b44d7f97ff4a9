from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ivr.store import CallStore, default_db_url


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CallStore]:
    s = CallStore(default_db_url(tmp_path), busy_timeout_s=0.1)
    await s.open()
    try:
        yield s
    finally:
        await s.close()
