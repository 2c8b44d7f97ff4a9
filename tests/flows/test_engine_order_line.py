"""Walks of the shipped ``order_line`` flow through the real engine, its lookups answered by the demo
order service's own functions (customers, catalogue, order checks) without HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ivr.demo.customers import customer_by_phone
from ivr.demo.items import item_json
from ivr.demo.order_book import OrderRejected, parse_order
from ivr.flows import commands as c
from ivr.flows.events import LookupDone
from ivr.flows.model import Flow
from ivr.flows.simulate import Simulator, split_inputs
from ivr.prompts import Digits

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
KNOWN = "0312345678"  # Hanako Yamada in the demo customers
NEW = "0399999999"
VALID_CARD = "4111111111111111"
BAD_CARD = "4111111111111112"  # fails the Luhn check
ORDER_NUMBER = "8042"


@dataclass
class DemoService:
    """Answers the flow's lookups like ``ivr.demo.orders`` would; keeps the POSTed bodies."""

    posted: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, cmd: c.HttpLookup) -> LookupDone:
        url = urlsplit(cmd.url)
        path = url.path.removeprefix("/demo")
        data: dict[str, Any] | None
        if cmd.method == "POST" and path == "/orders":
            assert cmd.body is not None
            self.posted.append(dict(cmd.body))
            try:
                parse_order(cmd.body, NOW.date())
            except OrderRejected as exc:
                return LookupDone(cmd.request_id, False, 422, None, str(exc))
            return LookupDone(cmd.request_id, True, 201, {"number": ORDER_NUMBER, "status": "received"})
        if path == "/customers":
            data = customer_by_phone(parse_qs(url.query).get("phone", [""])[0])
        elif path.startswith("/items/"):
            data = item_json(path.removeprefix("/items/"))
        else:
            raise AssertionError(f"unexpected lookup {cmd.method} {cmd.url}")
        if data is None:
            return LookupDone(cmd.request_id, False, 404, None, "HTTP 404")
        return LookupDone(cmd.request_id, True, 200, data)


@dataclass
class Walk:
    sim: Simulator
    service: DemoService
    lines: list[str]

    @property
    def path(self) -> list[str]:
        assert self.sim.state is not None
        return self.sim.state.path

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def of(self, kind: type) -> list[Any]:
        return [x for x in self.sim.commands if isinstance(x, kind)]

    def inputs_at(self, node: str) -> list[c.InputTaken]:
        return [i for i in self.of(c.InputTaken) if i.node_id == node]


def walk(flows: dict[str, Flow], inputs: str, *, lang: str = "en", caller: str = KNOWN) -> Walk:
    lines: list[str] = []
    service = DemoService()
    sim = Simulator(flows["order_line"], now=NOW, lang=lang, caller=caller, lookup=service, out=lines.append)
    sim.run(iter(split_inputs(inputs)))
    return Walk(sim, service, lines)


# item 101 (sizes and colours) x2, size M, navy, card, expiry 12/30, yes
CARD_ORDER = f"101#,2#,2,3,3,{VALID_CARD}#,1230#,1"


def test_a_card_order_by_keys_is_read_back_confirmed_and_submitted(flows: dict[str, Flow]) -> None:
    w = walk(flows, CARD_ORDER)
    assert w.path[-6:] == [
        "readback_customer",
        "conditions",
        "place_order",
        "submit_order",
        "order_placed",
        "goodbye",
    ]
    assert w.service.posted == [
        {
            "customer": "C1001",
            "item": "101",
            "quantity": "2",
            "size": "M",
            "colour": "navy",
            "payment": "card",
            "card_last4": "1111",
            "card_expiry": "1230",
            "lang": "en",
        }
    ]
    text = w.text
    # everything read back: item number digit by digit, item, quantity, size, colour, card, name, address
    assert "Item number\n  🔊 one zero one" in text
    assert "Polo shirt, size medium, navy, quantity 2." in text
    assert "Payment by card ending in\n  🔊 one one one one" in text
    assert "Delivery to Hanako Yamada, 1-2-3 Marunouchi, Chiyoda-ku, Tokyo." in text
    assert "returned within 8 days of delivery" in text
    digits = [p for play in w.of(c.Play) for p in play.prompts if isinstance(p, Digits)]
    assert digits[-1] == Digits(ORDER_NUMBER, "en")  # the order number, digit by digit
    assert "eight zero four two" in text
    assert w.sim.state is not None and w.sim.state.outcome == "completed"


def test_the_card_number_is_masked_and_never_kept_or_sent(flows: dict[str, Flow]) -> None:
    w = walk(flows, CARD_ORDER)
    taken = w.inputs_at("card_number")
    assert len(taken) == 1 and taken[0].sensitive and VALID_CARD not in taken[0].value
    assert VALID_CARD not in repr(w.sim.commands)
    assert VALID_CARD not in w.text
    assert w.sim.state is not None
    assert VALID_CARD not in json.dumps(w.sim.state.vars)  # dropped once its last four were kept
    assert w.sim.state.vars["card.last4"] == "1111"


