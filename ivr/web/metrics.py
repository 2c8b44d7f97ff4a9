"""``GET /metrics``: the controller's figures in the Prometheus text format, from the official client.

One private ``CollectorRegistry`` per app (never the process-global one) holds one custom collector
that reads current values at scrape time from the callables in ``MetricsDeps``. Today's figures (calls
by outcome, ring-to-answer, service level) come from a store read that is cached for ``today_ttl_s``,
so a burst of scrapes costs one query; a failed read keeps the last figures and sets
``ivr_metrics_source_ok{source="today"}`` to 0. A source that raises is skipped (and logged): the
scrape still answers with everything else.

The ACD's parts arrive as callables built in the wiring (``ivr.web`` never imports ``acd``); the
protocols below say what they must look like. Metric names and labels: docs/web.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

QUEUE_AGENT_STATES = ("available", "busy", "paused", "logged_in")
LATENCY_QUANTILES = (0.5, 0.9, 0.99)


class QueueLive(Protocol):
    """One queue now (the ACD's ``QueueSnapshot``)."""

    @property
    def waiting(self) -> int: ...
    @property
    def longest_wait_s(self) -> float: ...
    @property
    def available(self) -> int: ...
    @property
    def busy(self) -> int: ...
    @property
    def paused(self) -> int: ...
    @property
    def logged_in(self) -> int: ...
    @property
    def callbacks(self) -> int: ...


class QueueToday(Protocol):
    @property
    def share_within_target(self) -> float | None: ...
    @property
    def sl(self) -> float | None: ...


class Today(Protocol):
    """Today's figures (the ACD's ``TodayFigures``)."""

    @property
    def outcomes(self) -> Mapping[str, int]: ...
    @property
    def ring_to_answer_s(self) -> Sequence[float]: ...
    @property
    def queues(self) -> Mapping[str, QueueToday]: ...


class ControllerCounters(Protocol):
    """The controller's counters and latency window (``ivr.calls.stats.LatencyStats``)."""

    @property
    def events(self) -> int: ...
    @property
    def calls_started(self) -> int: ...
    @property
    def calls_active(self) -> int: ...
    @property
    def samples(self) -> Sequence[float]: ...
    def percentile(self, pct: float) -> float | None: ...


class AsrPool(Protocol):
    """The recogniser pool (``ivr.asr.pool.RecognizerPool``)."""

    @property
    def languages(self) -> tuple[str, ...]: ...
    @property
    def max_pending(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def pending(self) -> int: ...
    @property
    def workers(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def timeouts(self) -> int: ...
    @property
    def replaced(self) -> int: ...
    @property
    def hung(self) -> int: ...


class Speech(Protocol):
    """The speech service (``ivr.calls.speech.SpeechService``)."""

    @property
    def pool(self) -> AsrPool | None: ...
    @property
    def unknown_datagrams(self) -> int: ...
    @property
    def bad_datagrams(self) -> int: ...
    @property
    def keys_only_fallbacks(self) -> int: ...


class Recorder(Protocol):
    """The write-behind call recorder (``ivr.store.CallRecorder``)."""

    @property
    def pending(self) -> int: ...
    @property
    def healthy(self) -> bool: ...
    @property
    def dropped(self) -> int: ...
    @property
    def max_pending(self) -> int: ...


@dataclass(frozen=True)
class MetricsDeps:
    controller: ControllerCounters | None = None
    queues: Callable[[], Mapping[str, QueueLive]] | None = None
    """Every queue now, by name."""
    agent_states: Callable[[], Iterable[str]] | None = None
    """The state of every agent now (one string per agent)."""
    agent_state_names: Sequence[str] = ()
    """Every state an agent can be in: each gets a sample, 0 when nobody is in it."""
    today: Callable[[], Awaitable[Today]] | None = None
    speech: Speech | None = None
    recorder: Recorder | None = None
    ring_cycle_s: float = 3.0
    ring_buckets: int = 6
    """Ring-to-answer histogram buckets: 1..N rings of ``ring_cycle_s`` seconds (then +Inf)."""
    today_ttl_s: float = 5.0
    clock: Callable[[], float] = time.monotonic


class TodayCache:
    """Today's figures, read at most once per ``ttl_s`` (concurrent scrapes share one read)."""

    def __init__(
        self, read: Callable[[], Awaitable[Today]], ttl_s: float, clock: Callable[[], float]
    ) -> None:
        self._read = read
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._read_at: float | None = None
        self.value: Today | None = None
        self.ok = False

    async def refresh(self) -> None:
        async with self._lock:
            if self._read_at is not None and self._clock() - self._read_at < self._ttl_s:
                return
            try:
                self.value = await self._read()
                self.ok = True
            except Exception as exc:
                log.warning("metrics: today's figures unavailable: %s", exc)
                self.ok = False
            self._read_at = self._clock()


class IvrCollector(Collector):
    """Reads the deps at scrape time; yields one family per figure."""

    def __init__(self, deps: MetricsDeps, today: TodayCache | None) -> None:
        self._deps = deps
        self._today = today

    def collect(self) -> Iterator[Metric]:
        parts: list[tuple[str, Callable[[], Iterable[Metric]]]] = [
            ("controller", self._controller),
            ("queues", self._queues),
            ("agents", self._agents),
            ("today", self._today_families),
            ("asr", self._asr),
            ("recorder", self._recorder),
        ]
        ok = GaugeMetricFamily(
            "ivr_metrics_source_ok",
            "1 when the source answered at this scrape, 0 when it failed",
            labels=["source"],
        )
        for name, part in parts:
            try:
                families = list(part())
            except Exception:
                log.exception("metrics: source %s failed", name)
                ok.add_metric([name], 0)
                continue
            if name == "today" and self._today is not None and not self._today.ok:
                ok.add_metric([name], 0)
            elif families:
                ok.add_metric([name], 1)
            yield from families
        yield ok

    def _controller(self) -> Iterable[Metric]:
        stats = self._deps.controller
        if stats is None:
            return
        yield GaugeMetricFamily(
            "ivr_calls_in_progress", "Calls the controller is handling now", stats.calls_active
        )
        yield CounterMetricFamily(
            "ivr_calls_started", "Calls started since the controller started", stats.calls_started
        )
        yield CounterMetricFamily(
            "ivr_ari_events", "ARI events received since the controller started", stats.events
        )
        latency = GaugeMetricFamily(
            "ivr_event_to_command_latency_seconds",
            "ARI event to first command, over the latest samples (see ivr_event_to_command_latency_samples)",
            labels=["quantile"],
        )
        for q in LATENCY_QUANTILES:
            value = stats.percentile(q * 100)
            if value is not None:
                latency.add_metric([str(q)], value)
        yield latency
        yield GaugeMetricFamily(
            "ivr_event_to_command_latency_samples", "Samples behind the latency quantiles", len(stats.samples)
        )

    def _queues(self) -> Iterable[Metric]:
        if self._deps.queues is None:
            return
        snapshot = self._deps.queues()
        waiting = GaugeMetricFamily("ivr_queue_waiting", "Callers waiting in the queue now", labels=["queue"])
        callbacks = GaugeMetricFamily(
            "ivr_queue_callbacks_waiting", "Callbacks waiting for an agent in the queue now", labels=["queue"]
        )
        longest = GaugeMetricFamily(
            "ivr_queue_longest_wait_seconds", "Longest wait of a caller in the queue now", labels=["queue"]
        )
        agents = GaugeMetricFamily(
            "ivr_queue_agents",
            "Agents with the queue's skill by state (busy: reserved, on a call or in wrap-up; "
            "logged_in: any state but logged out)",
            labels=["queue", "state"],
        )
        for name, queue in sorted(snapshot.items()):
            waiting.add_metric([name], queue.waiting)
            callbacks.add_metric([name], queue.callbacks)
            longest.add_metric([name], queue.longest_wait_s)
            for state in QUEUE_AGENT_STATES:
                agents.add_metric([name, state], getattr(queue, state))
        yield from (waiting, callbacks, longest, agents)

    def _agents(self) -> Iterable[Metric]:
        if self._deps.agent_states is None:
            return
        counts = dict.fromkeys(self._deps.agent_state_names, 0)
        for state in self._deps.agent_states():
            counts[state] = counts.get(state, 0) + 1
        family = GaugeMetricFamily("ivr_agents", "Agents by state now", labels=["state"])
        for state, count in sorted(counts.items()):
            family.add_metric([state], count)
        yield family

    def _today_families(self) -> Iterable[Metric]:
        today = None if self._today is None else self._today.value
        if today is None:
            return
        outcomes = GaugeMetricFamily(
            "ivr_calls_today",
            "Calls that arrived today (UTC) by outcome; in_progress: not ended",
            labels=["outcome"],
        )
        for outcome, count in sorted(today.outcomes.items()):
            outcomes.add_metric([outcome], count)
        yield outcomes
        yield self._ring_histogram(today.ring_to_answer_s)
        within = GaugeMetricFamily(
            "ivr_queue_answered_within_target_ratio",
            "Today: answered calls whose agent picked up within the target rings, share of answered",
            labels=["queue"],
        )
        sl = GaugeMetricFamily(
            "ivr_queue_service_level_ratio",
            "Today: answered within target (queue wait) ÷ answered",
            labels=["queue"],
        )
        for name, figures in sorted(today.queues.items()):
            if figures.share_within_target is not None:
                within.add_metric([name], figures.share_within_target)
            if figures.sl is not None:
                sl.add_metric([name], figures.sl)
        yield from (within, sl)

    def _ring_histogram(self, samples: Sequence[float]) -> Metric:
        cycle = self._deps.ring_cycle_s
        bounds = [cycle * rings for rings in range(1, self._deps.ring_buckets + 1)]
        buckets: list[tuple[str, float]] = []
        for bound in bounds:
            buckets.append((_bound(bound), float(sum(1 for s in samples if s <= bound + 1e-9))))
        buckets.append(("+Inf", float(len(samples))))
        return HistogramMetricFamily(
            "ivr_ring_to_answer_seconds",
            f"Today: agent leg Ringing to Up of answered calls; bucket bounds are whole rings of {cycle:g} s",
            buckets=buckets,
            sum_value=float(sum(samples)),
        )

    def _asr(self) -> Iterable[Metric]:
        speech = self._deps.speech
        if speech is None:
            return
        pool = speech.pool
        languages = GaugeMetricFamily(
            "ivr_asr_languages", "Languages with a loaded recogniser", labels=["language"]
        )
        if pool is not None:
            for lang in pool.languages:
                languages.add_metric([lang], 1)
            yield GaugeMetricFamily(
                "ivr_asr_workers", "Recogniser worker threads (IVR_ASR_WORKERS)", pool.workers
            )
            yield GaugeMetricFamily(
                "ivr_asr_in_use", "Recognitions running or waiting for a worker now", pool.pending
            )
            yield GaugeMetricFamily(
                "ivr_asr_pending_limit",
                "Recognitions that may wait for a worker before new ones are dropped",
                pool.max_pending,
            )
            yield CounterMetricFamily(
                "ivr_asr_dropped", "Utterances dropped because the recogniser pool was full", pool.dropped
            )
            failures = CounterMetricFamily(
                "ivr_asr_failures",
                "Recognitions that gave no answer: the engine raised (error) or ran over IVR_ASR_TIMEOUT_S",
                labels=["reason"],
            )
            failures.add_metric(["error"], pool.errors)
            failures.add_metric(["timeout"], pool.timeouts)
            yield failures
            yield CounterMetricFamily(
                "ivr_asr_workers_replaced",
                "Recogniser threads started to replace ones written off as hung",
                pool.replaced,
            )
            yield GaugeMetricFamily(
                "ivr_asr_workers_hung",
                "Written-off recogniser threads still stuck in a recognition",
                pool.hung,
            )
        yield languages
        rejected = CounterMetricFamily(
            "ivr_asr_rtp_rejected", "RTP datagrams not used for recognition", labels=["reason"]
        )
        rejected.add_metric(["unknown_source"], speech.unknown_datagrams)
        rejected.add_metric(["malformed"], speech.bad_datagrams)
        yield rejected
        yield CounterMetricFamily(
            "ivr_asr_keys_only_fallbacks",
            "Listening nodes that asked for keys instead: recogniser pool full, failed or timed out",
            speech.keys_only_fallbacks,
        )

    def _recorder(self) -> Iterable[Metric]:
        recorder = self._deps.recorder
        if recorder is None:
            return
        yield GaugeMetricFamily(
            "ivr_recorder_pending_writes", "Call record writes not yet in the store", recorder.pending
        )
        yield GaugeMetricFamily(
            "ivr_recorder_pending_limit",
            "Writes the recorder holds at most (new writes are dropped, and counted, beyond it)",
            recorder.max_pending,
        )
        yield GaugeMetricFamily(
            "ivr_recorder_healthy",
            "0 while the recorder retries through a database outage",
            int(recorder.healthy),
        )
        yield CounterMetricFamily(
            "ivr_recorder_dropped_writes", "Call record writes dropped", recorder.dropped
        )


def _bound(value: float) -> str:
    return repr(float(value))


@dataclass(frozen=True)
class MetricsEndpoint:
    registry: CollectorRegistry
    today: TodayCache | None


METRICS_KEY = web.AppKey("metrics", MetricsEndpoint)


def build_registry(deps: MetricsDeps) -> MetricsEndpoint:
    """A private registry with the collector (and the cache it reads today's figures from)."""
    today = None if deps.today is None else TodayCache(deps.today, deps.today_ttl_s, deps.clock)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IvrCollector(deps, today))
    return MetricsEndpoint(registry, today)


async def metrics(request: web.Request) -> web.Response:
    endpoint = request.app[METRICS_KEY]
    if endpoint.today is not None:
        await endpoint.today.refresh()
    body = generate_latest(endpoint.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_metrics_routes(app: web.Application, deps: MetricsDeps) -> None:
    app[METRICS_KEY] = build_registry(deps)
    app.router.add_get("/metrics", metrics)
