"""CommandExecutor: only the caller's own channel being gone ends a call."""

from __future__ import annotations

import pytest

from ivr.ari.errors import AriServerError
from ivr.calls.call_log import CallLog
from ivr.calls.executor import ChannelGone, CommandExecutor
from ivr.calls.legs import LegRegistry
from ivr.calls.lifecycle import CallLife
from ivr.flows import commands as c
from ivr.flows.events import Event, PlaybackDone, QueueDone, TransferDone
from ivr.flows.prompts import Digits, Speak
from tests.calls.fake_ari import FakeAri, not_found, not_in_stasis
from tests.calls.harness import ImmediateRecorder, NamingRenderer, RecordingStore


def make(ari: FakeAri, posted: list[Event], **kw: object) -> tuple[CommandExecutor, CallLife, RecordingStore]:
    store = RecordingStore()
    life = CallLife()
    ex = CommandExecutor(
        call_id="call-1",
        channel_id="caller-1",
        ari=ari,  # type: ignore[arg-type]
        renderer=NamingRenderer(),
        http=None,  # type: ignore[arg-type]
        log_=CallLog(ImmediateRecorder(store), "call-1"),  # type: ignore[arg-type]
        life=life,
        post=posted.append,
        spawn=lambda coro: coro.close(),
        legs=LegRegistry(),
        leg_owner=lambda event: None,
        caller_number="0312345678",
        **kw,  # type: ignore[arg-type]
    )
    return ex, life, store


async def test_answer_is_a_fact_recorded_once() -> None:
    ari, posted = FakeAri(), []
    ex, life, store = make(ari, posted)
    await ex.execute(c.Answer())
    await ex.execute(c.Answer())
    assert ari.ops() == ["channels.answer"]
    assert life.answered
    assert len(store.named("call_answered")) == 1


async def test_play_sends_every_prompt_including_digits_in_one_request() -> None:
    ari, posted = FakeAri(), []
    ex, _, _ = make(ari, posted)
    await ex.execute(c.Play("play-1", (Speak("You entered", "en"), Digits("4271", "en"))))
    ((args, kwargs),) = ari.calls_to("channels.play")
    assert args == ("caller-1", ["sound:tts/en/You entered", "digits:4271"])
    assert kwargs["playback_id"] == "pb-call-1-play-1"


@pytest.mark.parametrize("error", [not_found(), not_in_stasis()])
async def test_caller_channel_errors_mean_the_call_is_gone(error: Exception) -> None:
    ari, posted = FakeAri(), []
    ex, _, _ = make(ari, posted)
    ari.fail("channels.hangup", error)
    with pytest.raises(ChannelGone):
        await ex.execute(c.Hangup())


async def test_a_404_on_a_playback_or_a_leg_is_not_the_call_ending() -> None:
    ari, posted = FakeAri(), []
    ex, _, _ = make(ari, posted)
    await ex.execute(c.Play("play-1", (Speak("hi", "en"),)))
    ari.fail("playbacks.stop", not_found("/playbacks/x"))
    await ex.execute(c.StopPlayback("play-1"))  # finished on its own meanwhile: fine
    ari.fail("channels.originate", not_found("/channels"))
    await ex.execute(c.Transfer("2999", 10))
    assert posted == [TransferDone("2999", "failed")]


async def test_a_prompt_asterisk_cannot_stop_yet_is_not_the_call_ending() -> None:
    ari, posted = FakeAri(), []
    ex, _, _ = make(ari, posted)
    await ex.execute(c.Play("play-1", (Speak("hi", "en"),)))
    ari.fail("playbacks.stop", AriServerError(500, "DELETE", "/playbacks/x", "Could not stop playback"))
    await ex.execute(c.StopPlayback("play-1"))  # no exception: the prompt plays on, the call goes on
    await ex.execute(c.Hangup())
    assert ari.ops("channels.hangup") == ["channels.hangup"]


async def test_a_prompt_is_stopped_once_even_when_asked_twice() -> None:
    ari, posted = FakeAri(), []
    ex, _, _ = make(ari, posted)
    await ex.execute(c.Play("play-1", (Speak("hi", "en"),)))
    await ex.execute(c.StopPlayback("play-1"))
    await ex.execute(c.StopPlayback("play-1"))
    assert ari.ops("playbacks.stop") == ["playbacks.stop"]


