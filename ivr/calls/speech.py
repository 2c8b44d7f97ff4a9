"""Spoken input for calls: caller audio over ARI externalMedia → endpointing → recogniser threads.

One :class:`SpeechService` per controller owns a UDP socket on 127.0.0.1 and the recogniser pool.
Each call gets a :class:`SpeechListener` with its own endpointer (Silero VAD or energy, ``IVR_ASR_VAD``:
see :mod:`ivr.asr.vad_endpoint`). The first ``listen()`` of a call sets up its legs:

    caller ──snoop (spy=in: the caller only, never our prompts)──┐
                                                                 ├─ mixing bridge
    externalMedia (slin16 RTP → 127.0.0.1:<our port>) ───────────┘

Asterisk sends every call's RTP to the same port; a datagram's source port is the externalMedia
channel's local RTP port (``UNICASTRTP_LOCAL_PORT``), which maps it to its call. The legs stay up for
the rest of the call (successive menus only change the words) and are torn down when the call ends.
Both legs enter our Stasis app as helpers (``leg:<call_id>:…`` args / ``UnicastRTP/`` name), which the
call manager ignores.

A finished utterance is recognised, in a worker thread, against the words current at that moment;
the result reaches the call as ``SpeechRecognized`` through the call's own queue. A result for words
that were replaced or stopped meanwhile is dropped. Every failure here leaves the call on DTMF. When the
recogniser pool is full the utterance is dropped (``RecognizerPool.dropped``), and when the engine raises
or runs over ``IVR_ASR_TIMEOUT_S`` (``RecognitionFailed``; a hung worker is replaced by the pool), the
call gets ``SpeechDropped``: its node treats it as a no match and asks again for keys only, never
leaving the caller in silence (``SpeechService.keys_only_fallbacks`` counts these).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ivr.ari.client import AriClient
from ivr.ari.errors import AriError, AriNotFound, AriNotInStasis, AriUnprocessable
from ivr.ari.events import AriEvent, ChannelDestroyed, StasisEnd
from ivr.asr.config import AsrConfig
from ivr.asr.endpoint import EndpointConfig, SpeechEndpointer, Utterance
from ivr.asr.engines import Recognizer
from ivr.asr.pool import RecognitionFailed, RecognizerPool, build_engines
from ivr.asr.rtp import RtpError, RtpPacket, SequenceFilter, parse_rtp, slin16_samples
from ivr.asr.vad_endpoint import make_endpointer, resolve_vad
from ivr.calls.legs import LEG_ARG_PREFIX, LegRegistry, leg_id
from ivr.flows.events import Event, SpeechDropped, SpeechRecognized

log = logging.getLogger(__name__)


class SpeechService:
    """Per controller: the RTP socket, the recogniser pool and the calls' listeners."""

    def __init__(
        self,
        *,
        ari: AriClient,
        app: str,
        config: AsrConfig | None = None,
        engines: Mapping[str, Recognizer] | None = None,
        host: str = "127.0.0.1",
        endpoint: EndpointConfig | None = None,
        legs: LegRegistry | None = None,
        vad: str | None = None,
    ) -> None:
        self._ari = ari
        self.legs = legs
        self.app = app
        self._config = config or AsrConfig.from_env()
        self._given_engines = engines
        self.host = host
        self.endpoint = endpoint or EndpointConfig()
        self.vad = resolve_vad(vad)  # "silero" | "energy"; None: IVR_ASR_VAD (AsrConfigError if bad)
        self.pool: RecognizerPool | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self._by_port: dict[int, SpeechListener] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.unknown_datagrams = 0
        self.bad_datagrams = 0
        self.keys_only_fallbacks = 0
        """Utterances that sent their call's node back to keys only because the pool was full, the
        recogniser raised or it ran over ``IVR_ASR_TIMEOUT_S`` (one per utterance; ``pool.dropped``,
        ``pool.errors`` and ``pool.timeouts`` count each language tried)."""
        self.started = False
        """``start()`` has finished (with or without engines). The controller starts speech only after
        it has adopted the calls: until then every menu takes keys only."""
        self.menus_before_start = 0
        """Speech menus that took keys only because the recognisers were still loading (one per call)."""

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the models (in a thread) and bind the RTP socket. Never fails the controller: without
        engines or a socket every menu is simply DTMF only."""
        try:
            await self._start()
        finally:
            self.started = True

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        engines = self._given_engines
        if engines is None:
            try:
                engines = await loop.run_in_executor(None, build_engines, self._config)
            except Exception:
                log.exception("speech: engines could not be loaded; all menus take DTMF only")
                engines = {}
        self.pool = RecognizerPool(engines, workers=self._config.workers, timeout_s=self._config.timeout_s)
        if not engines:
            return
        await loop.run_in_executor(None, self.pool.warm_up)
        try:
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: _RtpProtocol(self), local_addr=(self.host, 0)
            )
        except OSError as exc:
            log.error("speech: cannot open a UDP socket on %s: %s; all menus take DTMF only", self.host, exc)
            self.pool.close()
            self.pool = RecognizerPool({}, workers=1)
            return
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        langs = ", ".join(self.pool.languages)
        log.info(
            "speech: listening for RTP on %s:%d (%s; %s endpointing)", self.host, self.port, langs, self.vad
        )

    async def close(self) -> None:
        """Tear down every call's legs, then stop the socket and the threads."""
        for listener in list(self._by_port.values()):
            listener.close()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self.pool is not None:
            self.pool.close()

    def supports(self, lang: str) -> bool:
        return self.pool is not None and self._transport is not None and self.pool.supports(lang)

    def listener(
        self,
        call_id: str,
        channel_id: str,
        post: Callable[[Event], None],
        deliver: Callable[[AriEvent], None] | None = None,
    ) -> SpeechListener:
        """The call's listener; ``deliver`` receives the events of its snoop/media legs (the session)."""
        return SpeechListener(self, call_id=call_id, channel_id=channel_id, post=post, deliver=deliver)

    # --- plumbing for listeners ------------------------------------------------------------------

    @property
    def ari(self) -> AriClient:
        return self._ari

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def route(self, port: int, listener: SpeechListener) -> None:
        self._by_port[port] = listener

    def unroute(self, port: int, listener: SpeechListener) -> None:
        if self._by_port.get(port) is listener:
            del self._by_port[port]

    def datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        listener = self._by_port.get(addr[1])
        if listener is None:
            self.unknown_datagrams += 1
            return
        try:
            packet = parse_rtp(data)
        except RtpError:
            self.bad_datagrams += 1
            return
        listener.rtp(packet)


