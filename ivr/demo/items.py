"""The demo shop's catalogue (made-up data). Sized items come in S, M and L; coloured ones in black, white
and navy (the shipped ``order_line`` flow offers exactly these); some items have neither."""

from __future__ import annotations

from typing import Any

SIZES = ("S", "M", "L")
COLOURS = ("black", "white", "navy")

ITEMS: dict[str, dict[str, Any]] = {
    "101": {
        "name": {"ja": "ポロシャツ", "en": "Polo shirt"},
        "price": 3980,
        "sizes": SIZES,
        "colours": COLOURS,
    },
    "205": {"name": {"ja": "トートバッグ", "en": "Tote bag"}, "price": 2500, "colours": COLOURS},
    "310": {"name": {"ja": "レインジャケット", "en": "Rain jacket"}, "price": 8900, "sizes": SIZES},
    "420": {"name": {"ja": "マグカップ", "en": "Coffee mug"}, "price": 1200},
}


def item_json(number: str) -> dict[str, Any] | None:
    """``{number, name: {ja, en}, price}`` plus ``sizes`` and ``colours`` (lists) where the item has them."""
    item = ITEMS.get(number)
    if item is None:
        return None
    body: dict[str, Any] = {"number": number, "name": dict(item["name"]), "price": item["price"]}
    for key in ("sizes", "colours"):
        if key in item:
            body[key] = list(item[key])
    return body
