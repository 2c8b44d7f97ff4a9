"""The demo order service the shipped flows call over HTTP (made-up data, in memory).

GET  /demo/orders/{number}        an order's status (``shop``), demo or placed by phone
GET  /demo/orders                 the order numbers (a JSON list: flows must not look this up)
GET  /demo/customers?phone=…      the customer calling from that number (``order_line``), else 404
GET  /demo/items/{item}           a catalogue item: name, price, sizes and colours where it has them
POST /demo/orders                 place an order (card: last four digits and expiry only) → 201 number
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ivr.demo.customers import customer_by_phone
from ivr.demo.items import item_json
from ivr.demo.order_book import OrderBook, OrderRejected, parse_order

DEMO_ORDERS: dict[str, dict[str, Any]] = {
    "4271": {
        "status": "shipped",
        "status_text": {"ja": "発送済みです", "en": "shipped"},
        "eta": "2025-06-03",
        "items": 2,
    },
    "1234": {
        "status": "processing",
        "status_text": {"ja": "準備中です", "en": "being prepared"},
        "eta": "2025-06-06",
        "items": 1,
    },
    "5555": {
        "status": "delivered",
        "status_text": {"ja": "お届け済みです", "en": "delivered"},
        "eta": None,
        "items": 3,
    },
}

ORDER_BOOK = web.AppKey("demo_order_book", OrderBook)


def order_json(number: str) -> dict[str, Any] | None:
    order = DEMO_ORDERS.get(number)
    return None if order is None else {"number": number, **order}


def _not_found(what: str, **ids: str) -> web.Response:
    return web.json_response({"error": f"{what} not found", **ids}, status=404)


async def _get_order(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    body = order_json(number) or request.app[ORDER_BOOK].get(number)
    return _not_found("order", number=number) if body is None else web.json_response(body)


async def _list_orders(request: web.Request) -> web.Response:
    """The demo's order numbers, as a JSON list (a lookup needs an object: flows must not use this)."""
    return web.json_response(sorted(DEMO_ORDERS) + request.app[ORDER_BOOK].numbers())


async def _get_customer(request: web.Request) -> web.Response:
    phone = request.query.get("phone", "").strip()
    if not phone:
        return web.json_response({"error": "phone is required", "parameter": "phone"}, status=400)
    customer = customer_by_phone(phone)
    return _not_found("customer", phone=phone) if customer is None else web.json_response(customer)


async def _get_item(request: web.Request) -> web.Response:
    number = request.match_info["item"]
    item = item_json(number)
    return _not_found("item", id=number) if item is None else web.json_response(item)


async def _place_order(request: web.Request) -> web.Response:
    try:
        body = json.loads(await request.read())
    except ValueError:
        return web.json_response({"error": "the body must be a JSON object"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "the body must be a JSON object"}, status=400)
    now = datetime.now(UTC)
    try:
        order = parse_order(body, now.date())
    except OrderRejected as exc:
        return web.json_response({"error": str(exc), "field": exc.field}, status=422)
    placed = request.app[ORDER_BOOK].place(order, now)
    return web.json_response({"number": placed["number"], "status": placed["status"]}, status=201)


def add_demo_routes(app: web.Application) -> None:
    """Mount the demo order service (see the module's docstring) on ``app``, with its own order book."""
    app[ORDER_BOOK] = OrderBook(taken=DEMO_ORDERS)
    app.router.add_get("/demo/orders", _list_orders)
    app.router.add_post("/demo/orders", _place_order)
    app.router.add_get("/demo/orders/{number}", _get_order)
    app.router.add_get("/demo/customers", _get_customer)
    app.router.add_get("/demo/items/{item}", _get_item)
