"""A call session wired to fakes: the recording ARI port, a recorder that applies writes to a recording
store, and a renderer that names each prompt. For unit tests of sessions, executors and managers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from ivr.calls.legs import LegRegistry
from ivr.calls.ports import QueuePort
from ivr.calls.session import CallSession, SessionDeps
from ivr.calls.speech import SpeechService
from ivr.calls.stats import LatencyStats
from ivr.flows.loader import load_text
from ivr.flows.model import Flow
from ivr.flows.prompts import Digits, SoundFile, Speak
from ivr.flows.registry import UnknownFlow
from tests.calls.fake_ari import FakeAri, channel


class RecordingStore:
    """Every write the session makes, as (method, args)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def write(*args: Any, **kwargs: Any) -> None:
            self.writes.append((name, args, kwargs))

        return write

    def named(self, name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(a, k) for n, a, k in self.writes if n == name]


class ImmediateRecorder:
    def __init__(self, store: RecordingStore) -> None:
        self.store = store

    def submit(self, write: Any) -> bool:
        write(self.store)
        return True


class NamingRenderer:
    async def uris(self, prompts: Any) -> list[str]:
        out: list[str] = []
        for p in prompts:
            if isinstance(p, Digits):
                out.append(f"digits:{p.digits}")
            elif isinstance(p, SoundFile):
                out.append(f"sound:{p.name}")
            elif isinstance(p, Speak):
                out.append(f"sound:tts/{p.lang}/{p.text[:20]}")
            else:
                out.append("sound:silence/1")
        return out


def flow(yaml_text: str) -> Flow:
    loaded, errors = load_text(yaml_text, "test.yaml")
    assert loaded is not None, [str(e) for e in errors]
    return loaded


class Harness:
    def __init__(
        self,
        flow_: Flow,
        *,
        queue: QueuePort | None = None,
        adopted: bool = False,
        resume_at: str | None = None,
        channel_state: str = "Up",
        speech: SpeechService | None = None,
    ) -> None:
        self.ari = FakeAri()
        self.speech = speech
        self.store = RecordingStore()
        self.legs = LegRegistry()
        self.http: aiohttp.ClientSession | None = None
        self.stats = LatencyStats()
        self.channel = channel("caller-1", state=channel_state)
        self._flow = flow_
        self._queue = queue
        self._adopted = adopted
        self._resume_at = resume_at
        self.session: CallSession | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> CallSession:
        self.http = aiohttp.ClientSession()
        deps = SessionDeps(
            ari=self.ari,  # type: ignore[arg-type]
            recorder=ImmediateRecorder(self.store),  # type: ignore[arg-type]
            renderer=NamingRenderer(),
            http=self.http,
            stats=self.stats,
            legs=self.legs,
            queue=self._queue,
            speech=self.speech,
        )
        self.session = CallSession(
            call_id="call-1",
            channel=self.channel,
            flow=self._flow,
            deps=deps,
            adopted=self._adopted,
            resume_at=self._resume_at,
        )
        self.task = asyncio.get_running_loop().create_task(self.session.run())
        await self.settle()
        return self.session

    async def settle(self, rounds: int = 20) -> None:
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def until(self, predicate: Any, within_s: float = 2.0) -> None:
        """Poll ``predicate`` (state of fakes; nothing to wait on) until true, or fail after ``within_s``."""
        async with asyncio.timeout(within_s):
            while not predicate():  # noqa: ASYNC110 - polling plain objects
                await asyncio.sleep(0.005)

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.http is not None:
            await self.http.close()

    def ended(self) -> tuple[str, str] | None:
        ends = self.store.named("call_ended")
        if not ends:
            return None
        args, _ = ends[-1]
        return args[2], args[3]

    def path(self) -> list[str]:
        return [a[1] for a, _ in self.store.named("node_entered")]


@dataclass(frozen=True)
class Open:
    """An open call as the store remembers it (``lifecycle.OpenCallFacts``)."""

    id: str
    flow: str | None
    last_node: str | None
    queue: str | None = None
    queued_at: datetime | None = None


class Flows:
    """A flow source with named flows; ``for_number`` gives ``numbers[dialed]`` or the default."""

    def __init__(self, flows: dict[str, Flow], default: str, numbers: dict[str, str] | None = None) -> None:
        self.flows, self.default, self.numbers = flows, default, numbers or {}

    def get(self, name: str) -> Flow:
        if name not in self.flows:
            raise UnknownFlow(name)
        return self.flows[name]

    def for_number(self, dialed: str) -> Flow:
        return self.flows[self.numbers.get(dialed, self.default)]