def test_a_card_failing_luhn_is_asked_again(flows: dict[str, Flow]) -> None:
    w = walk(flows, f"101#,1#,1,1,3,{BAD_CARD}#,{VALID_CARD}#,0130#,1")
    assert w.path.count("card_number") == 1  # the retry stays on the node
    assert len(w.inputs_at("card_number")) == 2
    assert "That card number is not valid." in w.text
    assert [b["card_last4"] for b in w.service.posted] == ["1111"]
    assert "order_placed" in w.path


def test_an_expiry_with_month_13_is_asked_again(flows: dict[str, Flow]) -> None:
    w = walk(flows, f"101#,1#,1,1,3,{VALID_CARD}#,1330#,0827#,1")
    assert [i.value for i in w.inputs_at("card_expiry")] == ["1330", "0827"]
    assert w.service.posted[0]["card_expiry"] == "0827"


def test_no_at_the_read_back_goes_to_the_orders_queue(flows: dict[str, Flow]) -> None:
    w = walk(flows, "205#,3#,1,1,2,-")  # tote bag (colours only), black, cash on delivery, no
    assert "size_menu" not in w.path and "colour_menu" in w.path
    assert "Tote bag, black, quantity 3." in w.text
    assert "Payment by cash on delivery." in w.text
    assert [q.queue for q in w.of(c.EnterQueue)] == ["orders"]
    assert w.path[w.path.index("place_order") + 1 : w.path.index("to_order_desk")] == ["declined"]
    assert w.service.posted == []
    # what the caller chose is in the inputs, which the operator's screen pop shows
    assert [i.value for i in w.inputs_at("item_number")] == ["205"]
    assert [i.value for i in w.inputs_at("quantity")] == ["3"]


def test_a_new_customer_chooses_the_item_then_goes_to_the_orders_queue(flows: dict[str, Flow]) -> None:
    w = walk(flows, "101#,1#,3,2,-", caller=NEW)
    assert w.path[:5] == ["start", "welcome", "identify", "find_customer", "new_customer"]
    assert "size_menu" in w.path and "colour_menu" in w.path
    assert "payment_menu" not in w.path and "card_number" not in w.path
    assert [q.queue for q in w.of(c.EnterQueue)] == ["orders"]
    assert w.service.posted == []


def test_an_anonymous_caller_is_a_new_customer_without_a_lookup(flows: dict[str, Flow]) -> None:
    w = walk(flows, "420#,1#,-", caller="")
    assert w.path[:4] == ["start", "welcome", "identify", "new_customer"]
    assert all("/customers" not in lookup.url for lookup in w.of(c.HttpLookup))
    assert "size_menu" not in w.path and "colour_menu" not in w.path
    assert [q.queue for q in w.of(c.EnterQueue)] == ["orders"]


def test_an_unknown_item_is_asked_again(flows: dict[str, Flow]) -> None:
    w = walk(flows, "999#,420#,1#,2,1")  # mug: no sizes, no colours; bank transfer; yes
    assert w.path.count("item_not_found") == 1
    assert w.service.posted[0]["item"] == "420"
    assert (w.service.posted[0]["size"], w.service.posted[0]["colour"]) == ("", "")
    assert w.service.posted[0]["payment"] == "bank_transfer"


def test_spoken_english_order(flows: dict[str, Flow]) -> None:
    w = walk(flows, "say:310,say:2,large,cash,yes")
    assert [i.kind for i in w.inputs_at("item_number")] == ["speech"]
    body = w.service.posted[0]
    assert (body["item"], body["quantity"], body["size"], body["payment"]) == (
        "310",
        "2",
        "L",
        "cash_on_delivery",
    )


def test_japanese_read_back_uses_the_customer_record_and_nana(flows: dict[str, Flow]) -> None:
    w = walk(flows, f"101#,7#,1,2,3,{VALID_CARD}#,1230#,1", lang="ja")
    text = w.text
    assert "ポロシャツ、エスサイズ、白、数量7点。" in text
    assert "山田 花子様" in text and "東京都 千代田区" in text
    assert "いち、いち、いち、いち" in text  # card's last four
    assert "はち、ゼロ、よん、に" in text  # the order number
    assert w.service.posted[0]["lang"] == "ja"


def test_the_demo_service_being_down_goes_to_the_orders_queue(flows: dict[str, Flow]) -> None:
    lines: list[str] = []

    def down(cmd: c.HttpLookup) -> LookupDone:
        return LookupDone(cmd.request_id, False, None, None, "connection refused")

    sim = Simulator(flows["order_line"], now=NOW, lang="en", caller=KNOWN, lookup=down, out=lines.append)
    sim.run(iter(["-"]))
    assert sim.state is not None
    assert sim.state.path[3:6] == ["find_customer", "service_down", "to_order_desk"]
