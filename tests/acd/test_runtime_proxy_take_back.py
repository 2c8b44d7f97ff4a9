"""Taking back a conversation whose operator was rung through Kamailio: the leg's channel is named after
the proxy endpoint (``PJSIP/kamailio-…``), so the operator comes from the caller's conversation mark, or
the store's memory of who talked with the call — never "kamailio"."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from acd import conversation_marker
from ivr.ari.models import Bridge
from tests.acd.test_runtime import Env, Store, left_over
from tests.calls.fake_ari import channel


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    e = Env()
    yield e
    await e.runtime.close()


def talking_through_kamailio(env: Env, *, marked: str | None) -> None:
    caller = channel("chan-7", name="PJSIP/kamailio-00000007")
    if marked is not None:
        mark = conversation_marker.mark("call-7", marked, datetime.now(UTC))
        caller = dataclasses.replace(caller, channelvars={conversation_marker.VAR: mark})
    env.ari.channels_by_id["chan-7"] = caller
    left_over(env.ari, "leg-call-7-o2", "PJSIP/kamailio-00000008")
    env.ari.bridges_by_id["leg-call-7-bridge"] = Bridge(
        "leg-call-7-bridge", channels=("chan-7", "leg-call-7-o2")
    )


async def test_the_operator_is_read_from_the_callers_conversation_mark(env: Env) -> None:
    service = await env.start()
    talking_through_kamailio(env, marked="2102")
    await env.runtime.reconcile({"chan-7", "leg-call-7-o2"})
    assert service.dispatcher.restored == {"call-7": ("2102", "call-7-o2")}


async def test_without_a_mark_the_stores_memory_names_the_operator(env: Env) -> None:
    row = SimpleNamespace(agent="2103", state="on_call", at=datetime.now(UTC), reason=None, call_id="call-7")
    service = await env.start(Store([row]))
    talking_through_kamailio(env, marked=None)
    await env.runtime.reconcile({"chan-7", "leg-call-7-o2"})
    assert service.dispatcher.restored == {"call-7": ("2103", "call-7-o2")}
