"""Records of a node that went away (cluster): which to close and how. Pure: facts in, decisions out.

When a node of a cluster is gone (its controller stopped beating and its Asterisk no longer answers,
see ``acd.node_gone``), its calls went with its Asterisk, but their records in the shared database are
still open: no controller of that node will ever close them. The one surviving node that claimed it
closes them, by the same rules as records a crash left open (``orphans.closure``):

- outcome: put through to an operator → ``completed``; the last node entered ends the call (the
  flow's goodbye) → that node's outcome; waiting in a queue or still in the flow → ``abandoned``;
- cause: ``node <name> gone (<where the caller was>)``;
- ended_at: the node's last heartbeat (it was alive then; nothing after it is known), never before the
  call began.

Which records: those whose channel id carries the gone node's Asterisk system name (``belongs_to``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from ivr.calls.orphans import Closure, OpenRecord, belongs_to

NODE_GONE = "node {node} gone"

_Record = TypeVar("_Record", bound=OpenRecord)


def gone_node_calls(open_calls: Iterable[_Record], system_name: str | None) -> list[_Record]:
    """The open records of the gone node's Asterisk; none when its system name is not known (another
    node's calls must never be taken for its)."""
    if not system_name:
        return []
    return [call for call in open_calls if belongs_to(call.channel_id, system_name)]


def gone_node_closure(
    call: OpenRecord,
    *,
    node: str,
    last_seen: datetime,
    noticed_at: datetime,
    ended_by_flow: str | None = None,
) -> Closure:
    """How a gone node's open record is closed; ``ended_by_flow`` is ``hangup_outcome`` of its last node."""
    where = (
        f"talking to operator {call.agent}"
        if call.agent
        else f"waiting in queue {call.queue}"
        if call.queue
        else "in the flow"
    )
    cause = f"{NODE_GONE.format(node=node)} ({where})"
    if call.agent:
        outcome = "completed"
    elif ended_by_flow is not None:
        outcome = ended_by_flow
    else:
        outcome = "abandoned"
    return Closure(outcome, cause, max(min(last_seen, noticed_at), call.started_at))
