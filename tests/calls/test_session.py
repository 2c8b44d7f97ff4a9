"""CallSession against the recording ARI fake: facts in, the flow stepped, the record written."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ivr.ari.errors import AriServerError
from ivr.flows.events import Event, QueueDone
from tests.calls.fake_ari import chan_json, event, not_found
from tests.calls.harness import Harness, flow

ECHO = flow(
    """
name: echo
languages: [en]
entry: hello
nodes:
  hello: {type: say, prompt: Hello, next: digits}
  digits:
    type: collect
    prompt: {file: beep}
    var: digits
    max_length: 20
    terminator: "#"
    timeout: 5
    retries: 0
    next: readback
    on_failure: bye
  readback: {type: say, prompt: You entered, digits: "{digits}", next: bye}
  bye: {type: hangup, outcome: completed}
"""
)

TRANSFER = flow(
    """
name: xfer
languages: [en]
entry: go
nodes:
  go: {type: transfer, extension: "2001", timeout: 20, on_failure: sorry, after: thanks}
  sorry: {type: say, prompt: Nobody is free, next: bye}
  thanks: {type: say, prompt: Thanks, next: bye}
  bye: {type: hangup}
"""
)


def played(h: Harness) -> list[list[str]]:
    return [list(args[1]) for args, _ in h.ari.calls_to("channels.play")]


def finish_play(h: Harness, n: int = -1) -> None:
    _, kwargs = h.ari.calls_to("channels.play")[n]
    h.session.deliver(  # type: ignore[union-attr]
        event(
            "PlaybackFinished",
            playback={
                "id": kwargs["playback_id"],
                "media_uri": "x",
                "target_uri": "channel:caller-1",
                "language": "en",
                "state": "done",
            },
        )
    )


def dtmf(h: Harness, digits: str) -> None:
    for d in digits:
        h.session.deliver(
            event("ChannelDtmfReceived", channel=chan_json("caller-1"), digit=d, duration_ms=100)
        )  # type: ignore[union-attr]


@pytest.fixture
async def echo() -> AsyncIterator[Harness]:
    h = Harness(ECHO, channel_state="Ring")
    await h.start()
    yield h
    await h.close()


async def test_digits_are_read_back_with_their_digits_media(echo: Harness) -> None:
    h = echo
    assert h.ari.ops()[:2] == ["channels.answer", "channels.play"]
    finish_play(h)
    await h.until(lambda: len(played(h)) == 2)
    dtmf(h, "4271#")
    await h.until(lambda: len(played(h)) == 3)
    assert played(h)[2] == ["sound:tts/en/You entered", "digits:4271"]
    finish_play(h)
    await h.until(lambda: "channels.hangup" in h.ari.ops())
    assert h.ended() is None  # the record ends when Asterisk confirms the channel left
    h.session.deliver(event("StasisEnd", channel=chan_json("caller-1")))  # type: ignore[union-attr]
    await h.until(lambda: h.ended() is not None)
    assert h.ended() == ("completed", "ivr hung up")
    assert h.path() == ["hello", "digits", "readback", "bye"]
    assert h.ari.ops("channels.hangup") == ["channels.hangup"]
    inputs = h.store.named("input_taken")
    assert [a[3] for a, _ in inputs] == ["4271"]


async def test_caller_hangup_is_an_abandon_with_the_q850_cause(echo: Harness) -> None:
    h = echo
    h.session.deliver(event("ChannelHangupRequest", channel=chan_json("caller-1"), cause=16))  # type: ignore[union-attr]
    finish_play(h)  # a prompt cut short by the hangup must not move the caller on
    h.session.deliver(event("StasisEnd", channel=chan_json("caller-1")))  # type: ignore[union-attr]
    await h.until(lambda: h.ended() is not None)
    assert h.ended() == ("abandoned", "caller hung up (16 normal clearing)")
    assert h.path() == ["hello"]
    assert "channels.hangup" not in h.ari.ops()


async def test_caller_channel_gone_ends_the_session(echo: Harness) -> None:
    """A 404 on the caller's channel with no hangup reported yet: the call waits for the reason (here
    the StasisEnd of a caller who hung up, still on its way) and moves the caller on no further."""
    h = echo
    h.ari.fail("channels.play", not_found())
    finish_play(h)
    await h.until(lambda: len(h.ari.calls_to("channels.play")) == 2)
    await h.settle()
    assert h.ended() is None
    dtmf(h, "12#")  # keys pressed meanwhile are not taken by the flow (no read-back played)
    h.session.deliver(event("StasisEnd", channel=chan_json("caller-1")))  # type: ignore[union-attr]
    await h.until(lambda: h.ended() is not None)
    assert h.ended() == ("abandoned", "caller hung up")
    assert len(h.ari.calls_to("channels.play")) == 2
    assert h.task is not None and h.task.done()


async def test_a_channel_gone_because_asterisk_restarted_is_recorded_so(echo: Harness) -> None:
    """The race of an Asterisk restart: the next command reaches the new Asterisk (404) before the
    resync; the resync's verdict, not "caller hung up", is the call's end cause."""
    h = echo
    h.ari.fail("channels.play", not_found())
    finish_play(h)
    await h.until(lambda: len(h.ari.calls_to("channels.play")) == 2)
    await h.settle()
    assert h.ended() is None
    h.session.gone("Asterisk restarted")  # type: ignore[union-attr]
    await h.until(lambda: h.ended() is not None)
    assert h.ended() == ("abandoned", "Asterisk restarted")


async def test_a_vanished_channel_with_no_word_of_why_ends_after_a_while(
    echo: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No StasisEnd and no resync after a 404: the call is not kept forever."""
    monkeypatch.setattr("ivr.calls.session.VANISHED_WAIT_S", 0.05)
    h = echo
    h.ari.fail("channels.play", not_found())
    finish_play(h)
    await h.until(lambda: h.ended() is not None)
    assert h.ended() == ("abandoned", "channel no longer found by ARI")


