"""The default shop flow walked by DTMF on the real Asterisk, with real SIP calls from SIPp.

Any number but 100 reaches the shop flow. Every call of this module runs at once (one SIPp each, own
caller number) in a module fixture; the tests then read each call's record from ``GET /api/calls``.
Callers send keys early on purpose: keys pressed during an announcement are typed ahead for the next
menu, and a key stops a menu's prompt. With no ACD yet every queue answers "no agents", so queued
callers reach the ``no_agents`` menu and leave with 9 (goodbye: the IVR hangs up).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ivr.testing.sipp import SippResult
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call_keys, dtmf_values, inputs_at, newest_call, wait_for_flows

pytestmark = pytest.mark.asterisk

SHOP_NUMBER = "0120"  # not bound by any flow: the default flow (shop) answers
CARD_NUMBER = "7100"  # bound by tests/integration/flows/card_payment.yaml
FLOWS = Path(__file__).parent / "flows"
VALID_CARD = "4111111111111111"  # Luhn-valid
BAD_CARD = "4111111111111112"  # Luhn-invalid
START = ["greeting", "choose_language", "business_hours", "main_menu"]


@dataclass(frozen=True)
class Caller:
    number: str
    groups: list[str | float]
    service: str = SHOP_NUMBER
    trailing_silence_s: float = 20.0
    timeout_s: float = 60.0


# key at the main menu -> (keys after it, nodes it leads through, queue)
MENU_KEYS: dict[str, tuple[str, list[str], str]] = {
    "1": ("1", ["orders_menu", "new_order"], "orders"),
    "2": ("", ["returns"], "returns"),
    "3": ("", ["complaints"], "complaints"),
    "4": ("", ["inquiries"], "inquiries"),
    "0": ("", ["operator"], "operator"),
}
# English (2) for most callers; the 4 and 0 callers stay in Japanese (1) to cover the default language.
LANGUAGE_KEY = {"1": "2", "2": "2", "3": "2", "4": "1", "0": "1"}

CALLERS: dict[str, Caller] = {
    **{
        f"menu_{key}": Caller(f"03222201{index:02d}", [LANGUAGE_KEY[key], key + rest, 1.0, "9"])
        for index, (key, (rest, _, _)) in enumerate(MENU_KEYS.items())
    },
    # orders (1) -> status (2) -> number -> confirm yes (1) -> lookup -> status -> finish (9)
    "status_found": Caller("0322220201", ["2", "12", "4271#", 1.0, "1", 1.0, "9"]),
    "status_not_found": Caller("0322220202", ["2", "12", "9999#", 1.0, "1", 1.0, "9"]),
    # too short first (12#: invalid, the collect asks again), then a valid number
    "invalid_then_valid": Caller("0322220203", ["2", "12", "12#", 2.5, "4271#", 1.0, "1", 1.0, "9"]),
    # English, then nothing: main menu retries, default -> operator -> no agents -> ... -> voicemail
    "no_input": Caller("0322220204", ["2"], trailing_silence_s=150.0, timeout_s=170.0),
    # a site flow with a sensitive collect: a Luhn-invalid card first, then a valid one
    "card": Caller("0322220301", [BAD_CARD + "#", 2.5, VALID_CARD + "#"], service=CARD_NUMBER),
}


@dataclass(frozen=True)
class Placed:
    result: SippResult
    record: dict[str, Any]


def _install_card_flow(controller: ControllerProcess, site_flows: Path) -> None:
    shutil.copy(FLOWS / "card_payment.yaml", site_flows / "it_card_payment.yaml")
    wait_for_flows(
        controller,
        lambda body: any(CARD_NUMBER in f["numbers"] for f in body["flows"]),
        what=f"a flow bound to {CARD_NUMBER}",
    )


@pytest.fixture(scope="module")
def placed(
    pbx: TestPbx,
    controller: ControllerProcess,
    site_flows: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Placed]:
    """Every caller of this module, placed concurrently; their SIPp results and call records."""
    _install_card_flow(controller, site_flows)
    pcaps = tmp_path_factory.mktemp("shop-pcaps")

    async def place_all() -> list[SippResult]:
        return await asyncio.gather(
            *(
                call_keys(
                    pbx,
                    pcaps,
                    service=c.service,
                    groups=c.groups,
                    caller=c.number,
                    trailing_silence_s=c.trailing_silence_s,
                    timeout_s=c.timeout_s,
                )
                for c in CALLERS.values()
            )
        )

    results = asyncio.run(place_all())
    return {
        name: Placed(result, newest_call(controller, caller=c.number))
        for (name, c), result in zip(CALLERS.items(), results, strict=True)
    }


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _placed(placed: dict[str, Placed], name: str) -> dict[str, Any]:
    call = placed[name]
    assert call.result.ok, f"{name}: {call.result.describe()}\nrecord: {call.record}"
    return call.record


@pytest.mark.parametrize("key", list(MENU_KEYS))
def test_each_main_menu_key_reaches_its_queue(placed: dict[str, Placed], key: str) -> None:
    record = _placed(placed, f"menu_{key}")
    rest, nodes, queue = MENU_KEYS[key]
    assert record["flow"] == "shop"
    assert record["dialed"] == SHOP_NUMBER
    # No agents yet: the queue sends the caller to the no_agents menu, where 9 says goodbye.
    assert record["path"] == [*START, *nodes, "no_agents", "goodbye"]
    assert record["queue"] == queue
    assert record["queued_at"] is not None
    assert inputs_at(record, "choose_language") == [LANGUAGE_KEY[key]]
    assert inputs_at(record, "main_menu") == [key]
    if rest:
        assert inputs_at(record, "orders_menu") == [rest]
    assert inputs_at(record, "no_agents") == ["9"]
    assert all(i["kind"] == "dtmf" and not i["sensitive"] for i in record["inputs"])
    assert record["ended_at"] is not None


def test_order_status_is_read_back_confirmed_and_looked_up(placed: dict[str, Placed]) -> None:
    record = _placed(placed, "status_found")
    assert record["path"] == [
        *START,
        "orders_menu",
        "order_number",
        "confirm_order",
        "order_lookup",
        "order_status",
        "after_status",
        "goodbye",
    ]
    assert inputs_at(record, "order_number") == ["4271"]
    assert inputs_at(record, "confirm_order") == ["1"]
    assert dtmf_values(record) == ["2", "1", "2", "4271", "1", "9"]
    assert record["queue"] is None
    assert record["outcome"] == "completed"


def test_unknown_order_number_is_not_found(placed: dict[str, Placed]) -> None:
    record = _placed(placed, "status_not_found")
    assert record["path"][-5:] == [
        "confirm_order",
        "order_lookup",
        "order_not_found",
        "after_status",
        "goodbye",
    ]
    assert "order_status" not in record["path"]
    assert inputs_at(record, "order_number") == ["9999"]


def test_invalid_order_number_is_asked_again(placed: dict[str, Placed]) -> None:
    record = _placed(placed, "invalid_then_valid")
    # The retry stays on the node: entered once, two inputs taken there.
    assert record["path"].count("order_number") == 1
    assert inputs_at(record, "order_number") == ["12", "4271"]
    assert record["path"][-5:] == ["confirm_order", "order_lookup", "order_status", "after_status", "goodbye"]


def test_no_input_at_main_menu_retries_then_goes_to_operator(placed: dict[str, Placed], pbx: TestPbx) -> None:
    record = _placed(placed, "no_input")
    path = record["path"]
    assert path[: len(START) + 1] == [*START, "operator"]  # the menu's default after its retries
    assert dtmf_values(record) == ["2"]  # only the language choice; nothing at the main menu
    assert record["queue"] == "operator"
    # 1 + 2 retries, each waiting the menu's 5 s timeout after its prompt, before the default.
    assert (_ts(record["queued_at"]) - _ts(record["answered_at"])).total_seconds() > 15
    # Nobody presses anything at no_agents either: its default, the voicemail, then goodbye.
    assert path[len(START) + 1 :] == ["no_agents", "leave_message", "goodbye"]
    assert record["ended_at"] is not None
    assert record["outcome"] == "voicemail"  # the message was recorded
    day = record["started_at"][:10]
    filed = list((pbx.data_dir / "recordings" / day).glob(f"{record['id']}-voicemail-*.wav"))
    assert len(filed) == 1 and filed[0].stat().st_size > 44  # filed out of Asterisk's spool, not empty


def test_sensitive_card_number_is_masked(placed: dict[str, Placed], controller: ControllerProcess) -> None:
    record = _placed(placed, "card")
    assert record["flow"] == "it_card_payment"
    assert record["path"] == ["card_number", "thanks", "bye"]
    taken = [i for i in record["inputs"] if i["node"] == "card_number"]
    assert len(taken) == 2  # the Luhn-invalid one (asked again), then the valid one
    for item in taken:
        assert item["sensitive"] is True
        assert item["value"] != ""
        assert not re.search(r"\d{4}", item["value"]), item["value"]  # no run of card digits
    api_text = json.dumps(record)
    log_text = controller.log_text()
    for number in (VALID_CARD, BAD_CARD):
        assert number not in api_text
        assert number not in log_text
