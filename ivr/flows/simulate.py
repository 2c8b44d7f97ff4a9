"""Step a flow in the terminal, without Asterisk, with the same ``FlowEngine`` real calls use.

Prints what the caller would hear, the inputs, the nodes and where the call goes. Playback finishes at
once; lookups are performed for real (HTTP, short timeout); queues answer ``no_agents`` (as the session
does until the ACD exists) unless told otherwise.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime

from ivr.flows import commands as c
from ivr.flows.engine import CallContext, CallState, FlowEngine
from ivr.flows.events import (
    DtmfReceived,
    Event,
    LookupDone,
    PlaybackDone,
    QueueDone,
    RecordingDone,
    SpeechDropped,
    SpeechRecognized,
    TimerFired,
    TransferDone,
)
from ivr.flows.lookups import BODY_LIMIT, lookup_result
from ivr.flows.model import Flow
from ivr.flows.prompts import Digits, Prompt, SoundFile, Speak
from ivr.speech_text import digits_to_words

DTMF_KEYS = set("0123456789*#ABCD")
NO_INPUT_TOKENS = {"-", "timeout", ""}
SPEECH_PREFIX = "say:"
"""``say:4271`` is speech even when it looks like keys (a spoken digit string for a ``collect``)."""
ASR_BUSY_INPUT = "asr-busy"
"""The recogniser pool was full for the caller's utterance (``SpeechDropped``): keys only from then on."""

LookupFn = Callable[[c.HttpLookup], LookupDone]


def http_lookup(cmd: c.HttpLookup) -> LookupDone:
    """Perform the lookup for real with the command's timeout (capped at 5 s); the answer is judged by
    ``lookup_result``, exactly as on a real call."""
    if not cmd.url.startswith(("http://", "https://")):
        return lookup_result(cmd.request_id, None, None, f"not an http(s) URL: {cmd.url}")
    data = None if cmd.body is None else json.dumps(cmd.body).encode()
    req = urllib.request.Request(cmd.url, data=data, method=cmd.method)  # noqa: S310 (scheme checked)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=min(cmd.timeout_s, 5.0)) as resp:  # noqa: S310
            return lookup_result(cmd.request_id, resp.status, resp.read(BODY_LIMIT + 1))
    except urllib.error.HTTPError as exc:
        return lookup_result(cmd.request_id, exc.code, exc.read(BODY_LIMIT + 1))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return lookup_result(cmd.request_id, None, None, str(exc) or type(exc).__name__)


def hear(prompt: Prompt) -> str:
    if isinstance(prompt, Speak):
        return prompt.text
    if isinstance(prompt, Digits):
        return digits_to_words(prompt.digits, prompt.lang)
    if isinstance(prompt, SoundFile):
        return f"[sound {prompt.name}]"
    return f"[silence {prompt.ms} ms]"


def input_events(token: str, lang: str) -> list[Event] | None:
    """Events for one ``--input`` token; None means "no input" (the pending timer fires)."""
    token = token.strip()
    if token.lower() in NO_INPUT_TOKENS:
        return None
    if token.lower() == ASR_BUSY_INPUT:
        return [SpeechDropped(lang)]
    if token.lower().startswith(SPEECH_PREFIX):
        return [SpeechRecognized(token[len(SPEECH_PREFIX) :].strip(), 1.0, lang)]
    if all(ch in DTMF_KEYS for ch in token):
        return [DtmfReceived(ch) for ch in token]
    return [SpeechRecognized(token, 1.0, lang)]


