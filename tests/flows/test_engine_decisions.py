"""Decisions the engine owns: barge-in on announcements and the call's outcome."""

from __future__ import annotations

from ivr.flows import commands as c
from ivr.flows.events import DtmfReceived, PlaybackDone
from tests.flows.verbs.drive import Call, load

ANNOUNCE = """
name: announce
languages: [en]
entry: news
nodes:
  news: {type: say, prompt: Some news, barge_in: true, next: menu}
  menu:
    type: menu
    prompt: Press 1
    options: {"1": {goto: bye}}
  bye: {type: hangup, outcome: completed}
"""


def test_a_key_stops_a_barge_in_announcement_once_and_reaches_the_next_menu() -> None:
    call = Call(load(ANNOUNCE))
    (play,) = [x for x in call.log if isinstance(x, c.Play)]
    stop = call.send(DtmfReceived("1"))
    assert stop == [c.StopPlayback(play.play_id)]
    assert call.send(DtmfReceived("1")) == []  # already being stopped: not asked twice
    out = call.send(PlaybackDone(play.play_id, stopped=True))
    assert [x.node_id for x in out if isinstance(x, c.NodeEntered)] == ["menu", "bye"]  # type-ahead fed


def test_a_key_does_not_stop_an_announcement_without_barge_in() -> None:
    call = Call(load(ANNOUNCE.replace("barge_in: true", "barge_in: false")))
    assert call.send(DtmfReceived("1")) == []


CALLBACK = """
name: cb
languages: [en]
entry: ask
nodes:
  ask: {type: callback, prompt: We will call you back, next: thanks}
  thanks: {type: say, prompt: Thanks}
"""


def test_outcome_set_mid_flow_is_the_calls_outcome_without_a_second_command() -> None:
    call = Call(load(CALLBACK))
    (play,) = [x for x in call.log if isinstance(x, c.Play)]
    out = call.send(PlaybackDone(play.play_id))
    assert c.OutcomeSet("callback") in out
    assert call.state.outcome == "callback"
    (thanks,) = [x for x in out if isinstance(x, c.Play)]
    end = call.send(PlaybackDone(thanks.play_id))
    assert not any(isinstance(x, c.OutcomeSet) for x in end)
    assert call.state.finished and call.state.outcome == "callback"