async def test_a_failing_playback_continues_the_flow(echo: Harness) -> None:
    h = echo
    h.ari.fail("channels.play", AriServerError(500, "POST", "/channels/caller-1/play", "boom"), once=True)
    finish_play(h)  # hello done → collect's beep fails → the flow still waits for digits
    await h.until(lambda: len(played(h)) == 2)
    dtmf(h, "12#")
    await h.until(lambda: len(played(h)) == 3)
    assert played(h)[2][-1] == "digits:12"


async def test_stopping_the_controller_detaches_without_ending_the_record(echo: Harness) -> None:
    h = echo
    await h.close()
    assert h.ended() is None


async def test_an_unexpected_failure_hangs_up_as_failed() -> None:
    class BrokenRenderer:
        async def uris(self, prompts: object) -> list[str]:
            raise RuntimeError("renderer exploded")

    h = Harness(ECHO)
    try:
        h_renderer = BrokenRenderer()
        await h.start()
        h.session._deps = h.session._deps.__class__(**{**h.session._deps.__dict__, "renderer": h_renderer})  # type: ignore[union-attr]
        h.session.exec._renderer = h_renderer  # type: ignore[union-attr]
        finish_play(h)
        await h.until(lambda: h.ended() is not None)
        assert h.ended() == ("failed", "controller failure")
        assert h.ari.ops("channels.hangup") == ["channels.hangup"]
    finally:
        await h.close()


async def test_transfer_to_a_phone_that_does_not_exist_takes_on_failure() -> None:
    h = Harness(TRANSFER)
    h.ari.fail("channels.originate", AriServerError(500, "POST", "/channels", "Allocation failed"))
    try:
        await h.start()
        await h.until(lambda: "sorry" in h.path())
        assert h.path() == ["go", "sorry"]
        assert h.ari.ops("channels.start_moh") == ["channels.start_moh"]
        assert h.ari.ops("channels.stop_moh") == ["channels.stop_moh"]
    finally:
        await h.close()


@pytest.mark.parametrize(("cause", "answered", "expected"), [(17, False, "sorry"), (16, True, "thanks")])
async def test_busy_transfer_leg_takes_on_failure_and_answered_one_takes_after(
    cause: int, answered: bool, expected: str
) -> None:
    h = Harness(TRANSFER)
    try:
        await h.start()
        ((args, kwargs),) = h.ari.calls_to("channels.originate")
        assert args == ("PJSIP/2001",)
        leg = kwargs["channel_id"]
        assert leg.startswith("leg-call-1-xfer") and kwargs["app_args"].startswith("leg:")
        assert h.legs.owner(leg) is not None
        if answered:
            h.session.deliver(event("StasisStart", channel=chan_json(leg), args=["leg:transfer:call-1"]))  # type: ignore[union-attr]
            await h.until(lambda: bool(h.ari.calls_to("bridges.add_channel")))
            ((bargs, _),) = h.ari.calls_to("bridges.add_channel")
            assert list(bargs[1]) == ["caller-1", leg]
        h.session.deliver(event("ChannelDestroyed", channel=chan_json(leg), cause=cause, cause_txt="x"))  # type: ignore[union-attr]
        await h.until(lambda: expected in h.path())
        assert h.path() == ["go", expected]
        assert h.legs.owner(leg) is None
        if answered:  # the caller is out of the bridge before it goes and before `after` plays
            ops = h.ari.ops()
            last_play = max(i for i, op in enumerate(ops) if op == "channels.play")
            assert ops.index("bridges.remove_channel") < ops.index("bridges.destroy") < last_play
            assert h.ari.calls_to("bridges.remove_channel") == [((bargs[0], ["caller-1"]), {})]
    finally:
        await h.close()


async def test_caller_leaving_during_transfer_hangs_the_leg_up() -> None:
    h = Harness(TRANSFER)
    try:
        await h.start()
        ((_, kwargs),) = h.ari.calls_to("channels.originate")
        h.session.deliver(event("StasisEnd", channel=chan_json("caller-1")))  # type: ignore[union-attr]
        await h.until(lambda: any(a[0] == kwargs["channel_id"] for a, _ in h.ari.calls_to("channels.hangup")))
    finally:
        await h.close()


