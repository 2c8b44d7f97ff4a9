"""``queue``: hold music, announcements, the operator connected, the callback key, type-ahead."""

from __future__ import annotations

from ivr.flows import commands as c
from ivr.flows.events import AgentConnected, BackInQueue, QueueDone, QueueStatus
from ivr.prompts import Speak
from tests.flows.verbs.drive import Call, load

FLOW = """
name: q
languages: [ja, en]
entry: q
nodes:
  q:
    type: queue
    queue: returns
    prompt: {ja: おつなぎします, en: Connecting you}
    after: bye
    on_no_agents: menu
    callback_key: "8"
    on_callback: cb
  menu:
    type: menu
    prompt: {ja: どうぞ, en: Please choose}
    options: {"9": {goto: bye}}
  cb: {type: callback, prompt: {ja: おりかえします, en: We will call back}, next: bye}
  bye: {type: hangup}
"""


def queued(lang: str = "en") -> Call:
    call = Call(load(FLOW), lang=lang)
    out = call.prompt_ends()
    assert c.EnterQueue("returns", 0, {}, 300.0) in out
    assert c.Moh(True) in out
    return call


def test_waiting_callers_hear_music_then_their_place_in_their_language() -> None:
    call = queued("ja")
    out = call.send(QueueStatus("returns", 7, 170))
    assert out[0] == c.Moh(False)
    (play,) = call.of(c.Play)[-1:]
    (speak,) = play.prompts
    assert isinstance(speak, Speak) and speak.lang == "ja"
    assert "なな番目" in speak.text and "さんぷん" in speak.text  # 7 is nana; 170 s is about 3 minutes
    assert "はち番を押して" in speak.text  # the callback key
    assert call.prompt_ends() == [c.Moh(True)]


def test_english_announcement_and_no_second_one_over_the_first() -> None:
    call = queued()
    call.send(QueueStatus("returns", 1, 30))
    (speak,) = call.playing().prompts
    assert isinstance(speak, Speak)
    assert "next in line" in speak.text and "one minute" in speak.text and "press eight" in speak.text
    assert call.send(QueueStatus("returns", 1, 30)) == []  # still speaking: not interrupted


def test_operator_connected_stops_the_music_and_the_call_is_completed() -> None:
    call = queued()
    out = call.send(AgentConnected("returns", "2101"))
    assert c.Moh(False) in out and c.OutcomeSet("completed") in out
    assert call.state.vars["queue.agent"] == "2101"
    assert call.press("8") == []  # talking: the callback key means nothing
    out = call.send(QueueDone("returns", "answered", "2101"))
    assert [x.node_id for x in out if isinstance(x, c.NodeEntered)] == ["bye"]
    assert call.state.outcome == "completed"


def test_callback_key_leaves_the_queue_keeping_the_place_for_the_callers_number() -> None:
    call = queued()
    out = call.press("8")
    assert c.LeaveQueue("returns", "0312345678") in out
    assert c.Moh(False) in out
    assert [x.node_id for x in out if isinstance(x, c.NodeEntered)] == ["cb"]


def test_keys_during_the_intro_are_kept_for_the_next_menu() -> None:
    call = Call(load(FLOW), lang="en")
    assert call.press("9") == []  # the intro still plays: kept, not lost
    call.prompt_ends()
    out = call.send(QueueDone("returns", "no_agents"))
    assert [x.node_id for x in out if isinstance(x, c.NodeEntered)] == ["menu", "bye"]


def test_escalated_caller_waits_again_with_music() -> None:
    call = queued()
    call.send(AgentConnected("returns", "2101"))
    assert call.send(BackInQueue("orders")) == [c.Moh(True)]
    assert call.state.vars["queue.escalated_to"] == "orders"


def test_leaving_the_node_without_the_acds_answer_gives_the_place_up() -> None:
    from ivr.flows.verbs.base import VerbCtx
    from tests.flows.verbs.drive import NOW

    call = queued()
    verb = call.engine.flow.nodes["q"]
    assert c.LeaveQueue("returns") in verb.cancel(VerbCtx(call.state, "q", NOW))


def test_keys_typed_before_the_queue_node_pass_through_it_once() -> None:
    """Keys typed during an earlier announcement reach the queue node (replayed once each), which
    hands back those it does not take: they reach the menu after it. (This once looped forever.)"""
    flow = FLOW.replace("entry: q", "entry: hello").replace(
        "nodes:\n", "nodes:\n  hello: {type: say, prompt: {ja: こんにちは, en: Hello}, next: q}\n"
    )
    call = Call(load(flow), lang="en")
    call.press("9")  # during "Hello" (no input taken there): type-ahead
    out = call.prompt_ends()  # the queue node starts: the key is offered to it once
    assert [x.node_id for x in out if isinstance(x, c.NodeEntered)] == ["q"]
    assert call.state.typeahead == "9"
    call.prompt_ends()
    out = call.send(QueueDone("returns", "no_agents"))
    assert [x.node_id for x in out if isinstance(x, c.NodeEntered)] == ["menu", "bye"]


SCREEN_POP_FLOW = """
name: pop
languages: [en]
entry: card
nodes:
  card:
    type: collect
    prompt: {en: Card number}
    var: card
    sensitive: true
    min_length: 4
    next: size
  size: {type: set, vars: {size: L}, next: q}
  q:
    type: queue
    queue: orders
    attributes: {topic: order_line, size: "{size}", card: "{card}", caller: "{caller.number}"}
    after: bye
    on_no_agents: bye
  bye: {type: hangup}
"""


def test_attributes_carry_what_the_flow_collected_but_never_a_sensitive_value() -> None:
    from ivr.flows.events import DtmfReceived

    call = Call(load(SCREEN_POP_FLOW), lang="en")
    call.prompt_ends()
    for key in "4111#":
        call.send(DtmfReceived(key))
    [enter] = call.of(c.EnterQueue)
    assert enter.attributes == {"topic": "order_line", "size": "L", "card": "", "caller": "0312345678"}
