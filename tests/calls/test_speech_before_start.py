"""A speech menu reached before the recognisers have loaded (the controller adopts its calls first and
loads speech behind them): the menu takes keys only, as without speech, and the log says why."""

from __future__ import annotations

import pytest

from ivr.asr.config import AsrConfig
from ivr.calls.speech import SpeechService
from tests.calls.harness import Harness, flow
from tests.calls.test_speech import ORDER, HeldRecognizer, SpeechAri, _dtmf


async def test_a_speech_menu_before_speech_started_takes_keys_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="ivr.calls.speech")
    engine = HeldRecognizer()
    h = Harness(flow(ORDER))
    h.ari = SpeechAri()
    service = SpeechService(
        ari=h.ari,  # type: ignore[arg-type]
        app="ivr",
        config=AsrConfig(workers=1),
        engines={"en": engine},
        vad="energy",
    )
    h.speech = service  # never started: the recognisers are still "loading"
    try:
        await h.start()
        await h.until(lambda: "channels.play" in h.ari.ops())  # the collect node asks
        await h.settle()
        assert "channels.snoop" not in h.ari.ops()  # no speech legs: keys only
        assert service.menus_before_start == 1
        lines = [r.getMessage() for r in caplog.records if "still loading" in r.getMessage()]
        assert len(lines) == 1 and "call-1" in lines[0] and "keys only" in lines[0]
        for key in "4271#":
            h.session.deliver(_dtmf(key))  # type: ignore[union-attr]
        await h.until(lambda: h.path()[-1:] == ["done"])
        taken = h.store.named("input_taken")
        assert [(a[2], a[3]) for a, _ in taken] == [("dtmf", "4271")], taken  # (call, node, kind, value…)
    finally:
        await h.close()
        await service.close()


async def test_speech_menus_listen_once_the_recognisers_are_started() -> None:
    engine = HeldRecognizer()
    h = Harness(flow(ORDER))
    h.ari = SpeechAri()
    service = SpeechService(
        ari=h.ari,  # type: ignore[arg-type]
        app="ivr",
        config=AsrConfig(workers=1),
        engines={"en": engine},
        vad="energy",
    )
    h.speech = service
    assert not service.started
    await service.start()
    assert service.started
    try:
        await h.start()
        await h.until(lambda: "bridges.add_channel" in h.ari.ops())  # legs up: the node listens
        assert service.menus_before_start == 0
    finally:
        await h.close()
        await service.close()


async def test_a_start_that_fails_still_counts_as_started() -> None:
    """No engines at all: later menus are keys only because there is no model, not 'still loading'."""
    service = SpeechService(ari=SpeechAri(), app="ivr", config=AsrConfig(workers=1), engines={}, vad="energy")  # type: ignore[arg-type]
    await service.start()
    assert service.started and not service.supports("en")
    await service.close()