class RecordingQueue:
    def __init__(self) -> None:
        self.entered: list[object] = []
        self.left: list[tuple[str, str]] = []
        self.post: object = None

    def enter(self, request: object, post: object) -> None:
        self.entered.append(request)
        self.post = post

    def leave(self, call_id: str, reason: str) -> None:
        self.left.append((call_id, reason))


QUEUED = flow(
    """
name: q
languages: [ja, en]
entry: q
nodes:
  q: {type: queue, queue: returns, priority: 5, on_no_agents: sorry, after: bye}
  sorry: {type: say, prompt: {ja: すみません, en: Sorry}, next: bye}
  bye: {type: hangup}
"""
)


async def test_queue_port_gets_the_call_and_its_answer_moves_the_flow() -> None:
    queue = RecordingQueue()
    h = Harness(QUEUED, queue=queue)
    try:
        await h.start()
        (request,) = queue.entered
        assert (request.queue, request.priority, request.lang, request.call_id) == (
            "returns",
            5,
            "ja",
            "call-1",
        )  # type: ignore[attr-defined]
        assert request.caller_number == "0312345678"  # type: ignore[attr-defined]
        queue.post(QueueDone("returns", "answered", agent="2101"))  # type: ignore[operator]
        await h.until(lambda: "channels.hangup" in h.ari.ops())
        h.session.deliver(event("StasisEnd", channel=chan_json("caller-1")))  # type: ignore[union-attr]
        await h.until(lambda: h.ended() is not None)
        assert h.ended() == ("completed", "ivr hung up")
        assert queue.left == []  # it left the queue through the ACD's answer, nothing to tell it
    finally:
        await h.close()


async def test_caller_hanging_up_in_queue_leaves_the_queue() -> None:
    queue = RecordingQueue()
    h = Harness(QUEUED, queue=queue)
    try:
        await h.start()
        h.session.deliver(event("StasisEnd", channel=chan_json("caller-1")))  # type: ignore[union-attr]
        await h.until(lambda: h.ended() is not None)
        assert queue.left == [("call-1", "caller hung up")]
        assert h.ended() == ("abandoned", "caller hung up")
    finally:
        await h.close()


async def test_without_an_acd_queues_answer_no_agents() -> None:
    h = Harness(QUEUED)
    try:
        await h.start()
        await h.until(lambda: "sorry" in h.path())
        assert h.path() == ["q", "sorry"]
    finally:
        await h.close()


SURVEYED = flow(
    """
name: s
languages: [en]
entry: q
nodes:
  q: {type: queue, queue: orders, on_no_agents: bye, after: ask}
  ask:
    type: survey
    prompt: How satisfied were you?
    no_input: Sorry, I did not get that.
    timeout: 0.05
    next: thanks
  thanks: {type: hangup}
  bye: {type: hangup}
"""
)


def playback(h: Harness, kind: str, n: int = -1) -> None:
    _, kwargs = h.ari.calls_to("channels.play")[n]
    body = {"id": kwargs["playback_id"], "media_uri": "x", "target_uri": "channel:caller-1", "state": "done"}
    h.session.deliver(event(kind, playback={**body, "language": "en"}))  # type: ignore[union-attr]


async def test_a_survey_prompt_asterisk_never_plays_times_out_to_the_surveys_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bench.cluster, caller 923400005: the operator hung up, the flow reached the survey and its prompt
    was accepted by Asterisk but never played (no PlaybackStarted, no PlaybackFinished): the node waited
    forever and the call stayed up. The watchdog counts the prompt as stopped: the survey's no-input
    timer runs, it asks again, and without an answer the call ends through ``next``."""
    monkeypatch.setattr("ivr.calls.executor.PLAYBACK_START_TIMEOUT_S", 0.05)
    queue = RecordingQueue()
    h = Harness(SURVEYED, queue=queue)
    try:
        await h.start()
        queue.post(QueueDone("orders", "answered", agent="2101"))  # type: ignore[operator]
        await h.until(lambda: h.path() == ["q", "ask"])
        await h.until(lambda: len(h.ari.calls_to("playbacks.stop")) == 1)
        lost = h.ari.calls_to("channels.play")[0][1]["playback_id"]
        assert h.ari.calls_to("playbacks.stop") == [((lost,), {})]
        monkeypatch.setattr("ivr.calls.executor.PLAYBACK_START_TIMEOUT_S", 60.0)  # the retry plays
        await h.until(lambda: len(played(h)) == 2)  # asked again: the watchdog moved the node on
        assert played(h)[1][0] == "sound:tts/en/Sorry, I did not get"
        playback(h, "PlaybackStarted")
        playback(h, "PlaybackFinished")  # the retry plays; nobody answers; the survey ends
        await h.until(lambda: "channels.hangup" in h.ari.ops())
        assert h.path() == ["q", "ask", "thanks"]
        assert len(h.ari.calls_to("playbacks.stop")) == 1  # the prompt that played was left alone
    finally:
        await h.close()


def _unused(_: Event) -> None:
    return None