class _RtpProtocol(asyncio.DatagramProtocol):
    def __init__(self, service: SpeechService) -> None:
        self._service = service

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            self._service.datagram(data, (str(addr[0]), int(addr[1])))
        except Exception:  # a bad packet must never take the socket down
            log.exception("speech: RTP datagram from %s could not be handled", addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("speech: UDP error: %s", exc)


class SpeechListener:
    """One call's spoken input. ``listen()``/``stop()``/``close()`` come from the call's own task."""

    def __init__(
        self,
        service: SpeechService,
        *,
        call_id: str,
        channel_id: str,
        post: Callable[[Event], None],
        deliver: Callable[[AriEvent], None] | None = None,
    ) -> None:
        self._service = service
        self._deliver = deliver
        self.call_id = call_id
        self.channel_id = channel_id
        self._post = post
        self._grammars: dict[str, tuple[str, ...]] = {}  # lang -> words
        self._generation = 0
        self._endpointer: SpeechEndpointer = make_endpointer(service.vad, energy=service.endpoint)
        self._sequence = SequenceFilter()
        self._snoop_id: str | None = None
        self._media_id: str | None = None
        self._bridge_id: str | None = None
        self._port: int | None = None
        self._failed = False
        self._closed = False
        self._warned_langs: set[str] = set()

    @property
    def active(self) -> bool:
        return bool(self._grammars)

    @property
    def legs_up(self) -> bool:
        return self._port is not None

    async def listen(self, lang: str, words: tuple[str, ...] | list[str]) -> None:
        """Recognise ``words`` in ``lang`` from now on; ``words=()`` stops listening (all languages).

        Several languages may listen at once (a language menu): each utterance is tried in each and
        the most confident result wins. A language without a model is a no-op (DTMF only)."""
        if not words:
            await self.stop()
            return
        if self._closed or self._failed:
            return
        if not self._service.supports(lang):
            if not self._service.started and "" not in self._warned_langs:
                self._warned_langs.add("")  # once per call
                self._service.menus_before_start += 1
                log.info(
                    "call %s: speech recognisers still loading (controller just started); this menu takes "
                    "keys only",
                    self.call_id,
                )
            elif self._service.started and lang not in self._warned_langs:
                self._warned_langs.add(lang)
                log.debug("call %s: no speech model for '%s'; this menu takes DTMF only", self.call_id, lang)
            return
        self._generation += 1
        self._grammars[lang] = tuple(words)
        if not self.legs_up:
            await self._set_up()

    async def stop(self) -> None:
        """Stop recognising (the legs stay up for the call's next menu)."""
        self._generation += 1
        self._grammars.clear()
        self._endpointer.reset()

    def close(self) -> None:
        """The call ended: forget it and tear its legs down in the background."""
        if self._closed:
            return
        self._closed = True
        self._generation += 1
        self._grammars.clear()
        self._endpointer.close()  # the Silero context goes back to the pool for the next call
        if self._port is not None:
            self._service.unroute(self._port, self)
        if self._snoop_id or self._media_id or self._bridge_id:
            self._service.spawn(self._tear_down(), name=f"speech-teardown-{self.call_id}")

    async def aclose(self) -> None:
        """``close()`` and wait for the teardown (tests)."""
        self.close()
        await self._tear_down()

    # --- legs ---------------------------------------------------------------------------------

    async def _set_up(self) -> None:
        ari, app = self._service.ari, self._service.app
        tag = uuid.uuid4().hex[:12]
        try:
            snoop = await ari.channels.snoop(
                self.channel_id,
                app=app,
                spy="in",
                snoop_id=leg_id(self.call_id, "snoop-", tag),
                app_args=f"{LEG_ARG_PREFIX}snoop:{self.call_id}",
            )
            self._snoop_id = snoop.id
            self._claim(snoop.id)
            media = await ari.channels.external_media(
                app=app,
                external_host=f"{self._service.host}:{self._service.port}",
                format="slin16",
                channel_id=leg_id(self.call_id, "media-", tag),
            )
            self._media_id = media.id
            self._claim(media.id)
            port = await self._local_rtp_port(media.id, media.channelvars)
            bridge = await ari.bridges.create(bridge_type="mixing", bridge_id=f"{self.call_id}-asr-{tag}")
            self._bridge_id = bridge.id
            if self._closed:
                raise _Closed
            self._port = port
            self._service.route(port, self)
            await _add_once_in_stasis(ari, bridge.id, [snoop.id, media.id])
            log.debug("call %s: speech legs up (RTP from port %d)", self.call_id, port)
        except (AriError, ValueError, _Closed) as exc:
            if not isinstance(exc, _Closed):
                log.warning("call %s: speech input unavailable (%s); DTMF only", self.call_id, exc)
            self._failed = True
            self._grammars.clear()
            if self._port is not None:
                self._service.unroute(self._port, self)
                self._port = None
            await self._tear_down()

    async def _local_rtp_port(self, media_id: str, channelvars: Mapping[str, str]) -> int:
        raw = channelvars.get("UNICASTRTP_LOCAL_PORT")
        if not raw:
            raw = await self._service.ari.channels.get_var(media_id, "UNICASTRTP_LOCAL_PORT")
        if not raw or not raw.isdigit():
            raise ValueError(f"externalMedia channel {media_id} has no UNICASTRTP_LOCAL_PORT")
        return int(raw)

    def _claim(self, leg: str) -> None:
        if self._service.legs is not None and self._deliver is not None:
            self._service.legs.claim(leg, self._deliver)

    def owns(self, channel_id: str | None) -> bool:
        return channel_id is not None and channel_id in (self._snoop_id, self._media_id)

    def on_leg_event(self, event: AriEvent) -> None:
        """An event about the snoop or media leg (routed here through the leg registry)."""
        if isinstance(event, (StasisEnd, ChannelDestroyed)) and not self._closed:
            log.warning(
                "call %s: a speech leg went away (%s); DTMF only from now on", self.call_id, event.type
            )
            self._failed = True
            self._grammars.clear()
            if self._port is not None:
                self._service.unroute(self._port, self)
                self._port = None
            self._service.spawn(self._tear_down(), name=f"speech-teardown-{self.call_id}")

    async def _tear_down(self) -> None:
        ari = self._service.ari
        snoop, media, bridge = self._snoop_id, self._media_id, self._bridge_id
        self._snoop_id = self._media_id = self._bridge_id = None
        if self._service.legs is not None:
            for leg in (snoop, media):
                if leg is not None:
                    self._service.legs.release(leg)
        for channel in (snoop, media):
            if channel is not None:
                await _quietly(ari.channels.hangup(channel), f"hang up {channel}")
        if bridge is not None:
            await _quietly(ari.bridges.destroy(bridge), f"destroy bridge {bridge}")

    # --- audio --------------------------------------------------------------------------------

    def rtp(self, packet: RtpPacket) -> None:
        """One RTP packet of this call's caller audio (event loop, cheap)."""
        if not self._grammars or self._closed:
            return
        if not self._sequence.accept(packet):
            return
        for utterance in self._endpointer.feed(slin16_samples(packet.payload)):
            self._utterance(utterance)

    def _utterance(self, utterance: Utterance) -> None:
        generation = self._generation
        grammars = dict(self._grammars)
        self._service.spawn(
            self._recognise(utterance.samples, grammars, generation), name=f"speech-recognise-{self.call_id}"
        )

    async def _recognise(
        self, samples: npt.NDArray[np.int16], grammars: dict[str, tuple[str, ...]], generation: int
    ) -> None:
        pool = self._service.pool
        if pool is None:
            return
        best: SpeechRecognized | None = None
        dropped: str | None = None  # a language the pool did not decide: full, engine failed or hung
        why = "recogniser pool full"
        for lang, words in grammars.items():
            full = pool.supports(lang) and pool.pending >= pool.max_pending  # recognize() drops it
            try:
                result = await pool.recognize(lang, samples, words)
            except RecognitionFailed as exc:
                dropped, why = lang, str(exc)
                continue
            except Exception:
                log.exception("call %s: recognition failed", self.call_id)
                continue
            if result is None and full:
                dropped = lang
            if result is not None and (best is None or result[1] > best.confidence):
                best = SpeechRecognized(text=result[0], confidence=result[1], lang=lang)
        current = generation == self._generation and not self._closed
        if best is None and dropped is not None:
            if not current:  # the node moved on (keys came first) or the call ended
                log.warning("call %s: %s; the node had already moved on", self.call_id, why)
                return
            self._service.keys_only_fallbacks += 1
            log.warning("call %s: %s; this node falls back to keys", self.call_id, why)
            self._post(SpeechDropped(dropped))
            return
        if best is None:
            log.debug("call %s: utterance of %d ms not recognised", self.call_id, len(samples) // 16)
            return
        if not current:
            log.debug("call %s: '%s' came too late for the menu; dropped", self.call_id, best.text)
            return
        log.info("call %s: heard '%s' (%s, %.2f)", self.call_id, best.text, best.lang, best.confidence)
        self._post(best)


class _Closed(Exception):
    """The call ended while its legs were being set up."""


STASIS_ENTRY_WAIT_S = 3.0
"""How long a new snoop/media leg may take to enter the app before its bridge is given up."""


async def _add_once_in_stasis(ari: AriClient, bridge_id: str, channels: list[str]) -> None:
    """Asterisk answers ``POST /snoop`` and ``/externalMedia`` before the new channel has entered the app
    (a thread of its own puts it there), so adding it to a bridge at once can fail with 422/409 "Channel
    not in Stasis application" on a busy machine. Asterisk checks every channel before adding any, so the
    request is simply tried again, briefly."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STASIS_ENTRY_WAIT_S
    delay = 0.02
    while True:
        try:
            await ari.bridges.add_channel(bridge_id, channels)
            return
        except (AriUnprocessable, AriNotInStasis):
            if loop.time() + delay > deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)


async def _quietly(coro: Coroutine[Any, Any, Any], what: str) -> None:
    try:
        await coro
    except AriNotFound:
        pass
    except AriError as exc:
        log.debug("speech: could not %s: %s", what, exc)
