"""Recordings and listening in, attached to a running ACD: what the wiring (``ivr/app.py``) connects to
the call manager (recording events) and to the web routes (pause, listen)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd.listen_in import ListenIn, conversation_in
from acd.recordings import ConversationRecorder, Write
from acd.service import AcdService
from ivr.calls.legs import LegRegistry


@dataclass
class RecordingFeatures:
    recorder: ConversationRecorder
    listen_in: ListenIn

    @classmethod
    def attach(
        cls,
        *,
        ari: Any,
        legs: LegRegistry,
        service: AcdService,
        spool: Path,
        recordings_dir: Path,
        submit: Callable[[Write], object],
    ) -> RecordingFeatures:
        """Build both and hook the recorder into the ACD's commands (``RecordConversation``)."""
        conversations = service.dispatcher.conversations

        def bridge_of(call_id: str) -> str | None:
            conversation = conversations.get(call_id)
            return conversation.bridge_id if conversation is not None else None

        recorder = ConversationRecorder(
            ari=ari, bridge_of=bridge_of, spool=spool, recordings_dir=recordings_dir, submit=submit
        )
        service.command_hooks.append(recorder.on_command)
        listen_in = ListenIn(ari=ari, legs=legs, conversation_of=conversation_in(service.dispatcher))
        return cls(recorder, listen_in)

    async def set_paused(self, call_id: str, paused: bool, reason: str, by: str | None) -> bool:
        return await self.recorder.set_paused(call_id, paused, reason=reason, by=by)

    async def listen(self, call_id: str, mode: str, endpoint: str) -> dict[str, Any]:
        return dict(await self.listen_in.start(call_id, mode, endpoint))

    async def close(self) -> None:
        await self.listen_in.close()
        await self.recorder.close()
