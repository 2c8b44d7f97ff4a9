"""An operator dialled a feature code (``*21`` …): change the agent's state, confirm, hang up."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from acd.agents import TransitionNotAllowed
from acd.distributor import UnknownAgent
from acd.feature_codes import agent_of_channel, parse_feature
from acd.service import AcdService
from ivr.ari.errors import AriError
from ivr.ari.events import StasisStart
from ivr.calls.ports import AriPort

log = logging.getLogger(__name__)

CONFIRM_S = 2.5
SOUNDS = {"available": "sound:agent-loginok", "logged_out": "sound:agent-loggedoff", "paused": "sound:beep"}
REFUSED = "sound:im-sorry"


class PhoneFeatures:
    def __init__(self, ari: AriPort, service: AcdService) -> None:
        self._ari = ari
        self._service = service
        self._tasks: set[asyncio.Task[None]] = set()

    def on_stasis_start(self, event: StasisStart) -> None:
        """Manager handler for channels entering the app with ``feature,<code>``."""
        task = asyncio.get_running_loop().create_task(self._serve(event), name="feature-code")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, event: StasisStart) -> None:
        channel = event.channel
        code = event.args[1] if len(event.args) > 1 else ""
        agent = agent_of_channel(channel.name)
        request = parse_feature(code)
        sound = REFUSED
        if agent is not None and request is not None:
            try:
                self._service.set_agent_state(agent, request.state, request.reason)
                sound = SOUNDS[request.state]
                log.info("agent %s dialled %s: %s", agent, code, request.state)
            except (UnknownAgent, TransitionNotAllowed, ValueError) as exc:
                log.info("agent %s dialled %s: refused (%s)", agent, code, exc)
        try:
            await self._ari.channels.answer(channel.id)
            await self._ari.channels.play(channel.id, [sound])
            await asyncio.sleep(CONFIRM_S)
        except AriError as exc:
            log.debug("feature call %s: %s", channel.id, exc)
        finally:
            with contextlib.suppress(AriError):
                await self._ari.channels.hangup(channel.id)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
