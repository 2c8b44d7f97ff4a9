from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ivr.ari.client import AriClient
from tests.ari.fake_ari import FakeAri


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(fake: FakeAri) -> AsyncIterator[AriClient]:
    ari = AriClient(fake.base_url, fake.user, fake.password, "ivr")
    yield ari
    await ari.close()
