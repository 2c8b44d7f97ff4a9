"""``queue``: hand the call to an ACD skill queue; route on how it came back.

While the caller waits: music on hold, the ACD's position/expected-wait announcements in the caller's
language, and (with ``callback_key``) a key to leave a callback request instead, keeping the place in
line. When an operator answers the caller is bridged (``AgentConnected``); ``QueueDone(answered)``
follows when the operator's leg ends, and the flow continues at ``after`` (e.g. a survey).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import Command, EnterQueue, LeaveQueue, Moh, OutcomeSet
from ivr.flows.events import (
    AgentConnected,
    BackInQueue,
    DtmfReceived,
    Event,
    PlaybackDone,
    QueueDone,
    QueueStatus,
)
from ivr.flows.promptspec import PromptText, render_template
from ivr.flows.queue_announcement import position_announcement
from ivr.flows.suggest import did_you_mean
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    PROMPT_SCHEMA,
    SECONDS,
    CheckEnv,
    Edge,
    Finish,
    Go,
    RelPath,
    Result,
    Sink,
    Verb,
    VerbCtx,
    optional_text,
)


class Queue(Verb):
    type_name = "queue"
    description = (
        "Enter an ACD queue. `after`: the agent hung up (e.g. survey); `on_no_agents`, `on_timeout`."
    )
    schema: ClassVar[dict[str, Any]] = {
        "queue": {"type": "string"},
        "priority": {"type": "integer", "minimum": 0, "maximum": 100},
        "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
        "timeout": SECONDS,
        "prompt": PROMPT_SCHEMA,
        "after": NODE_REF,
        "on_no_agents": NODE_REF,
        "on_timeout": NODE_REF,
        "moh": {"type": "boolean", "description": "music on hold while waiting (default true)"},
        "announce": {"type": "boolean", "description": "announce position and expected wait (default true)"},
        "callback_key": {"type": "string", "pattern": "^[0-9*#]$"},
        "on_callback": {**NODE_REF, "description": "where a caller who pressed callback_key goes"},
    }
    required = ("queue", "on_no_agents")

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.queue = str(spec["queue"])
        self.priority = int(spec.get("priority", 0))
        self.attributes = {str(k): str(v) for k, v in spec.get("attributes", {}).items()}
        self.timeout_s = float(spec.get("timeout", 300))
        self.prompt = self._prompt("prompt")
        self.after_node = optional_text(spec, "after")
        self.no_agents_node = str(spec["on_no_agents"])
        self.timeout_node = optional_text(spec, "on_timeout")
        self.moh = bool(spec.get("moh", True))
        self.announce = bool(spec.get("announce", True))
        self.callback_key = optional_text(spec, "callback_key")
        self.callback_node = optional_text(spec, "on_callback")

    def waits(self) -> bool:
        return self.callback_key is not None  # keys reach the verb (not type-ahead) only then

    def start(self, ctx: VerbCtx) -> Result:
        if self.prompt is not None:
            return Result([ctx.play(ctx.render(self.prompt), barge_in=False)])
        return Result(self._enter(ctx))

    def _enter(self, ctx: VerbCtx) -> list[Command]:
        ctx.local["queued"] = True
        commands: list[Command] = [
            EnterQueue(self.queue, self.priority, self._screen_pop(ctx), self.timeout_s)
        ]
        return commands + self._hold(ctx, True)

    def _screen_pop(self, ctx: VerbCtx) -> dict[str, str]:
        """The attributes with the flow's variables filled in (``size: "{size}"``): what the IVR collected,
        for the operator's screen. A sensitive variable is never shown, whatever the template says."""
        shown = {k: v for k, v in ctx.vars.items() if k not in ctx.state.sensitive_vars}
        return {key: render_template(text, shown).strip() for key, text in self.attributes.items()}

    def _hold(self, ctx: VerbCtx, on: bool) -> list[Command]:
        if not self.moh or bool(ctx.local.get("moh")) == on:
            return []
        ctx.local["moh"] = on
        return [Moh(on)]

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if isinstance(event, DtmfReceived) and not self._takes(ctx, event.digit):
            ctx.keep_typeahead(event.digit)  # for the next menu, as with any announcement
            return Result()
        if not ctx.local.get("queued"):
            return Result(self._enter(ctx)) if ctx.is_my_playback(event) else Result()
        connected = bool(ctx.local.get("connected"))
        if isinstance(event, QueueDone):
            return self._done(ctx, event)
        if isinstance(event, AgentConnected):
            ctx.local["connected"] = True
            ctx.vars["queue.agent"] = event.agent
            commands = ctx.stop_playback() + self._hold(ctx, False)
            return Result([*commands, OutcomeSet("completed")])
        if isinstance(event, BackInQueue):
            ctx.local["connected"] = False
            ctx.vars["queue.escalated_to"] = event.queue
            return Result(self._hold(ctx, True))
        if connected:
            return Result()
        if isinstance(event, QueueStatus) and self.announce and not ctx.playing:
            prompts = position_announcement(
                event.position, event.expected_wait_s, ctx.lang, self.callback_key
            )
            return Result([*self._hold(ctx, False), ctx.play(prompts, barge_in=True)])
        if isinstance(event, PlaybackDone) and ctx.is_my_playback(event):
            return Result(self._hold(ctx, True))
        if isinstance(event, DtmfReceived) and event.digit == self.callback_key and self.callback_node:
            ctx.local["queued"] = False
            number = ctx.vars.get("caller.number", "")
            commands = ctx.stop_playback() + self._hold(ctx, False)
            return Result([*commands, LeaveQueue(self.queue, number or None)], Go(self.callback_node))
        return Result()

    def _takes(self, ctx: VerbCtx, digit: str) -> bool:
        """The callback key, while the caller waits in line (not during the intro, not when talking)."""
        return digit == self.callback_key and bool(ctx.local.get("queued")) and not ctx.local.get("connected")

    def _done(self, ctx: VerbCtx, event: QueueDone) -> Result:
        ctx.local["queued"] = False
        commands = ctx.stop_playback() + self._hold(ctx, False)
        ctx.vars["queue.outcome"] = event.outcome
        if event.outcome == "answered":
            after = self.after_node
            return Result([*commands, OutcomeSet("completed")], Go(after) if after else Finish("completed"))
        if event.outcome == "timeout" and self.timeout_node is not None:
            return Result(commands, Go(self.timeout_node))
        return Result(commands, Go(self.no_agents_node))

    def cancel(self, ctx: VerbCtx) -> list[Command]:
        commands = ctx.cleanup() + self._hold(ctx, False)
        if ctx.local.get("queued"):  # the flow leaves the queue without the ACD's answer
            ctx.local["queued"] = False
            commands.append(LeaveQueue(self.queue))
        return commands

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        return [(("prompt",), self.prompt)] if self.prompt else []

    def defined_vars(self) -> set[str]:
        return {"queue.outcome", "queue.agent", "queue.escalated_to"}

    def targets(self) -> list[Edge]:
        return (
            self._edge("after agent", "after")
            + self._edge("no agents", "on_no_agents")
            + self._edge("timeout", "on_timeout")
            + self._edge("callback", "on_callback")
        )

    def sinks(self) -> list[Sink]:
        return [Sink("queue", self.queue)]

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        if (self.callback_key is None) != (self.callback_node is None):
            return [((), "`callback_key` and `on_callback` go together")]
        name = self.queue
        if name not in env.queues:
            return [(("queue",), f"queue '{name}' does not exist{did_you_mean(name, env.queues)}")]
        return []
