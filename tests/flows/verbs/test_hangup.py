"""``hangup``: an optional goodbye (not interruptible), then the call ends with the given outcome."""

from __future__ import annotations

from ivr.flows import commands as c
from ivr.flows.events import PlaybackDone
from ivr.flows.prompts import Speak

from .drive import Call, load

FLOW = """
name: t
languages: [en]
entry: bye
nodes:
  bye:
    type: hangup
    prompt: Goodbye.
    outcome: voicemail
"""


def test_goodbye_is_played_then_the_call_hangs_up_with_its_outcome() -> None:
    call = Call(load(FLOW))
    play = call.playing()
    assert call.last == [c.Answer(), c.SetLanguage("en"), c.NodeEntered("bye"), play]
    assert play.prompts == (Speak("Goodbye.", "en"),) and not play.barge_in
    assert call.press("5") == []  # a key during the goodbye changes nothing
    assert call.prompt_ends() == [c.OutcomeSet("voicemail"), c.Hangup()]
    assert call.state.finished and call.path == ["bye"]
    assert call.press("1") == []  # nothing happens after the end


def test_hangup_without_prompt_ends_at_once_and_without_outcome_sets_none() -> None:
    call = Call(load("name: t\nlanguages: [en]\nentry: bye\nnodes:\n  bye: {type: hangup}\n"))
    assert call.log == [c.Answer(), c.SetLanguage("en"), c.NodeEntered("bye"), c.Hangup()]
    assert call.state.finished and call.state.outcome is None


def test_only_the_goodbyes_own_playback_ends_the_call() -> None:
    call = Call(load(FLOW))
    assert call.send(PlaybackDone("play-999")) == []
    assert not call.state.finished
