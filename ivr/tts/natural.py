"""Open JTalk (Japanese) and Piper (English) behind the ``Synthesizer`` protocol.

Each voice runs in one long-lived child (``python -m ivr.tts.worker``): loading takes seconds, and
neither library belongs in the controller (Open JTalk's HTS engine and Piper's espeak phonemizer keep
global state, and synthesis in a thread measurably stalled the event loop on this 2-core machine).
Requests to one child are serialised; a child that dies, hangs or is cancelled mid-request is killed
and started again on the next request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections import deque
from pathlib import Path

from ivr.tts.engine import SynthesisError
from ivr.tts.voices import VoiceFiles

log = logging.getLogger(__name__)


class VoiceLoadError(SynthesisError):
    """The child started but could not load its voice (bad or missing voice file, broken package)."""


class WorkerSynthesizer:
    """A natural voice in a child process; ``start()`` loads it (VoiceLoadError if it cannot)."""

    def __init__(
        self,
        voice: VoiceFiles,
        *,
        python: str = sys.executable,
        limit_s: float = 30.0,
        start_limit_s: float = 60.0,
    ) -> None:
        self.voice = voice
        self._python = python
        self._limit_s = limit_s
        self._start_limit_s = start_limit_s
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr: deque[str] = deque(maxlen=5)
        self._drain: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._version: str | None = None
        self._version_lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return self.voice.engine

    async def version(self) -> str:
        async with self._version_lock:
            if self._version is None:
                try:
                    self._version = await asyncio.to_thread(self.voice.version)
                except OSError as exc:
                    raise SynthesisError(f"{self.name} version: {exc}") from exc
            return self._version

    async def start(self) -> None:
        """Start the child and wait until its voice is loaded (no-op if it is running)."""
        async with self._lock:
            await self._ensure_child()

    async def synthesize(self, text: str, voice: str, rate: int, out_wav: Path) -> None:
        request = json.dumps({"text": text, "rate": rate, "out": str(out_wav)}) + "\n"
        async with self._lock:
            proc = await self._ensure_child()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(request.encode())
                await proc.stdin.drain()
                line = await asyncio.wait_for(proc.stdout.readline(), self._limit_s)
            except TimeoutError:
                await self._kill()
                raise SynthesisError(
                    f"{self.name}: no result after {self._limit_s:.0f} s (child killed)"
                ) from None
            except asyncio.CancelledError:
                await self._kill()  # its late answer must not be read as the next request's
                raise
            except (OSError, ConnectionError) as exc:
                await self._kill()
                raise SynthesisError(f"{self.name}: child lost: {exc}") from exc
            if not line:
                await self._kill()
                raise SynthesisError(f"{self.name}: child exited: {self._last_error()}")
            reply = json.loads(line)
            if not reply.get("ok"):
                raise SynthesisError(f"{self.name}: {reply.get('error', 'unknown error')}")

    async def aclose(self) -> None:
        """Stop the child (it also exits by itself when this process goes away)."""
        async with self._lock:
            await self._kill()

    async def _ensure_child(self) -> asyncio.subprocess.Process:
        if self._proc is not None and self._proc.returncode is None:
            return self._proc
        argv = [self._python, "-m", "ivr.tts.worker", self.voice.engine, str(self.voice.files[0])]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise SynthesisError(f"{self.name}: cannot start {argv[0]}: {exc}") from exc
        self._proc = proc
        self._stderr.clear()
        self._drain = asyncio.create_task(self._drain_stderr(proc), name=f"tts-{self.name}-stderr")
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), self._start_limit_s)
        except TimeoutError:
            await self._kill()
            raise SynthesisError(f"{self.name}: voice not loaded after {self._start_limit_s:.0f} s") from None
        except asyncio.CancelledError:
            await self._kill()
            raise
        if not line or not json.loads(line).get("ready"):
            await self._kill()
            raise VoiceLoadError(f"{self.name}: cannot load voice: {self._last_error()}")
        log.info("%s voice loaded in child %d", self.name, proc.pid)
        return proc

    async def _drain_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._stderr.append(line)
                log.debug("%s child %d: %s", self.name, proc.pid, line)

    def _last_error(self) -> str:
        return self._stderr[-1] if self._stderr else "no message"

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        if self._drain is not None:
            await self._drain  # the pipe is closed once the child is gone
            self._drain = None
