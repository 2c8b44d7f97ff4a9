"""The distributor's agent bookkeeping: every agent's status, which agents may be offered a call now,
the wrap-up and "reserved elsewhere" timers, and agents removed from the config (gone once idle).

Pure and synchronous, like the distributor that owns it: every status change is appended to ``out``
as ``AgentChanged``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from acd.agents import AgentState, AgentStatus
from acd.events import AcdCommand, AgentChanged, AgentRegistered
from acd.model import AgentConfig, QueueConfig
from acd.router import AgentView

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
IDLE = (AgentState.LOGGED_OUT, AgentState.AVAILABLE, AgentState.PAUSED)
"""States in which an agent removed from the config may leave."""
BUSY = (AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP)
"""States in which an agent is taken by a call (offered, talking, wrapping up)."""


@dataclass(frozen=True)
class RemoteAgentState:
    """An agent's state as another node of the cluster set it (shared through PostgreSQL)."""

    agent_id: str
    state: AgentState
    since: datetime
    reason: str | None = None
    current_call: str | None = None
    node: str = ""


class AgentBook:
    """The agents' side of the distributor's state; the distributor decides when to change it."""

    def __init__(
        self,
        agents: Sequence[AgentConfig],
        restored: Iterable[AgentStatus],
        *,
        require_registered: bool,
    ) -> None:
        self.require_registered = require_registered
        self.cfg: dict[str, AgentConfig] = {a.id: a for a in agents}
        by_id = {s.id: s for s in restored}
        self.status: dict[str, AgentStatus] = {}
        self.wrap_until: dict[str, datetime] = {}
        """Agents in wrap-up -> when it ends (at a Tick)."""
        for a in agents:
            s = replace(by_id[a.id]) if a.id in by_id else AgentStatus(a.id, AgentState.LOGGED_OUT, EPOCH)
            if s.state == AgentState.RESERVED:  # its offer died with the old process
                s = replace(s, state=AgentState.AVAILABLE, current_call=None)
            if s.state == AgentState.WRAP_UP:
                self.wrap_until[a.id] = s.since  # ends at the first Tick
            self.status[a.id] = s
        self.blocked: dict[str, datetime] = {}
        """Agents reserved elsewhere -> when they may be offered a call again."""
        self.retiring: set[str] = set()
        """Agents removed from the config, still busy."""
        self.views: dict[str, AgentView] = {}
        """What the router sees of each configured agent."""
        self.free: set[str] = set()
        """Agents that may be offered a call now."""
        for agent_id in self.status:
            self.refresh(agent_id)

    # ------------------------------------------------------------ reading

    def has_agents(self, queue: QueueConfig) -> bool:
        """Someone with the queue's skill is logged in (in any state)."""
        return any(
            queue.skill in cfg.skills and self.status[a].state != AgentState.LOGGED_OUT
            for a, cfg in self.cfg.items()
            if a in self.status
        )

    def staffed(self, queue: QueueConfig) -> int:
        """Agents with the queue's skill that are logged in and not paused."""
        return sum(
            1
            for a, cfg in self.cfg.items()
            if queue.skill in cfg.skills
            and a in self.status
            and self.status[a].state not in (AgentState.LOGGED_OUT, AgentState.PAUSED)
        )

    def states_with_skill(self, skill: str) -> list[AgentState]:
        return [self.status[a].state for a, cfg in self.cfg.items() if skill in cfg.skills]

    def deadlines(self) -> list[datetime]:
        """Wrap-up ends and block ends."""
        return [*self.wrap_until.values(), *self.blocked.values()]

    # ------------------------------------------------------------ changing

    def refresh(self, agent_id: str) -> None:
        """Recompute the agent's router view and whether it is free."""
        s = self.status[agent_id]
        cfg = self.cfg.get(agent_id)
        free = (
            cfg is not None
            and s.state == AgentState.AVAILABLE
            and agent_id not in self.blocked
            and agent_id not in self.retiring
            and (s.registered or not self.require_registered)
        )
        if cfg is None:
            self.views.pop(agent_id, None)
        else:
            self.views[agent_id] = AgentView(
                agent_id, cfg.skills, cfg.languages, free, s.since, s.calls_handled
            )
        if free:
            self.free.add(agent_id)
        else:
            self.free.discard(agent_id)

    def set(self, agent_id: str, now: datetime, out: list[AcdCommand], **changes: object) -> None:
        """Change the agent's status (a new state restarts ``since`` and ends any wrap-up timer)."""
        old = self.status[agent_id]
        new = replace(old, **changes)  # type: ignore[arg-type]
        if new.state != old.state:
            new.since = now
            self.wrap_until.pop(agent_id, None)
        if new == old:
            return
        self.status[agent_id] = new
        out.append(AgentChanged(replace(new)))
        self.refresh(agent_id)
        self.retire_if_idle(agent_id, now, out)

    def retire_if_idle(self, agent_id: str, now: datetime, out: list[AcdCommand]) -> None:
        if agent_id not in self.retiring or self.status[agent_id].state not in IDLE:
            return
        self.retiring.discard(agent_id)
        s = self.status.pop(agent_id)
        self.views.pop(agent_id, None)
        self.free.discard(agent_id)
        self.blocked.pop(agent_id, None)
        if s.state != AgentState.LOGGED_OUT:
            gone = replace(s, state=AgentState.LOGGED_OUT, since=now, reason="removed from config")
            out.append(AgentChanged(gone))

    def wrap_up(
        self, agent_id: str, call_id: str, wrapup_s: float, now: datetime, out: list[AcdCommand]
    ) -> None:
        """The agent's conversation ended: wrap-up for ``wrapup_s`` (available at once if 0)."""
        if agent_id not in self.status:
            return
        if wrapup_s <= 0:
            self.set(
                agent_id,
                now,
                out,
                state=AgentState.AVAILABLE,
                reason=None,
                current_call=None,
                last_call_ended_at=now,
            )
            return
        self.set(
            agent_id,
            now,
            out,
            state=AgentState.WRAP_UP,
            reason=None,
            current_call=call_id,
            last_call_ended_at=now,
        )
        if agent_id in self.status and self.status[agent_id].state == AgentState.WRAP_UP:
            self.wrap_until[agent_id] = now + timedelta(seconds=wrapup_s)

    def free_reserved(self, agent_id: str, now: datetime, out: list[AcdCommand]) -> None:
        """Back to available after an offer that did not become a conversation (never paused)."""
        if agent_id in self.status and self.status[agent_id].state == AgentState.RESERVED:
            self.set(agent_id, now, out, state=AgentState.AVAILABLE, reason=None, current_call=None)

    def release(self, agent_id: str, now: datetime, out: list[AcdCommand]) -> None:
        """Available with no call and no wrap-up (a callback's customer leg failed or was withdrawn)."""
        if agent_id in self.status:
            self.set(agent_id, now, out, state=AgentState.AVAILABLE, reason=None, current_call=None)

    def release_orphan(self, call_id: str, now: datetime, out: list[AcdCommand]) -> None:
        """A call this process never queued (agents restored after a restart) ended: free its agent."""
        for agent_id, s in list(self.status.items()):
            if s.current_call == call_id and s.state in (AgentState.ON_CALL, AgentState.RESERVED):
                self.set(
                    agent_id, now, out, state=AgentState.AVAILABLE, current_call=None, last_call_ended_at=now
                )

    def adopt_remote(self, remote: RemoteAgentState, *, claimed: bool) -> bool:
        """Another node changed the agent's state: this node sees the agent as that node says — on a
        call, reserved, in wrap-up, paused or logged out there is not offered here; available there is
        available here. Not while this node has the agent ``claimed`` (its own offer or conversation:
        PostgreSQL's reservation decides a race, and this node's own changes follow), nor when the change
        is older than what this node knows. No ``AgentChanged``: the other node records and shares it.
        A "reserved elsewhere" block ends (the agent's next state event). True if the view changed."""
        old = self.status.get(remote.agent_id)
        if old is None or remote.agent_id in self.retiring:
            return False
        if claimed or remote.since < old.since:
            return False
        self.unblock(remote.agent_id)
        new = replace(
            old,
            state=remote.state,
            since=remote.since,
            reason=remote.reason,
            current_call=remote.current_call if remote.state in BUSY else None,
        )
        self.wrap_until.pop(remote.agent_id, None)  # a wrap-up is timed by the node that has it
        self.status[remote.agent_id] = new
        self.refresh(remote.agent_id)
        return new != old

    def block(self, agent_id: str, until: datetime) -> None:
        """Offer the agent nothing until ``until`` or its next state event (reserved elsewhere)."""
        self.blocked[agent_id] = until

    def unblock(self, agent_id: str) -> None:
        self.blocked.pop(agent_id, None)

    def registered(
        self, event: AgentRegistered, auto_login: bool, now: datetime, out: list[AcdCommand]
    ) -> None:
        if event.agent_id not in self.status:
            return
        self.unblock(event.agent_id)
        s = self.status[event.agent_id]
        # Only a phone coming online logs its agent in: device-state churn while it stays registered
        # (ringing, in use, idle again) must not undo a log-out.
        if event.online and not s.registered and auto_login and s.state == AgentState.LOGGED_OUT:
            self.set(
                event.agent_id, now, out, registered=True, state=AgentState.AVAILABLE, reason="registered"
            )
        else:
            self.set(event.agent_id, now, out, registered=event.online)
        if event.agent_id in self.status:
            self.refresh(event.agent_id)

    def reconfigure(self, agents: Sequence[AgentConfig], now: datetime, out: list[AcdCommand]) -> None:
        """New agents appear logged out; removed ones leave once idle; skill changes apply at once."""
        self.cfg = {a.id: a for a in agents}
        for a in agents:
            if a.id not in self.status:
                self.status[a.id] = AgentStatus(a.id, AgentState.LOGGED_OUT, now)
                out.append(AgentChanged(replace(self.status[a.id])))
            self.retiring.discard(a.id)
        for agent_id in [a for a in self.status if a not in self.cfg]:
            self.retiring.add(agent_id)
            self.retire_if_idle(agent_id, now, out)
        for agent_id in self.status:
            self.refresh(agent_id)

    def end_wrap_ups(self, now: datetime, out: list[AcdCommand]) -> None:
        for agent_id, until in list(self.wrap_until.items()):
            if until <= now:
                self.set(agent_id, now, out, state=AgentState.AVAILABLE, reason=None, current_call=None)

    def unblock_due(self, now: datetime) -> None:
        for agent_id, until in list(self.blocked.items()):
            if until <= now:
                del self.blocked[agent_id]
                if agent_id in self.status:
                    self.refresh(agent_id)
