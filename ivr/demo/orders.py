"""A demo order service the shipped ``shop`` flow looks orders up in (``GET /demo/orders/{number}``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

DEMO_ORDERS: dict[str, dict[str, Any]] = {
    "4271": {
        "status": "shipped",
        "status_text": {"ja": "はっそう ずみです", "en": "shipped"},
        "eta": "2025-06-03",
        "items": 2,
    },
    "1234": {
        "status": "processing",
        "status_text": {"ja": "じゅんびちゅうです", "en": "being prepared"},
        "eta": "2025-06-06",
        "items": 1,
    },
    "5555": {
        "status": "delivered",
        "status_text": {"ja": "おとどけ ずみです", "en": "delivered"},
        "eta": None,
        "items": 3,
    },
}


def order_json(number: str) -> dict[str, Any] | None:
    order = DEMO_ORDERS.get(number)
    return None if order is None else {"number": number, **order}


async def _get_order(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    body = order_json(number)
    if body is None:
        return web.json_response({"error": "not_found", "number": number}, status=404)
    return web.json_response(body)


async def _list_orders(request: web.Request) -> web.Response:
    """The demo's order numbers, as a JSON list (a lookup needs an object: flows must not use this)."""
    return web.json_response(sorted(DEMO_ORDERS))


def add_demo_routes(app: web.Application) -> None:
    """Mount ``GET /demo/orders/{number}`` and ``GET /demo/orders`` on ``app``."""
    app.router.add_get("/demo/orders", _list_orders)
    app.router.add_get("/demo/orders/{number}", _get_order)
