"""The demo shop's customers (made-up data), found by the number they call from."""

from __future__ import annotations

import re
from typing import Any

CUSTOMERS: dict[str, dict[str, Any]] = {
    "0312345678": {
        "id": "C1001",
        "name": {"ja": "山田 花子", "en": "Hanako Yamada"},
        "address": {
            "ja": "東京都 千代田区 丸の内 1丁目 2番 3号",
            "en": "1-2-3 Marunouchi, Chiyoda-ku, Tokyo",
        },
    },
    "0665550123": {
        "id": "C1002",
        "name": {"ja": "佐藤 健", "en": "Ken Sato"},
        "address": {"ja": "大阪府 大阪市 北区 梅田 2丁目 4番 9号", "en": "2-4-9 Umeda, Kita-ku, Osaka"},
    },
    "09012345678": {
        "id": "C1003",
        "name": {"ja": "鈴木 一郎", "en": "Ichiro Suzuki"},
        "address": {"ja": "福岡県 福岡市 中央区 天神 3丁目 1番 5号", "en": "3-1-5 Tenjin, Chuo-ku, Fukuoka"},
    },
}
"""Keyed by the national number (``0`` + area code + number, digits only)."""


def national_number(raw: str) -> str:
    """``+81 3-1234-5678`` (or ``81312345678``, the ``+`` lost in a query string) → ``0312345678``."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("81") and not raw.strip().startswith("0"):
        return "0" + digits[2:]
    return digits


def customer_by_phone(raw: str) -> dict[str, Any] | None:
    """The customer calling from ``raw`` with their number as stored, or None for a new caller."""
    phone = national_number(raw)
    customer = CUSTOMERS.get(phone)
    return None if customer is None else {**customer, "phone": phone}