class Simulator:
    def __init__(
        self,
        flow: Flow,
        *,
        lang: str | None = None,
        now: datetime,
        caller: str = "0312345678",
        dialed: str = "",
        lookup: LookupFn = http_lookup,
        queue_outcome: str = "no_agents",
        transfer_outcome: str = "answered",
        out: Callable[[str], None] = print,
        site_vars: dict[str, str] | None = None,
    ) -> None:
        self.engine = FlowEngine(flow)
        self.ctx = CallContext("sim", caller, None, dialed, lang, now, site_vars or {})
        self.now = now
        self.lookup = lookup
        self.queue_outcome = queue_outcome
        self.transfer_outcome = transfer_outcome
        self.out = out
        self.commands: list[c.Command] = []  # everything the engine asked for, in order
        self.pending: deque[Event] = deque()
        self.timers: dict[str, float] = {}
        self.state: CallState | None = None

    def _say(self, text: str) -> None:
        self.out(text)

    def _apply(self, cmds: list[c.Command]) -> None:
        assert self.state is not None
        for cmd in cmds:
            self.commands.append(cmd)
            if isinstance(cmd, c.Play):
                for prompt in cmd.prompts:
                    self._say(f"  🔊 {hear(prompt)}")
                self.pending.append(PlaybackDone(cmd.play_id))
            elif isinstance(cmd, c.StartTimer):
                self.timers.pop(cmd.name, None)
                self.timers[cmd.name] = cmd.seconds
            elif isinstance(cmd, c.CancelTimer):
                self.timers.pop(cmd.name, None)
            elif isinstance(cmd, c.NodeEntered):
                self._say(f"[{cmd.node_id}]")
            elif isinstance(cmd, c.InputTaken):
                self._say(f"  ⌨ {cmd.kind}: {cmd.value}")
            elif isinstance(cmd, c.SetLanguage):
                self._say(f"  (language: {cmd.lang})")
            elif isinstance(cmd, c.HttpLookup):
                done = self.lookup(cmd)
                status = f"{done.status}" if done.status is not None else done.error
                self._say(f"  ⇄ {cmd.method} {cmd.url} → {'ok' if done.ok else 'failed'} ({status})")
                self.pending.append(done)
            elif isinstance(cmd, c.EnterQueue):
                self._say(f"  → queue {cmd.queue} (priority {cmd.priority}) → {self.queue_outcome}")
                self.pending.append(QueueDone(cmd.queue, self.queue_outcome))
            elif isinstance(cmd, c.Transfer):
                self._say(f"  → transfer to {cmd.target} → {self.transfer_outcome}")
                self.pending.append(TransferDone(cmd.target, self.transfer_outcome))
            elif isinstance(cmd, c.RecordMessage):
                self._say(f"  ● recording message {cmd.name} (max {cmd.max_s:g} s)")
                self.pending.append(RecordingDone(cmd.name, 10.0, True))
            elif isinstance(cmd, c.CallbackRequested):
                self._say(f"  ☎ callback requested: {cmd.number} ({cmd.preferred_time or 'any time'})")
            elif isinstance(cmd, c.SurveyAnswered):
                self._say(f"  ★ survey score {cmd.score}")
            elif isinstance(cmd, c.OutcomeSet):
                self._say(f"  (outcome: {cmd.outcome})")
            elif isinstance(cmd, c.Hangup):
                self._say("  ✆ hang up")

    def _feed(self, event: Event) -> None:
        assert self.state is not None
        step = self.engine.step(self.state, event, self.now)
        self.state = step.state
        self._apply(step.commands)

    def run(self, inputs: Iterator[str | None]) -> CallState:
        """Run until the call ends or the inputs run out (``None`` from ``inputs`` = caller hangs up)."""
        step = self.engine.start(self.ctx)
        self.state = step.state
        self._apply(step.commands)
        while not self.state.finished:
            if self.pending:
                self._feed(self.pending.popleft())
                continue
            if not self.timers:
                self._say("(the flow waits for something the simulator cannot provide)")
                break
            token = next(inputs, None)
            if token is None:
                self._say("(caller hangs up)")
                break
            events = input_events(token, self.state.lang)
            if events is None:
                name = list(self.timers)[-1]
                seconds = self.timers.pop(name)
                self._say(f"  … no input ({seconds:g} s)")
                events = [TimerFired(name)]
            for ev in events:
                self._feed(ev)
                while self.pending and isinstance(self.pending[0], PlaybackDone):
                    self._feed(self.pending.popleft())
        return self.state


def split_inputs(text: str) -> list[str]:
    return [t.strip() for t in text.split(",")]
