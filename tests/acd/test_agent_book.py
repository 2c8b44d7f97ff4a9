"""AgentBook: restoring statuses, who is free, wrap-up, blocking and agents leaving the config."""

from __future__ import annotations

from acd.agent_book import AgentBook
from acd.agents import AgentState, AgentStatus
from acd.events import AcdCommand, AgentChanged
from tests.acd.builders import agent, at, queue

S = AgentState
AGENTS = [agent("2101", {"orders": 3}), agent("2102", {"orders": 1, "returns": 2})]


def state(book: AgentBook, agent_id: str) -> AgentState:
    return book.status[agent_id].state


def test_restore_frees_reserved_and_keeps_wrap_up_until_the_first_tick() -> None:
    restored = [
        AgentStatus("2101", S.RESERVED, at(0), current_call="c1"),
        AgentStatus("2102", S.WRAP_UP, at(5), current_call="c2"),
    ]
    book = AgentBook(AGENTS, restored, require_registered=False)
    assert book.status["2101"].state == S.AVAILABLE and book.status["2101"].current_call is None
    assert book.free == {"2101"}
    assert book.deadlines() == [at(5)]
    out: list[AcdCommand] = []
    book.end_wrap_ups(at(5), out)
    assert book.status["2102"].state == S.AVAILABLE and book.free == {"2101", "2102"}
    assert [c.status.id for c in out if isinstance(c, AgentChanged)] == ["2102"]


def test_require_registered_keeps_an_unregistered_agent_out_of_routing() -> None:
    restored = [AgentStatus("2101", S.AVAILABLE, at(0)), AgentStatus("2102", S.AVAILABLE, at(0))]
    book = AgentBook(AGENTS, restored, require_registered=True)
    assert book.free == set()
    book.set("2102", at(1), [], registered=True)
    assert book.free == {"2102"}


def test_wrap_up_then_block_and_unblock() -> None:
    book = AgentBook(
        AGENTS, [AgentStatus("2101", S.ON_CALL, at(0), current_call="c1")], require_registered=False
    )
    out: list[AcdCommand] = []
    book.wrap_up("2101", "c1", 10.0, at(20), out)
    assert state(book, "2101") == S.WRAP_UP and book.wrap_until == {"2101": at(30)}
    book.end_wrap_ups(at(29), out)
    assert state(book, "2101") == S.WRAP_UP
    book.end_wrap_ups(at(30), out)
    assert state(book, "2101") == S.AVAILABLE and "2101" in book.free
    book.block("2101", at(60))
    book.refresh("2101")
    assert "2101" not in book.free
    book.unblock_due(at(59))
    assert "2101" not in book.free
    book.unblock_due(at(60))
    assert "2101" in book.free and book.blocked == {}


def test_staffed_and_has_agents_count_only_the_skill() -> None:
    restored = [AgentStatus("2101", S.PAUSED, at(0)), AgentStatus("2102", S.AVAILABLE, at(0))]
    book = AgentBook(AGENTS, restored, require_registered=False)
    orders, returns = queue("orders"), queue("returns")
    assert book.staffed(orders) == 1 and book.staffed(returns) == 1
    assert book.has_agents(orders)
    book.set("2102", at(1), [], state=S.LOGGED_OUT)
    assert not book.has_agents(returns) and book.has_agents(orders)


def test_a_removed_agent_leaves_once_idle() -> None:
    book = AgentBook(
        AGENTS, [AgentStatus("2102", S.ON_CALL, at(0), current_call="c1")], require_registered=False
    )
    out: list[AcdCommand] = []
    book.reconfigure(AGENTS[:1], at(10), out)
    assert "2102" in book.status and "2102" in book.retiring and "2102" not in book.views
    book.wrap_up("2102", "c1", 0.0, at(20), out)
    assert "2102" not in book.status
    gone = [c.status for c in out if isinstance(c, AgentChanged)][-1]
    assert (gone.id, gone.state, gone.reason) == ("2102", S.LOGGED_OUT, "removed from config")
