"""Records a crash left open, and calls lost when Asterisk restarted. Pure: facts in, decisions out.

At every (re)connection the controller compares the store's open calls of THIS Asterisk with the
channels that are still there. A record whose channel is gone — and that no call in memory owns — is
closed here:

- outcome: the caller had been put through to an operator → ``completed``; the last node recorded is
  one that hangs up (the flow's goodbye: the IVR was ending the call when the kill took the rest of
  the record) → that node's outcome (``completed`` when it names none), cause ``ivr hung up``; waiting
  in a queue or still in the flow → ``abandoned`` (the same rule the flow applies to a live call);
- cause: ``Asterisk restarted`` when the call began before the running Asterisk started, otherwise
  ``channel gone while the controller was away``;
- ended_at: Asterisk's CDR end for that channel when known, else (restart) Asterisk's start time or
  the time we noticed, whichever is earlier.

Which calls belong to this Asterisk: channel ids are ``<systemname>-<epoch>.<n>`` (``asterisk.conf``
sets ``systemname`` to the instance name), so another node's calls in a shared database are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from ivr.flows.model import Flow
from ivr.flows.verbs.hangup import Hangup

ASTERISK_RESTARTED = "Asterisk restarted"
CONTROLLER_AWAY = "channel gone while the controller was away"
IVR_HUNG_UP = "ivr hung up (record closed after a controller restart)"
_BARE_UNIQUEID = re.compile(r"\d+\.\d+")


class OpenRecord(Protocol):
    """What the store keeps of an open call (``ivr.store.OpenCall``)."""

    @property
    def id(self) -> str: ...
    @property
    def channel_id(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def queue(self) -> str | None: ...
    @property
    def agent(self) -> str | None: ...


@dataclass(frozen=True)
class AsteriskFacts:
    """From ``GET /asterisk/info``: the system name (channel id prefix) and when this Asterisk started."""

    system_name: str | None
    started_at: datetime | None


@dataclass(frozen=True)
class Closure:
    outcome: str
    cause: str
    ended_at: datetime


def asterisk_facts(info: Mapping[str, Any]) -> AsteriskFacts:
    """Read ``config.name`` and ``status.startup_time`` from ARI's info; missing or odd → None."""
    config = info.get("config")
    status = info.get("status")
    name = config.get("name") if isinstance(config, Mapping) else None
    started = status.get("startup_time") if isinstance(status, Mapping) else None
    return AsteriskFacts(
        system_name=name if isinstance(name, str) and name else None,
        started_at=_ari_time(started),
    )


def _ari_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def restarted(previous: AsteriskFacts | None, current: AsteriskFacts) -> bool:
    """Asterisk was restarted between two connections: its start time changed."""
    return (
        previous is not None
        and previous.started_at is not None
        and current.started_at is not None
        and current.started_at != previous.started_at
    )


def belongs_to(channel_id: str, system_name: str | None) -> bool:
    """The channel was created by this Asterisk (its uniqueid carries the system name)."""
    if system_name:
        return channel_id.startswith(f"{system_name}-")
    return _BARE_UNIQUEID.fullmatch(channel_id) is not None


_Record = TypeVar("_Record", bound=OpenRecord)


def orphans(
    open_calls: Iterable[_Record],
    *,
    system_name: str | None,
    live_channels: set[str],
    known_calls: set[str],
    seen_at: datetime,
) -> list[_Record]:
    """The open records to close: of this Asterisk, channel not live, no call in memory, and begun before
    the channels were listed (a call that arrived since is not judged on an older list)."""
    return [
        call
        for call in open_calls
        if belongs_to(call.channel_id, system_name)
        and call.channel_id not in live_channels
        and call.id not in known_calls
        and call.started_at <= seen_at
    ]


def hangup_outcome(flow: Flow | None, node: str | None) -> str | None:
    """The outcome of a call whose last node entered is ``node``, when that node's verb ends the call
    (``hangup``: its ``outcome``, else ``completed`` as a flow that finished); None for any other node."""
    verb = flow.nodes.get(node) if flow is not None and node is not None else None
    if not isinstance(verb, Hangup):
        return None
    return verb.outcome or "completed"


def closure(
    call: OpenRecord,
    *,
    asterisk_started_at: datetime | None,
    cdr_end: datetime | None,
    noticed_at: datetime,
    ended_by_flow: str | None = None,
) -> Closure:
    """How an orphaned record is closed; ``ended_by_flow`` is ``hangup_outcome`` of its last node."""
    was_restart = asterisk_started_at is not None and call.started_at < asterisk_started_at
    outcome = "completed" if call.agent else "abandoned"
    where = (
        f"talking to operator {call.agent}"
        if call.agent
        else f"waiting in queue {call.queue}"
        if call.queue
        else "in the flow"
    )
    cause = f"{ASTERISK_RESTARTED if was_restart else CONTROLLER_AWAY} ({where})"
    if ended_by_flow is not None and not call.agent and not was_restart:
        outcome, cause = ended_by_flow, IVR_HUNG_UP
    if cdr_end is not None:
        ended_at = cdr_end
    elif was_restart and asterisk_started_at is not None:
        ended_at = min(asterisk_started_at, noticed_at)
    else:
        ended_at = noticed_at
    return Closure(outcome, cause, max(ended_at, call.started_at))
