"""``GET /api/calls`` filters: the parser and the route over a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from ivr.store import CallStore
from ivr.web.call_query import CallQueryError, call_filters, parse_when
from tests.web.conftest import AUTH

Client = TestClient[web.Request, web.Application]
NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
T0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def test_when_forms() -> None:
    assert parse_when("today", NOW) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_when("2026-11-30", NOW) == datetime(2026, 11, 30, tzinfo=UTC)
    assert parse_when("2026-11-30T10:00:00Z", NOW) == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert parse_when("2026-11-30T19:00:00+09:00", NOW) == datetime(2026, 11, 30, 10, tzinfo=UTC)


def test_filters_given_are_kept_and_empty_ones_dropped() -> None:
    found = call_filters({"number": "0312", "queue": "orders", "agent": "", "flow": " shop "}, NOW)
    assert found == {"number": "0312", "queue": "orders", "flow": "shop"}
    assert call_filters({}, NOW) == {}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"number": "0312 OR 1=1"}, "number"),
        ({"number": "1" * 33}, "number"),
        ({"queue": "orders;drop"}, "queue"),
        ({"agent": "<script>"}, "agent"),
        ({"outcome": "-x"}, "outcome"),
        ({"since": "2026-12-01", "until": "2026-11-30"}, "until"),
    ],
)
def test_bad_values_name_their_parameter(query: dict[str, str], parameter: str) -> None:
    with pytest.raises(CallQueryError) as info:
        call_filters(query, NOW)
    assert info.value.parameter == parameter


async def _seed(store: CallStore) -> None:
    await store.call_started("old", "ch1", "0312345678", None, "0501", "shop", T0 - timedelta(hours=2))
    await store.call_started("new", "ch2", "09011112222", None, "0501", "shop", T0 + timedelta(seconds=5))
    await store.queue_entered("new", "orders", T0 + timedelta(seconds=9))
    await store.offer_started("new", "2101", T0 + timedelta(seconds=10))
    await store.offer_answered("new", "2101", T0 + timedelta(seconds=13))
    await store.call_ended("new", T0 + timedelta(seconds=90), "completed", 16)


async def _ids(client: Client, query: str) -> list[str]:
    resp = await client.get(f"/api/calls{query}", headers=AUTH)
    assert resp.status == 200, await resp.text()
    return [c["id"] for c in await resp.json()]


async def test_route_without_filters_keeps_its_contract(client: Client, store: CallStore) -> None:
    await _seed(store)
    assert await _ids(client, "") == ["new", "old"]
    assert await _ids(client, "?limit=1") == ["new"]


async def test_route_filters(client: Client, store: CallStore) -> None:
    await _seed(store)
    assert await _ids(client, "?since=today") == ["new"]
    assert await _ids(client, "?until=today") == ["old"]
    assert await _ids(client, "?number=0312") == ["old"]
    assert await _ids(client, "?queue=orders&agent=2101&outcome=completed&flow=shop") == ["new"]
    assert await _ids(client, "?agent=2102") == []


async def test_route_rejects_bad_values_with_422(client: Client, store: CallStore) -> None:
    resp = await client.get("/api/calls?since=soon", headers=AUTH)
    assert resp.status == 422
    body = await resp.json()
    assert body["parameter"] == "since" and "ISO 8601" in body["error"]
    resp = await client.get("/api/calls?limit=0&queue=orders", headers=AUTH)
    assert resp.status == 400  # limit keeps its own answer
