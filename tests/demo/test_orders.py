from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ivr.demo.orders import add_demo_routes


async def test_known_and_unknown_orders() -> None:
    app = web.Application()
    add_demo_routes(app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        resp = await client.get("/demo/orders/4271")
        assert resp.status == 200
        body = await resp.json()
        assert body["number"] == "4271"
        assert body["status"] == "shipped"
        assert set(body["status_text"]) == {"ja", "en"}
        resp = await client.get("/demo/orders/9999")
        assert resp.status == 404
