"""The ACD's HTTP API on a real AcdService (its task not started: every route here answers synchronously)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from acd.agents import AgentState
from acd.caller_directory import Caller
from acd.events import CallQueued, ConversationEnded, OfferAnswered, RingAgent
from acd.model import AcdConfig, Department
from acd.service import AcdService, AcdSettings
from acd.web import MAX_REASON, AcdWebDeps, add_acd_routes
from ivr.calls.legs import LegRegistry
from ivr.calls.ports import QueueRequest
from tests.acd.builders import agent, queue
from tests.calls.fake_ari import FakeAri

Client = TestClient[web.Request, web.Application]

CONFIG = AcdConfig(
    (agent("2101", {"orders": 3, "returns": 2}), agent("2102", {"orders": 2}, ("en",))),
    MappingProxyType(
        {
            "orders": queue("orders", target_rings=4, display=MappingProxyType({"ja": "ご注文"})),
            "returns": queue("returns"),
        }
    ),
    MappingProxyType(
        {
            "warehouse": Department("warehouse", extension="2001"),
            "escalations": Department("escalations", queue="returns"),
        }
    ),
)


class Api:
    def __init__(self) -> None:
        self.service = AcdService(
            config=CONFIG,
            ari=FakeAri(),
            legs=LegRegistry(),
            submit=lambda write: None,
            settings=AcdSettings(ring_cycle_s=3.0),
        )
        self.calls_asked: list[str] = []
        self.record: dict[str, Any] | None = None
        self.record_error: Exception | None = None
        self.report_asked: list[tuple[datetime | None, datetime | None]] = []
        self.report_result: dict[str, Any] = {"queues": {}}
        self.report_error: Exception | None = None
        self.client: Client

    async def get_call(self, call_id: str) -> dict[str, Any] | None:
        self.calls_asked.append(call_id)
        if self.record_error is not None:
            raise self.record_error
        return self.record

    async def report(self, since: datetime | None, until: datetime | None) -> dict[str, Any]:
        self.report_asked.append((since, until))
        if self.report_error is not None:
            raise self.report_error
        return self.report_result

    def app(self) -> web.Application:
        app = web.Application()
        add_acd_routes(app, AcdWebDeps(service=self.service, get_call=self.get_call, report=self.report))
        return app

    def waiting_call(self, call_id: str = "call-1") -> None:
        """A caller waiting in ``orders`` (2101 logged in but paused, so nobody rings)."""
        self.service.set_agent_state("2101", "paused", None)
        now = datetime.now(UTC)
        self.service.distributor.handle(CallQueued(call_id, "orders", 0, "ja", now), now)

    def talking(self, call_id: str = "call-1", agent_id: str = "2101") -> None:
        """``agent_id`` answered ``call_id`` (the distributor's view) and the caller is in the directory."""
        self.service.set_agent_state(agent_id, "available", None)
        now = datetime.now(UTC)
        commands = self.service.distributor.handle(CallQueued(call_id, "orders", 0, "ja", now), now)
        [ring] = [c for c in commands if isinstance(c, RingAgent)]
        self.service.distributor.handle(OfferAnswered(ring.offer_id, now), now)
        request = QueueRequest(
            call_id=call_id,
            channel_id=f"chan-{call_id}",
            queue="orders",
            priority=0,
            lang="ja",
            entered_at=now - timedelta(seconds=42),
            timeout_s=300,
            caller_number="0312345678",
            caller_name="山田 花子",
            attributes={"topic": "order_line", "size": "L"},
        )
        self.service.callers.add(Caller(request, lambda event: None, "orders", agent=agent_id))


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    a = Api()
    async with TestClient(TestServer(a.app(), host="127.0.0.1")) as client:
        a.client = client
        yield a


async def post_state(api: Api, agent_id: str, body: Any) -> tuple[int, Any]:
    response = await api.client.post(f"/api/agents/{agent_id}/state", json=body)
    return response.status, await response.json()


# --- agents -------------------------------------------------------------------------------------


async def test_agents_lists_every_agent_with_its_state_and_config(api: Api) -> None:
    response = await api.client.get("/api/agents")
    assert response.status == 200
    rows = await response.json()
    assert [r["id"] for r in rows] == ["2101", "2102"]
    first = rows[0]
    assert set(first) == {
        "id",
        "name",
        "state",
        "state_since",
        "reason",
        "skills",
        "languages",
        "registered",
        "current_call",
        "calls_handled",
    }
    assert first["name"] == "Agent 2101"
    assert first["state"] == "logged_out"
    assert first["skills"] == {"orders": 3, "returns": 2}
    assert rows[1]["languages"] == ["en"]
    assert first["registered"] is False


async def test_setting_a_state_answers_the_agents_row(api: Api) -> None:
    status, row = await post_state(api, "2101", {"state": "paused", "reason": "lunch"})
    assert status == 200
    assert (row["id"], row["state"], row["reason"]) == ("2101", "paused", "lunch")
    assert row["state_since"].endswith("Z")
    assert api.service.distributor.agent("2101").state == AgentState.PAUSED


async def test_setting_the_state_of_an_unknown_agent_is_404(api: Api) -> None:
    status, body = await post_state(api, "9999", {"state": "available"})
    assert status == 404
    assert body["id"] == "9999"


async def test_pausing_an_agent_on_a_call_is_409(api: Api) -> None:
    api.talking()
    status, body = await post_state(api, "2101", {"state": "paused"})
    assert status == 409
    assert "on a call" in body["error"]
    assert api.service.distributor.agent("2101").state == AgentState.ON_CALL


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", None),
        (["available"], None),
        ({"state": "on_call"}, "state"),
        ({"state": "sleeping"}, "state"),
        ({}, "state"),
        ({"state": "paused", "reason": "x" * (MAX_REASON + 1)}, "reason"),
        ({"state": "paused", "reason": 5}, "reason"),
        ({"state": "paused", "why": "lunch"}, "why"),
    ],
)
async def test_a_bad_state_body_is_422(api: Api, body: Any, field: str | None) -> None:
    if isinstance(body, str):
        response = await api.client.post("/api/agents/2101/state", data=body)
        status, answer = response.status, await response.json()
    else:
        status, answer = await post_state(api, "2101", body)
    assert status == 422
    assert answer.get("field") == field
    assert api.service.distributor.agent("2101").state == AgentState.LOGGED_OUT


