"""Orders placed through the demo order service (``POST /demo/orders``): checked, numbered, kept in memory.

A card payment carries the card's last four digits and its expiry only: a body with a longer run of
digits anywhere (a full card number) is refused without repeating it, and nothing of it is kept.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ivr.demo.customers import CUSTOMERS
from ivr.demo.items import ITEMS

PAYMENTS = ("cash_on_delivery", "bank_transfer", "card")
FIELDS = ("customer", "item", "quantity", "size", "colour", "payment", "card_last4", "card_expiry", "lang")
FIRST_NUMBER = 8001
MAX_QUANTITY = 99
MAX_KEPT = 1000
"""Orders the demo keeps (the oldest placed by phone go first): anyone may POST, memory stays bounded."""
_LONG_DIGITS = re.compile(r"\d{7,}")
"""A run of digits longer than any field takes: a card number (or part of one) sent by mistake."""


class OrderRejected(ValueError):
    """The body is not an order the shop can take; ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class OrderRequest:
    customer: str
    item: str
    quantity: int
    size: str | None
    colour: str | None
    payment: str
    card_last4: str | None
    card_expiry: str | None


def _text(body: Mapping[str, Any], key: str) -> str | None:
    """A field as text; absent, null and "" are all None (a flow sends "" for what the item lacks)."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise OrderRejected(key, f"{key} must be text")
    return str(value).strip() or None


def _choice(body: Mapping[str, Any], key: str, offered: Iterable[str] | None) -> str | None:
    value = _text(body, key)
    if offered is None:
        if value is not None:
            raise OrderRejected(key, f"this item has no {key}")
        return None
    choices = list(offered)
    if value is None or value not in choices:
        raise OrderRejected(key, f"{key} must be one of {', '.join(choices)}")
    return value


def _expiry(value: str | None, today: date) -> str:
    if value is None or not re.fullmatch(r"(0[1-9]|1[0-2])[0-9]{2}", value):
        raise OrderRejected("card_expiry", "card_expiry must be MMYY with a month from 01 to 12")
    month, year = int(value[:2]), 2000 + int(value[2:])
    if (year, month) < (today.year, today.month):
        raise OrderRejected("card_expiry", "the card has expired")
    return value


def parse_order(body: Mapping[str, Any], today: date) -> OrderRequest:
    """The order in ``body``, or ``OrderRejected`` naming the first field to fix."""
    for key, value in body.items():
        if key not in FIELDS:
            raise OrderRejected(key, f"unknown field {key!r}; send the card's last four digits only")
        if isinstance(value, str | int) and _LONG_DIGITS.search(str(value)):
            raise OrderRejected(key, "full card numbers are not accepted; send the last four digits only")
    customer = _text(body, "customer")
    if customer is None or customer not in {c["id"] for c in CUSTOMERS.values()}:
        raise OrderRejected("customer", "unknown customer")
    number = _text(body, "item")
    if number is None or number not in ITEMS:
        raise OrderRejected("item", "unknown item")
    item = ITEMS[number]
    quantity = _text(body, "quantity")
    if (
        quantity is None
        or not re.fullmatch(r"[0-9]{1,2}", quantity)
        or not 1 <= int(quantity) <= MAX_QUANTITY
    ):
        raise OrderRejected("quantity", f"quantity must be a whole number from 1 to {MAX_QUANTITY}")
    payment = _text(body, "payment")
    if payment not in PAYMENTS:
        raise OrderRejected("payment", f"payment must be one of {', '.join(PAYMENTS)}")
    last4 = _text(body, "card_last4")
    expiry = _text(body, "card_expiry")
    if payment == "card":
        if last4 is None or not re.fullmatch(r"[0-9]{4}", last4):
            raise OrderRejected("card_last4", "card_last4 must be the card's last four digits")
        expiry = _expiry(expiry, today)
    elif last4 is not None or expiry is not None:
        raise OrderRejected("payment", "card details are only for card payments")
    return OrderRequest(
        customer=customer,
        item=number,
        quantity=int(quantity),
        size=_choice(body, "size", item.get("sizes")),
        colour=_choice(body, "colour", item.get("colours")),
        payment=str(payment),
        card_last4=last4,
        card_expiry=expiry,
    )


class OrderBook:
    """Placed orders by number, the newest ``MAX_KEPT``. A lock keeps numbering and the table consistent if
    threads share it."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._orders: dict[str, dict[str, Any]] = {}
        self._taken = set(taken)
        self._next = FIRST_NUMBER

    def place(self, order: OrderRequest, at: datetime) -> dict[str, Any]:
        """Number and keep ``order``; the stored order as the status lookup shows it."""
        with self._lock:
            while str(self._next) in self._taken or str(self._next) in self._orders:
                self._next += 1
            number = str(self._next)
            self._next += 1
            stored = {
                "number": number,
                "status": "received",
                "status_text": {"ja": "受付済みです", "en": "received"},
                "eta": None,
                "items": order.quantity,
                "customer": order.customer,
                "item": order.item,
                "quantity": order.quantity,
                "size": order.size,
                "colour": order.colour,
                "payment": order.payment,
                "card_last4": order.card_last4,
                "card_expiry": order.card_expiry,
                "placed_at": at.isoformat(),
            }
            self._orders[number] = stored
            while len(self._orders) > MAX_KEPT:
                del self._orders[next(iter(self._orders))]
            return dict(stored)

    def get(self, number: str) -> dict[str, Any] | None:
        with self._lock:
            order = self._orders.get(number)
            return None if order is None else dict(order)

    def numbers(self) -> list[str]:
        with self._lock:
            return list(self._orders)
