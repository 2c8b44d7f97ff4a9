"""Rows of the cluster's PostgreSQL as ``psql -At`` prints them (bench.cluster_store, pure parts)."""

from __future__ import annotations

import pytest

from bench.cluster_store import parse_calls, parse_offers
from bench.reconcile import StoreCall


def test_calls_and_their_queue_entry() -> None:
    out = "c1|n1-1.1|920100001|completed|t|1700000000.25\nc2|n2-1.2|910000002||f|\n"
    calls, queued = parse_calls(out)
    assert calls == [
        StoreCall("c1", "n1-1.1", "920100001", "completed", True),
        StoreCall("c2", "n2-1.2", "910000002", None, False),
    ]
    assert queued == {"c1": 1700000000.25}


def test_offers_open_or_ended() -> None:
    offers = parse_offers("7|c1|3301|100.5|110.0|answered\n8|c2|3302|120|||\n".replace("|||", "||"))
    assert [(o.id, o.agent, o.start, o.end, o.outcome) for o in offers] == [
        (7, "3301", 100.5, 110.0, "answered"),
        (8, "3302", 120.0, None, None),
    ]


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_calls("c1|n1-1.1|completed\n")
