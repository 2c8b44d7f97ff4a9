import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ivr.demo.order_book import FIRST_NUMBER, MAX_KEPT, OrderBook, OrderRejected, parse_order

TODAY = date(2026, 12, 1)
CARD_ORDER: dict[str, Any] = {
    "customer": "C1001",
    "item": "101",
    "quantity": "2",
    "size": "M",
    "colour": "navy",
    "payment": "card",
    "card_last4": "1111",
    "card_expiry": "1230",
}


def test_a_card_order_is_parsed() -> None:
    order = parse_order(CARD_ORDER, TODAY)
    assert (order.item, order.quantity, order.size, order.colour) == ("101", 2, "M", "navy")
    assert (order.card_last4, order.card_expiry) == ("1111", "1230")


def test_an_item_without_sizes_or_colours_takes_empty_ones() -> None:
    body = {
        "customer": "C1002",
        "item": "420",
        "quantity": 1,
        "size": "",
        "colour": "",
        "payment": "cash_on_delivery",
    }
    order = parse_order(body, TODAY)
    assert (order.size, order.colour, order.card_last4) == (None, None, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customer": "C9999"}, "customer"),
        ({"item": "999"}, "item"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "100"}, "quantity"),
        ({"quantity": "two"}, "quantity"),
        (
            {"quantity": "\u00b2"},
            "quantity",
        ),  # '²'.isdigit() is true, int('²') raises (found by schemathesis)
        ({"size": "XL"}, "size"),
        ({"size": ""}, "size"),
        ({"colour": "pink"}, "colour"),
        ({"payment": "cheque"}, "payment"),
        ({"card_last4": "111"}, "card_last4"),
        ({"card_expiry": "1330"}, "card_expiry"),
        ({"card_expiry": "0026"}, "card_expiry"),
        ({"card_expiry": "1126"}, "card_expiry"),  # November 2026: expired on 1 December 2026
        ({"payment": "bank_transfer"}, "payment"),  # card details with a non-card payment
        ({"note": "x"}, "note"),
    ],
)
def test_rejected_orders_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(OrderRejected) as caught:
        parse_order({**CARD_ORDER, **change}, TODAY)
    assert caught.value.field == field


def test_expiry_this_month_is_still_valid() -> None:
    assert parse_order({**CARD_ORDER, "card_expiry": "1226"}, TODAY).card_expiry == "1226"


def test_a_size_on_an_item_without_sizes_is_rejected() -> None:
    body = {**CARD_ORDER, "item": "205"}
    with pytest.raises(OrderRejected) as caught:
        parse_order(body, TODAY)
    assert caught.value.field == "size"


@pytest.mark.parametrize("key", ["card_last4", "card_number", "colour"])
def test_a_full_card_number_is_refused_without_repeating_it(key: str) -> None:
    with pytest.raises(OrderRejected) as caught:
        parse_order({**CARD_ORDER, key: "4111111111111111"}, TODAY)
    assert caught.value.field == key
    assert "4111" not in str(caught.value)


def test_order_numbers_are_sequential_and_skip_taken_ones() -> None:
    book = OrderBook(taken=[str(FIRST_NUMBER)])
    at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    first = book.place(parse_order(CARD_ORDER, TODAY), at)
    second = book.place(parse_order(CARD_ORDER, TODAY), at)
    assert first["number"] == str(FIRST_NUMBER + 1)
    assert second["number"] == str(FIRST_NUMBER + 2)
    stored = book.get(first["number"])
    assert stored is not None
    assert stored["card_last4"] == "1111" and stored["status"] == "received"
    assert book.get("1") is None
    assert book.numbers() == [first["number"], second["number"]]


def test_concurrent_placing_gives_distinct_numbers() -> None:
    book = OrderBook()
    order = parse_order(CARD_ORDER, TODAY)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    numbers: list[str] = []
    lock = threading.Lock()

    def place() -> None:
        for _ in range(50):
            number = book.place(order, at)["number"]
            with lock:
                numbers.append(number)

    threads = [threading.Thread(target=place) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(numbers) == len(set(numbers)) == 200


def test_the_book_keeps_the_newest_orders_only() -> None:
    book = OrderBook()
    order = parse_order(CARD_ORDER, TODAY)
    placed = [book.place(order, datetime(2026, 12, 1, tzinfo=UTC))["number"] for _ in range(MAX_KEPT + 5)]
    assert book.numbers() == placed[5:]
    assert book.get(placed[0]) is None and book.get(placed[-1]) is not None
