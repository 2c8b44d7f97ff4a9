"""``GET /metrics``: Prometheus text from a private registry, values read from the sources at scrape time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from ivr.calls.stats import LatencyStats
from ivr.web.metrics import MetricsDeps, add_metrics_routes
from tests.web.conftest import start_client

Client = TestClient[web.Request, web.Application]


@dataclass(frozen=True)
class Queue:
    waiting: int = 0
    longest_wait_s: float = 0.0
    available: int = 0
    busy: int = 0
    paused: int = 0
    logged_in: int = 0
    callbacks: int = 0


@dataclass(frozen=True)
class QueueDay:
    share_within_target: float | None
    sl: float | None


@dataclass(frozen=True)
class Day:
    outcomes: Mapping[str, int]
    ring_to_answer_s: Sequence[float]
    queues: Mapping[str, QueueDay]


@dataclass
class Pool:
    languages: tuple[str, ...] = ("en", "ja")
    max_pending: int = 16
    dropped: int = 3
    pending: int = 0
    workers: int = 2
    errors: int = 0
    timeouts: int = 0
    replaced: int = 0
    hung: int = 0


@dataclass
class Speech:
    pool: Pool | None = field(default_factory=Pool)
    unknown_datagrams: int = 5
    bad_datagrams: int = 1
    keys_only_fallbacks: int = 4


@dataclass
class Recorder:
    pending: int = 0
    healthy: bool = True
    dropped: int = 0
    max_pending: int = 100_000


class TodaySource:
    def __init__(self, day: Day) -> None:
        self.day = day
        self.reads = 0
        self.fail = False

    async def __call__(self) -> Day:
        self.reads += 1
        if self.fail:
            raise ConnectionError("database is down")
        return self.day


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Sources:
    stats: LatencyStats = field(default_factory=LatencyStats)
    queues: dict[str, Queue] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)
    today: TodaySource = field(default_factory=lambda: TodaySource(Day({}, [], {})))
    speech: Speech = field(default_factory=Speech)
    recorder: Recorder = field(default_factory=Recorder)
    clock: Clock = field(default_factory=Clock)

    def deps(self, **overrides: Any) -> MetricsDeps:
        values: dict[str, Any] = {
            "controller": self.stats,
            "queues": lambda: self.queues,
            "agent_states": lambda: list(self.agents),
            "agent_state_names": ("available", "on_call", "paused", "logged_out"),
            "today": self.today,
            "speech": self.speech,
            "recorder": self.recorder,
            "ring_cycle_s": 3.0,
            "ring_buckets": 6,
            "today_ttl_s": 5.0,
            "clock": self.clock,
        }
        values.update(overrides)
        return MetricsDeps(**values)


@pytest.fixture
def sources() -> Sources:
    return Sources()


async def serve(deps: MetricsDeps) -> Client:
    app = web.Application()
    add_metrics_routes(app, deps)
    return await start_client(app)


@pytest.fixture
async def client(sources: Sources) -> AsyncIterator[Client]:
    c = await serve(sources.deps())
    try:
        yield c
    finally:
        await c.close()


async def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(
    samples: Mapping[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_live_figures_are_read_at_each_scrape(client: Client, sources: Sources) -> None:
    sources.queues["orders"] = Queue(
        waiting=2, longest_wait_s=41.5, available=1, busy=3, paused=1, logged_in=5
    )
    sources.queues["returns"] = Queue(callbacks=4)
    sources.agents[:] = ["available", "on_call", "on_call", "wrap_up"]
    sources.stats.calls_active = 7
    sources.recorder.pending = 12
    first = await scrape(client)
    assert value(first, "ivr_queue_waiting", queue="orders") == 2
    assert value(first, "ivr_queue_longest_wait_seconds", queue="orders") == 41.5
    assert value(first, "ivr_queue_callbacks_waiting", queue="returns") == 4
    assert value(first, "ivr_queue_agents", queue="orders", state="busy") == 3
    assert value(first, "ivr_queue_agents", queue="orders", state="logged_in") == 5
    assert value(first, "ivr_agents", state="on_call") == 2
    assert value(first, "ivr_agents", state="wrap_up") == 1  # not in the names, still counted
    assert value(first, "ivr_agents", state="logged_out") == 0  # in the names, nobody there
    assert value(first, "ivr_calls_in_progress") == 7
    assert value(first, "ivr_recorder_pending_writes") == 12

    sources.queues["orders"] = Queue(waiting=0)
    sources.stats.calls_active = 1
    sources.recorder.pending = 0
    sources.recorder.healthy = False
    second = await scrape(client)
    assert value(second, "ivr_queue_waiting", queue="orders") == 0
    assert value(second, "ivr_calls_in_progress") == 1
    assert value(second, "ivr_recorder_pending_writes") == 0
    assert value(second, "ivr_recorder_healthy") == 0


async def test_controller_counters_and_latency_quantiles(client: Client, sources: Sources) -> None:
    sources.stats.events = 120
    sources.stats.calls_started = 9
    for ms in range(1, 101):
        sources.stats.add(ms / 1000)
    samples = await scrape(client)
    assert value(samples, "ivr_ari_events_total") == 120
    assert value(samples, "ivr_calls_started_total") == 9
    assert value(samples, "ivr_event_to_command_latency_seconds", quantile="0.5") == sources.stats.percentile(
        50
    )
    assert value(
        samples, "ivr_event_to_command_latency_seconds", quantile="0.99"
    ) == sources.stats.percentile(99)
    assert value(samples, "ivr_event_to_command_latency_samples") == 100


async def test_ring_to_answer_histogram_has_a_bucket_per_ring(sources: Sources) -> None:
    sources.today.day = Day({}, [2.0, 4.0, 9.0, 20.0, 3.0], {})
    client = await serve(sources.deps(ring_cycle_s=3.0, ring_buckets=6))
    try:
        samples = await scrape(client)
    finally:
        await client.close()
    buckets = {
        labels[0][1]: v
        for (name, labels), v in samples.items()
        if name == "ivr_ring_to_answer_seconds_bucket"
    }
    assert buckets == {"3.0": 2, "6.0": 3, "9.0": 4, "12.0": 4, "15.0": 4, "18.0": 4, "+Inf": 5}
    assert value(samples, "ivr_ring_to_answer_seconds_count") == 5
    assert value(samples, "ivr_ring_to_answer_seconds_sum") == 38.0


async def test_ring_buckets_follow_the_ring_cycle(sources: Sources) -> None:
    sources.today.day = Day({}, [5.0], {})
    client = await serve(sources.deps(ring_cycle_s=6.0, ring_buckets=2))
    try:
        samples = await scrape(client)
    finally:
        await client.close()
    bounds = {
        labels[0][1] for (name, labels), _ in samples.items() if name == "ivr_ring_to_answer_seconds_bucket"
    }
    assert bounds == {"6.0", "12.0", "+Inf"}


async def test_todays_outcomes_and_service_levels(client: Client, sources: Sources) -> None:
    sources.today.day = Day(
        {"completed": 14, "abandoned": 2, "in_progress": 1},
        [],
        {"orders": QueueDay(0.75, 0.8), "returns": QueueDay(None, None)},
    )
    samples = await scrape(client)
    assert value(samples, "ivr_calls_today", outcome="completed") == 14
    assert value(samples, "ivr_calls_today", outcome="abandoned") == 2
    assert value(samples, "ivr_queue_answered_within_target_ratio", queue="orders") == 0.75
    assert value(samples, "ivr_queue_service_level_ratio", queue="orders") == 0.8
    assert ("ivr_queue_service_level_ratio", (("queue", "returns"),)) not in samples  # nothing to count
    assert value(samples, "ivr_metrics_source_ok", source="today") == 1


async def test_today_is_read_once_per_ttl(client: Client, sources: Sources) -> None:
    for _ in range(3):
        await scrape(client)
    assert sources.today.reads == 1
    sources.clock.now += 5.0
    await scrape(client)
    assert sources.today.reads == 2


async def test_a_failed_today_read_keeps_the_last_figures_and_says_so(
    client: Client, sources: Sources
) -> None:
    sources.today.day = Day({"completed": 3}, [], {})
    await scrape(client)
    sources.today.fail = True
    sources.clock.now += 10
    samples = await scrape(client)
    assert sources.today.reads == 2
    assert value(samples, "ivr_metrics_source_ok", source="today") == 0
    assert value(samples, "ivr_calls_today", outcome="completed") == 3


async def test_a_failing_source_is_skipped_not_fatal(sources: Sources) -> None:
    def broken() -> dict[str, Queue]:
        raise RuntimeError("boom")

    sources.recorder.pending = 4
    client = await serve(sources.deps(queues=broken))
    try:
        samples = await scrape(client)
    finally:
        await client.close()
    assert value(samples, "ivr_metrics_source_ok", source="queues") == 0
    assert value(samples, "ivr_recorder_pending_writes") == 4
    assert value(samples, "ivr_recorder_pending_limit") == 100_000


async def test_asr_pool_use(client: Client, sources: Sources) -> None:
    sources.speech.pool = Pool(languages=("ja",), max_pending=8, dropped=2, pending=3, workers=2)
    samples = await scrape(client)
    assert value(samples, "ivr_asr_in_use") == 3
    assert value(samples, "ivr_asr_workers") == 2
    assert value(samples, "ivr_asr_languages", language="ja") == 1
    assert ("ivr_asr_languages", (("language", "en"),)) not in samples
    assert value(samples, "ivr_asr_pending_limit") == 8
    assert value(samples, "ivr_asr_dropped_total") == 2
    assert value(samples, "ivr_asr_rtp_rejected_total", reason="unknown_source") == 5
    assert value(samples, "ivr_asr_keys_only_fallbacks_total") == 4


async def test_asr_worker_faults(client: Client, sources: Sources) -> None:
    sources.speech.pool = Pool(errors=2, timeouts=3, replaced=1, hung=1)
    samples = await scrape(client)
    assert value(samples, "ivr_asr_failures_total", reason="error") == 2
    assert value(samples, "ivr_asr_failures_total", reason="timeout") == 3
    assert value(samples, "ivr_asr_workers_replaced_total") == 1
    assert value(samples, "ivr_asr_workers_hung") == 1


async def test_absent_sources_leave_their_metrics_out() -> None:
    client = await serve(MetricsDeps())
    try:
        samples = await scrape(client)
    finally:
        await client.close()
    assert {name for name, _ in samples} == set()


async def test_the_global_registry_is_left_alone(client: Client) -> None:
    await scrape(client)
    assert REGISTRY.get_sample_value("ivr_calls_in_progress") is None