async def test_queue_request_carries_language_and_caller_and_leave_on_shutdown() -> None:
    class Port:
        def __init__(self) -> None:
            self.entered: list[object] = []
            self.left: list[tuple[str, str]] = []

        def enter(self, request: object, post: object) -> None:
            self.entered.append(request)

        def leave(self, call_id: str, reason: str) -> None:
            self.left.append((call_id, reason))

    ari, posted = FakeAri(), []
    port = Port()
    ex, _, store = make(ari, posted, queue=port)
    await ex.execute(c.SetLanguage("en"))
    await ex.execute(c.EnterQueue("orders", priority=3))
    (req,) = port.entered
    assert (req.queue, req.lang, req.priority, req.caller_number) == ("orders", "en", 3, "0312345678")  # type: ignore[attr-defined]
    assert [a[1] for a, _ in store.named("queue_entered")] == ["orders"]
    ex.shutdown(detaching=True)
    assert port.left == []  # a controller stop keeps the place for the next controller
    ex.shutdown(detaching=False)
    assert port.left == [("call-1", "caller hung up")]


async def test_without_acd_queue_answers_no_agents() -> None:
    ari, posted = FakeAri(), []
    ex, _, _ = make(ari, posted)
    await ex.execute(c.EnterQueue("orders"))
    assert posted == [QueueDone("orders", "no_agents")]


async def test_a_resumed_caller_reenters_its_queue_with_its_original_arrival() -> None:
    from datetime import UTC, datetime

    class Port:
        def __init__(self) -> None:
            self.entered: list[object] = []

        def enter(self, request: object, post: object) -> None:
            self.entered.append(request)

        def leave(self, call_id: str, reason: str, **kw: object) -> None:
            return None

    arrived = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    ari, posted, port = FakeAri(), [], Port()
    ex, _, store = make(ari, posted, queue=port, queued=("orders", arrived))
    await ex.execute(c.EnterQueue("orders"))
    await ex.execute(c.EnterQueue("orders"))  # a later wait (another visit) is a new arrival
    first, second = port.entered
    assert first.entered_at == arrived  # type: ignore[attr-defined]
    assert second.entered_at > arrived  # type: ignore[attr-defined]
    assert len(store.named("queue_entered")) == 1  # the resumed wait is not recorded twice


# --- the playback watchdog (a prompt Asterisk accepted but never plays) ----------------------------

WATCH = "~playback-start:play-1"


async def test_a_prompt_that_never_starts_counts_as_stopped_and_is_stopped_in_case_it_starts_late() -> None:
    ari, posted = FakeAri(), []
    ex, _, _ = make(ari, posted)
    await ex.execute(c.Play("play-1", (Speak("How satisfied were you", "en"),)))
    assert len(ex.timers) == 1  # the watchdog is armed once Asterisk accepted the prompt
    done = await ex.playback_overdue(WATCH)
    assert done == PlaybackDone("play-1", stopped=True)
    assert ari.calls_to("playbacks.stop") == [(("pb-call-1-play-1",), {})]
    assert "play-1" not in ex.active_plays
    assert await ex.playback_overdue(WATCH) is None  # once


async def test_a_prompt_that_started_is_left_alone_by_the_watchdog() -> None:
    ari, posted = FakeAri(), []
    ex, _, _ = make(ari, posted)
    await ex.execute(c.Play("play-1", (Speak("hi", "en"),)))
    ex.playback_started("pb-call-1-play-1")
    assert len(ex.timers) == 0
    assert await ex.playback_overdue(WATCH) is None
    assert ari.calls_to("playbacks.stop") == []


async def test_a_prompt_waiting_behind_one_that_plays_is_not_lost_until_that_one_ends() -> None:
    ari, posted = FakeAri(), []
    ex, _, _ = make(ari, posted)
    await ex.execute(c.Play("play-1", (Speak("first", "en"),)))
    ex.playback_started("pb-call-1-play-1")
    await ex.execute(c.Play("play-2", (Speak("second", "en"),)))
    assert await ex.playback_overdue("~playback-start:play-2") is None
    assert len(ex.timers) == 1  # watched again
    ex.playback_finished("play-1")
    assert await ex.playback_overdue("~playback-start:play-2") == PlaybackDone("play-2", stopped=True)


async def test_a_prompt_asterisk_refused_is_not_watched() -> None:
    ari, posted = FakeAri(), []
    ex, _, _ = make(ari, posted)
    ari.fail("channels.play", AriServerError(500, "POST", "/channels/caller-1/play", "boom"))
    await ex.execute(c.Play("play-1", (Speak("hi", "en"),)))
    assert posted == [PlaybackDone("play-1", stopped=True)]
    assert len(ex.timers) == 0
