"""``CallLog``: one call's record as its session writes it. Every write goes through the store's
write-behind queue, so a slow or dead database never blocks or ends a call."""

from __future__ import annotations

from datetime import datetime

from ivr.flows import commands as c
from ivr.store.write_behind import CallRecorder


class CallLog:
    def __init__(self, recorder: CallRecorder, call_id: str) -> None:
        self._recorder = recorder
        self.call_id = call_id

    def started(
        self,
        *,
        channel_id: str,
        caller_number: str,
        caller_name: str,
        dialed: str,
        flow: str,
        at: datetime,
    ) -> None:
        self._recorder.submit(
            lambda store: store.call_started(
                call_id=self.call_id,
                channel_id=channel_id,
                caller_number=caller_number,
                caller_name=caller_name,
                dialed=dialed,
                flow=flow,
                started_at=at,
            )
        )

    def answered(self, at: datetime) -> None:
        self._recorder.submit(lambda store: store.call_answered(self.call_id, at))

    def node_entered(self, node_id: str, at: datetime) -> None:
        self._recorder.submit(lambda store: store.node_entered(self.call_id, node_id, at))

    def input_taken(self, cmd: c.InputTaken, at: datetime) -> None:
        self._recorder.submit(
            lambda store: store.input_taken(self.call_id, cmd.node_id, cmd.kind, cmd.value, cmd.sensitive, at)
        )

    def queue_entered(self, queue: str, at: datetime) -> None:
        self._recorder.submit(lambda store: store.queue_entered(self.call_id, queue, at))

    def callback_requested(self, cmd: c.CallbackRequested, at: datetime) -> None:
        self._recorder.submit(
            lambda store: store.callback_requested(self.call_id, cmd.number, cmd.preferred_time, cmd.note, at)
        )

    def survey_answered(self, score: int, at: datetime) -> None:
        self._recorder.submit(lambda store: store.survey_answered(self.call_id, score, at))

    def ended(self, at: datetime, outcome: str, cause: str | None) -> None:
        self._recorder.submit(lambda store: store.call_ended(self.call_id, at, outcome, cause))
