"""What a node's going away means for the agents: pure decisions for ``AcdCluster``'s node watch.

A node is *gone* when it stopped beating (``acd.pg_nodes``) **and** its Asterisk no longer answers SIP:
a controller that is only restarting (its Asterisk still up, its calls waiting to be adopted) is not
gone, and its records must not be closed by another node. Once gone, the agents it held are freed: its
reservations (``PostgresReservations.release_node``) and every agent whose latest shared state it set
as busy with one of its calls (reserved, on a call, in wrap-up) becomes available again.
"""

from __future__ import annotations

from collections.abc import Iterable

from acd.agents import AgentState
from acd.pg_agent_states import AgentStateChange

BUSY_WITH_A_CALL = frozenset({AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP})


def sip_address(sip: str | None) -> tuple[str, int] | None:
    """``HOST:PORT`` as stored in a node's row; None when missing or malformed."""
    if not sip:
        return None
    host, sep, port = sip.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def is_gone(*, asterisk_answers: bool | None) -> bool:
    """A stale node is gone unless its Asterisk still answers (None: its address is not known)."""
    return asterisk_answers is not True


def agents_to_free(states: Iterable[AgentStateChange], gone_node: str) -> list[str]:
    """The agents whose latest shared state ``gone_node`` set as busy with a call, sorted."""
    return sorted(
        s.agent_id for s in states if s.node == gone_node and s.state in {str(b) for b in BUSY_WITH_A_CALL}
    )
