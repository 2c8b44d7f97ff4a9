from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ivr.demo.orders import add_demo_routes

ORDER: dict[str, Any] = {
    "customer": "C1001",
    "item": "101",
    "quantity": "2",
    "size": "L",
    "colour": "black",
    "payment": "card",
    "card_last4": "1111",
    "card_expiry": "1299",
}


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    add_demo_routes(app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        yield c


async def test_known_and_unknown_orders(client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.get("/demo/orders/4271")
    assert resp.status == 200
    body = await resp.json()
    assert body["number"] == "4271"
    assert body["status"] == "shipped"
    assert set(body["status_text"]) == {"ja", "en"}
    resp = await client.get("/demo/orders/9999")
    assert resp.status == 404
    assert "error" in await resp.json()


async def test_customer_by_caller_number(client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.get("/demo/customers", params={"phone": "+81312345678"})
    assert resp.status == 200
    body = await resp.json()
    assert body["id"] == "C1001" and body["name"]["en"] == "Hanako Yamada"
    assert set(body["address"]) == {"ja", "en"}
    assert (await client.get("/demo/customers", params={"phone": "0399999999"})).status == 404
    missing = await client.get("/demo/customers")
    assert missing.status == 400
    assert (await missing.json())["parameter"] == "phone"


async def test_items(client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.get("/demo/items/101")
    assert resp.status == 200
    body = await resp.json()
    assert body["sizes"] == ["S", "M", "L"] and "navy" in body["colours"]
    mug = await (await client.get("/demo/items/420")).json()
    assert "sizes" not in mug and "colours" not in mug
    assert (await client.get("/demo/items/999")).status == 404


async def test_placed_order_is_numbered_and_can_be_looked_up(
    client: TestClient[web.Request, web.Application],
) -> None:
    resp = await client.post("/demo/orders", json=ORDER)
    assert resp.status == 201
    number = (await resp.json())["number"]
    second = await (await client.post("/demo/orders", json=ORDER)).json()
    assert second["number"] != number
    stored = await (await client.get(f"/demo/orders/{number}")).json()
    assert stored["status"] == "received"
    assert (stored["item"], stored["quantity"], stored["size"], stored["colour"]) == ("101", 2, "L", "black")
    assert (stored["payment"], stored["card_last4"], stored["card_expiry"]) == ("card", "1111", "1299")
    assert number in await (await client.get("/demo/orders")).json()


async def test_a_full_card_number_is_refused_and_not_kept(
    client: TestClient[web.Request, web.Application],
) -> None:
    resp = await client.post("/demo/orders", json={**ORDER, "card_number": "4111111111111111"})
    assert resp.status == 422
    body = await resp.text()
    assert "4111111111111111" not in body
    assert (await client.get("/demo/orders")).status == 200
    assert await (await client.get("/demo/orders")).json() == ["1234", "4271", "5555"]


async def test_bad_bodies(client: TestClient[web.Request, web.Application]) -> None:
    assert (await client.post("/demo/orders", data=b"not json")).status == 400
    assert (await client.post("/demo/orders", json=[1, 2])).status == 400
    resp = await client.post("/demo/orders", json={**ORDER, "size": "XL"})
    assert resp.status == 422
    assert (await resp.json())["field"] == "size"