async def test_a_reason_of_the_maximum_length_is_accepted(api: Api) -> None:
    status, row = await post_state(api, "2101", {"state": "paused", "reason": "x" * MAX_REASON})
    assert status == 200
    assert row["reason"] == "x" * MAX_REASON


# --- screen pop ---------------------------------------------------------------------------------


async def test_current_is_null_for_an_idle_agent(api: Api) -> None:
    api.service.set_agent_state("2102", "paused", "lunch")
    since = api.service.distributor.agent("2102").since.astimezone(UTC).isoformat().replace("+00:00", "Z")
    response = await api.client.get("/api/agents/2102/current")
    assert response.status == 200
    assert await response.json() == {
        "agent": "2102",
        "state": "paused",
        "state_since": since,  # the operator panel's "time in state"
        "reason": "lunch",
        "call": None,
    }


async def test_current_of_an_unknown_agent_is_404(api: Api) -> None:
    response = await api.client.get("/api/agents/9999/current")
    assert response.status == 404


async def test_current_shows_the_caller_and_the_ivrs_masked_inputs(api: Api) -> None:
    api.talking()
    inputs = [{"node": "account", "value": "****5678"}, {"node": "menu", "value": "1"}]
    api.record = {"inputs": inputs, "path": ["welcome", "menu", "q_orders"]}
    response = await api.client.get("/api/agents/2101/current")
    assert response.status == 200
    body = await response.json()
    assert body["state"] == "on_call"
    call = body["call"]
    assert call["id"] == "call-1"
    assert call["caller"] == {"number": "0312345678", "name": "山田 花子"}
    assert (call["language"], call["queue"]) == ("ja", "orders")
    assert call["queued_at"].endswith("Z")
    assert 41 <= call["waited_s"] < 60
    assert call["inputs"] == inputs
    assert call["path"] == ["welcome", "menu", "q_orders"]
    assert call["collected"] == {"topic": "order_line", "size": "L"}
    assert api.calls_asked == ["call-1"]


async def test_current_still_pops_when_the_call_record_is_unreadable(api: Api) -> None:
    api.talking()
    api.record_error = RuntimeError("database down")
    response = await api.client.get("/api/agents/2101/current")
    assert response.status == 200
    call = (await response.json())["call"]
    assert call["caller"]["number"] == "0312345678"
    assert (call["inputs"], call["path"]) == ([], [])


# --- queues and report --------------------------------------------------------------------------


async def test_queues_show_waiting_agents_and_todays_service_level(api: Api) -> None:
    api.waiting_call()
    api.report_result = {"queues": {"orders": {"sl": 0.9, "share_within_target": 0.8}}}
    response = await api.client.get("/api/queues")
    assert response.status == 200
    by_name = {q["name"]: q for q in await response.json()}
    assert set(by_name) == {"orders", "returns"}
    orders = by_name["orders"]
    assert orders["display"] == {"ja": "ご注文"}
    assert (orders["waiting"], orders["callbacks_waiting"]) == (1, 0)
    assert orders["longest_wait_s"] >= 0
    assert orders["agents"] == {"available": 0, "busy": 0, "paused": 1, "logged_in": 1}
    assert (orders["service_level_today"], orders["answered_within_target_today"]) == (0.9, 0.8)
    assert orders["target_s"] == 12.0  # 4 rings x 3 s
    assert by_name["returns"]["service_level_today"] is None
    [(since, until)] = api.report_asked
    assert since is not None and until is not None
    assert (since.hour, since.minute, until - since) == (0, 0, timedelta(days=1))


async def test_queues_answer_without_todays_figures_when_the_report_fails(api: Api) -> None:
    api.report_error = RuntimeError("database down")
    response = await api.client.get("/api/queues")
    assert response.status == 200
    assert all(q["service_level_today"] is None for q in await response.json())


