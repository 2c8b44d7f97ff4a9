"""What every verb is: immutable, shared by all calls; per-call data lives in ``VerbCtx``."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

from ivr.flows.commands import CancelTimer, Command, ListenSpeech, Play, StartTimer, StopPlayback
from ivr.flows.events import Event, PlaybackDone, TimerFired
from ivr.flows.promptspec import ALL_LANGS, PromptText
from ivr.flows.state import CallState
from ivr.prompts import Prompt

RelPath = tuple[str, ...]


@dataclass(frozen=True)
class Edge:
    """A labelled edge to another node of the same flow; ``path`` is where the target is written."""

    label: str
    target: str
    path: RelPath


@dataclass(frozen=True)
class Sink:
    """Where a call leaves the flow (drawn as a sink): queue, transfer, hangup, voicemail, callback."""

    kind: str
    name: str


@dataclass(frozen=True)
class Stay:
    pass


@dataclass(frozen=True)
class Go:
    node: str


@dataclass(frozen=True)
class Finish:
    """End this (sub)flow. At the top level the call is hung up (unless ``hung_up`` already)."""

    outcome: str | None = None
    hung_up: bool = False


@dataclass(frozen=True)
class Enter:
    """Run another flow, then continue at ``return_to`` (or finish when None)."""

    flow: str
    return_to: str | None


Transition = Stay | Go | Finish | Enter
STAY = Stay()


@dataclass
class Result:
    commands: list[Command] = field(default_factory=list)
    transition: Transition = STAY


DEFAULT_QUEUES: frozenset[str] = frozenset({"orders", "returns", "complaints", "inquiries", "operator"})
"""Queue names a flow may use when the wiring passes none (``ivr flows check``, tests)."""

DEFAULT_DEPARTMENTS: Mapping[str, str] = MappingProxyType({"warehouse": "2001", "billing": "2002"})
"""Department name -> extension for the ``transfer`` verb when the wiring passes none."""


@dataclass(frozen=True)
class CheckEnv:
    """What loading a flow may consult besides the file: the flow's languages (semantic checks) and the
    site's queues and departments (the ACD's configuration, passed in by the wiring; ``transfer``
    resolves its department to an extension with it when the verb is built)."""

    languages: tuple[str, ...] = ("ja", "en")
    queues: frozenset[str] = DEFAULT_QUEUES
    departments: Mapping[str, str] = field(default_factory=lambda: DEFAULT_DEPARTMENTS)


DEFAULT_ENV = CheckEnv()


class VerbCtx:
    """One call's view while a node runs. Mutates the call state the engine gave it (a private copy)."""

    def __init__(self, state: CallState, node_id: str, now: datetime) -> None:
        self.state = state
        self.node_id = node_id
        self.now = now

    # --- data ---
    @property
    def lang(self) -> str:
        return self.state.lang

    @property
    def vars(self) -> dict[str, str]:
        return self.state.vars

    @property
    def local(self) -> dict[str, Any]:
        return self.state.local

    def mark_sensitive(self, var: str) -> None:
        if var not in self.state.sensitive_vars:
            self.state.sensitive_vars.append(var)

    def keep_typeahead(self, digit: str, limit: int = 32) -> None:
        """A key this node does not take: keep it for the next input node (type-ahead)."""
        if len(self.state.typeahead) < limit:
            self.state.typeahead += digit

    def next_id(self, prefix: str) -> str:
        self.state.counter += 1
        return f"{prefix}{self.state.counter}"

    def render(self, spec: PromptText | None) -> tuple[Prompt, ...]:
        return () if spec is None else spec.render(self.lang, self.vars)

    # --- playback ---
    def play(self, prompts: tuple[Prompt, ...], *, barge_in: bool = True) -> Play:
        play_id = self.next_id("play-")
        self.local["play"] = play_id
        self.local["play_barge_in"] = barge_in
        return Play(play_id, prompts, barge_in)

    @property
    def playing(self) -> bool:
        return self.local.get("play") is not None

    def is_my_playback(self, event: Event) -> bool:
        if isinstance(event, PlaybackDone) and event.play_id == self.local.get("play"):
            self.local["play"] = None
            return True
        return False

    def stop_playback(self) -> list[Command]:
        play_id = self.local.get("play")
        self.local["play"] = None
        return [StopPlayback(play_id)] if play_id else []

    # --- timers (names are scoped to this node entry) ---
    def _timer_name(self, name: str) -> str:
        return f"{self.node_id}#{self.state.entry_seq}:{name}"

    def start_timer(self, name: str, seconds: float) -> StartTimer:
        timers: list[str] = self.local.setdefault("timers", [])
        if name not in timers:
            timers.append(name)
        return StartTimer(self._timer_name(name), float(seconds))

    def cancel_timer(self, name: str) -> list[Command]:
        timers: list[str] = self.local.setdefault("timers", [])
        if name in timers:
            timers.remove(name)
            return [CancelTimer(self._timer_name(name))]
        return []

    def fired(self, event: Event, name: str) -> bool:
        if isinstance(event, TimerFired) and event.name == self._timer_name(name):
            timers: list[str] = self.local.setdefault("timers", [])
            if name in timers:
                timers.remove(name)
                return True
        return False

    # --- speech ---
    def listen(self, words: tuple[str, ...], lang: str | None = None) -> list[Command]:
        """Recognise ``words`` in ``lang`` (default: the call's language) until ``cleanup``."""
        if not words:
            return []
        lang = lang or self.lang
        listening: list[str] = self.local.setdefault("listening", [])
        if lang not in listening:
            listening.append(lang)
        return [ListenSpeech(lang, words)]

    def stop_listening(self) -> list[Command]:
        """Stop the speech recognition this node started (every language)."""
        return [ListenSpeech(lang, ()) for lang in self.local.pop("listening", [])]

    @property
    def keys_only(self) -> bool:
        """The recogniser was too busy for this node once: it takes keys only from then on."""
        return bool(self.local.get("keys_only"))

    def fall_back_to_keys(self) -> list[Command]:
        """Speech was dropped (recogniser pool full): stop listening; the node asks again for keys."""
        self.local["keys_only"] = True
        return self.stop_listening()

    def cleanup(self) -> list[Command]:
        """Stop everything this node started: playback, timers, speech recognition."""
        cmds: list[Command] = self.stop_playback()
        for name in list(self.local.get("timers", [])):
            cmds += self.cancel_timer(name)
        return cmds + self.stop_listening()


