"""NodeGoneRecovery with fakes: a gone node's open records are closed through the recorder, by the
rules of ``node_gone``, and only that node's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr.calls.node_gone_recovery import NodeGoneRecovery
from tests.calls.test_recovery import Flows, Recorder, Store, open_call

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def recovery(store: Store, recorder: Recorder) -> NodeGoneRecovery:
    return NodeGoneRecovery(
        store=store,
        recorder=recorder,  # type: ignore[arg-type]
        flows=Flows(),
        clock=lambda: T0 + timedelta(minutes=5),
    )


async def test_closes_the_gone_nodes_records_only_once_the_recorder_applies_them() -> None:
    store = Store()
    store.open = [
        open_call("talking", "nodeb-1.1", queue="t_returns", agent="3101"),
        open_call("waiting", "nodeb-1.2", queue="t_returns"),
        open_call("goodbye", "nodeb-1.3", flow="echo", last_node="bye"),
        open_call("elsewhere", "nodea-1.4", queue="t_returns", agent="3102"),
    ]
    recorder = Recorder(store)
    last_seen = T0 + timedelta(seconds=90)

    closed = await recovery(store, recorder).close_calls("b", "nodeb", last_seen)

    assert closed == 3
    assert store.closed == []  # written behind, in order with everything else
    await recorder.apply()
    assert store.closed == [
        ("talking", last_seen, "completed", "node b gone (talking to operator 3101)"),
        ("waiting", last_seen, "abandoned", "node b gone (waiting in queue t_returns)"),
        ("goodbye", last_seen, "completed", "node b gone (in the flow)"),  # the echo line's goodbye
    ]


async def test_without_the_asterisk_name_nothing_is_closed() -> None:
    store = Store()
    store.open = [open_call("talking", "nodeb-1.1", agent="3101")]
    recorder = Recorder(store)
    assert await recovery(store, recorder).close_calls("b", None, T0) == 0
    await recorder.apply()
    assert store.closed == []