async def test_report_parses_since_and_until(api: Api) -> None:
    api.report_result = {"calls": {"offered": 3}}
    response = await api.client.get(
        "/api/report", params={"since": "2026-01-05T03:00:00Z", "until": "2026-01-06"}
    )
    assert response.status == 200
    assert await response.json() == {"calls": {"offered": 3}}
    assert api.report_asked == [
        (datetime(2026, 1, 5, 3, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC)),
    ]


async def test_report_since_today_is_this_midnight_in_utc(api: Api) -> None:
    response = await api.client.get("/api/report", params={"since": "today"})
    assert response.status == 200
    [(since, until)] = api.report_asked
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert (since, until) == (today, None)


async def test_report_keeps_an_explicit_offset(api: Api) -> None:
    await api.client.get("/api/report", params={"since": "2026-01-05T09:00:00+09:00"})
    [(since, _)] = api.report_asked
    assert since == datetime(2026, 1, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize("query", [{"since": "yesterday-ish"}, {"until": "2026-13-40"}])
async def test_report_with_a_garbage_time_is_422(api: Api, query: dict[str, str]) -> None:
    response = await api.client.get("/api/report", params=query)
    assert response.status == 422
    assert api.report_asked == []


# --- transfer -----------------------------------------------------------------------------------


async def transfer(api: Api, body: Any, call_id: str = "call-1") -> tuple[int, Any]:
    response = await api.client.post(f"/api/calls/{call_id}/transfer", json=body)
    return response.status, await response.json()


@pytest.mark.parametrize(
    "body",
    [{}, {"queue": 5}, {"queue": "returns", "department": "escalations"}, {"team": "returns"}, ["returns"]],
)
async def test_a_bad_transfer_body_is_422(api: Api, body: Any) -> None:
    api.waiting_call()
    status, _ = await transfer(api, body)
    assert status == 422
    assert [w.queue for w in api.service.distributor.waiting()] == ["orders"]


async def test_transferring_an_unknown_call_is_404(api: Api) -> None:
    status, body = await transfer(api, {"queue": "returns"}, call_id="nobody")
    assert status == 404
    assert body["id"] == "nobody"


async def test_transferring_to_an_unknown_queue_is_404(api: Api) -> None:
    api.waiting_call()
    status, body = await transfer(api, {"queue": "nowhere"})
    assert status == 404
    assert body["queue"] == "nowhere"


async def test_transferring_to_an_unknown_department_is_404(api: Api) -> None:
    api.waiting_call()
    status, body = await transfer(api, {"department": "marketing"})
    assert status == 404
    assert body["department"] == "marketing"


async def test_a_caller_is_put_through_to_a_department_phone(api: Api) -> None:
    status, _ = await transfer(api, {"department": "warehouse"})
    assert status == 404  # call-1 is not with the ACD yet
    api.talking()
    status, body = await transfer(api, {"department": "warehouse"})
    assert status == 200
    assert body == {"id": "call-1", "department": "warehouse", "extension": "2001"}
    assert api.service.distributor.waiting() == []  # the ACD is done with the call
    assert api.service.distributor.agent("2101").state == "wrap_up"  # the operator wraps up


async def test_a_waiting_call_is_moved_to_another_queue(api: Api) -> None:
    api.waiting_call()
    status, body = await transfer(api, {"queue": "returns"})
    assert status == 200
    assert body == {"id": "call-1", "queue": "returns"}
    assert [w.call_id for w in api.service.distributor.waiting("returns")] == ["call-1"]


async def test_a_department_with_a_queue_moves_the_call_to_that_queue(api: Api) -> None:
    api.talking()
    status, body = await transfer(api, {"department": "escalations"})
    assert status == 200
    assert body["queue"] == "returns"
    assert api.service.distributor.agent("2101").state == AgentState.WRAP_UP


async def test_acd_status_lists_the_config_and_the_errors_of_a_rejected_edit(api: Api) -> None:
    response = await api.client.get("/api/acd")
    body = await response.json()
    assert response.status == 200
    assert body["agents"] == len(api.service.distributor.config.agents)
    assert "orders" in body["queues"]
    assert body["skills"] == ["orders", "returns"]  # what the skills editor offers


# --- the operator panel's "end wrap-up" and "pause" -------------------------------------------------


async def test_an_agent_in_wrap_up_ends_it_by_asking_for_available(api: Api) -> None:
    api.talking()
    now = datetime.now(UTC)
    api.service.distributor.handle(ConversationEnded("call-1", now), now)
    assert api.service.distributor.agent("2101").state == AgentState.WRAP_UP

    status, body = await post_state(api, "2101", {"state": "available"})

    assert status == 200
    assert body["state"] == "available" and body["current_call"] is None
    assert api.service.distributor.agent("2101").state == AgentState.AVAILABLE


async def test_an_agent_in_wrap_up_may_pause_with_a_reason_instead(api: Api) -> None:
    api.talking()
    now = datetime.now(UTC)
    api.service.distributor.handle(ConversationEnded("call-1", now), now)

    status, body = await post_state(api, "2101", {"state": "paused", "reason": "after-call work"})

    assert status == 200
    assert (body["state"], body["reason"]) == ("paused", "after-call work")