def normalise(text: str) -> str:
    """Case- and width-insensitive form for matching spoken words (ＯＲＤＥＲ == order)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not unicodedata.category(ch).startswith(("P", "Z", "C")))


def words_for(words: Mapping[str, tuple[str, ...]], lang: str) -> tuple[str, ...]:
    return tuple(words.get(lang, ())) + tuple(words.get(ALL_LANGS, ()))


def speech_matches(text: str, word: str) -> bool:
    said, want = normalise(text), normalise(word)
    if not want:
        return False
    return said == want or (len(want) >= 2 and want in said)


class Verb:
    """Base of all verbs. Subclasses set ``type_name``, ``schema`` (JSON Schema properties) and
    ``required``; ``__init__`` receives the node's already schema-checked mapping and parses the options
    once into typed attributes (run time never reads ``spec``; static analysis may, for positions)."""

    type_name: ClassVar[str] = ""
    waits_for_input: ClassVar[bool] = False
    schema: ClassVar[dict[str, Any]] = {}
    required: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        self.node_id = node_id
        self.spec = spec
        self.next_node = optional_text(spec, "next")
        """Where the call goes when this node is done (verbs with a ``next`` key); None finishes."""

    # run time
    def start(self, ctx: VerbCtx) -> Result:
        raise NotImplementedError

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        return Result()

    def cancel(self, ctx: VerbCtx) -> list[Command]:
        return ctx.cleanup()

    # static analysis
    def waits(self) -> bool:
        """Whether this node waits for caller input (for the "loop that never waits" check)."""
        return self.waits_for_input

    def targets(self) -> list[Edge]:
        return []

    def sinks(self) -> list[Sink]:
        return []

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        return []

    def template_fields(self) -> list[tuple[RelPath, str]]:
        return [(p, t) for p, spec in self.prompt_fields() for t in spec.templates()]

    def defined_vars(self) -> set[str]:
        """Variables this node sets; a name ending in ``.`` is a prefix (lookup results)."""
        return set()

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        return []

    # helpers for subclasses
    def _prompt(self, key: str) -> PromptText | None:
        raw = self.spec.get(key)
        return None if raw is None else PromptText.parse(raw)

    def _edge(self, label: str, key: str) -> list[Edge]:
        target = self.spec.get(key)
        return [Edge(label, str(target), (key,))] if target is not None else []

    def _next(self) -> Transition:
        return Go(self.next_node) if self.next_node is not None else Finish()


def optional_text(spec: Mapping[str, Any], key: str) -> str | None:
    """An optional text option (often a node id) as ``str``; None when the key is absent."""
    value = spec.get(key)
    return None if value is None else str(value)


PROMPT_SCHEMA: dict[str, Any] = {"$ref": "#/$defs/prompt"}
WORDS_SCHEMA: dict[str, Any] = {"$ref": "#/$defs/words"}
NODE_REF: dict[str, Any] = {"type": "string", "description": "id of a node in this flow"}
SECONDS: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0}
