from __future__ import annotations

import asyncio
import logging
import wave
from pathlib import Path

import numpy as np
import pytest

from ivr.prompts import Digits, Prompt, Silence, SoundFile, Speak
from ivr.tts.renderer import PromptRenderer, silence_uris
from tests.tts.fakes import CountingSynthesizer, ToneSynthesizer, media_uri


def wav_of(uri: str) -> Path:
    assert uri.startswith("sound:/"), uri
    return Path(uri.removeprefix("sound:") + ".wav")


def files(directory: Path, pattern: str) -> list[Path]:
    return sorted(directory.glob(pattern))


def assert_telephone_speech(path: Path) -> None:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    assert len(samples) > 8000 * 0.3  # at least 0.3 s
    assert float(np.sqrt(np.mean(samples**2))) > 300  # not silence


async def test_real_synthesis_en_and_ja_gives_8khz_speech(tmp_path: Path) -> None:
    synth = CountingSynthesizer()
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=synth)
    uris = await renderer.uris([Speak("Thank you for calling. Press one for orders.", "en"),
                                Speak("おでんわ ありがとう ございます", "ja")])  # fmt: skip
    assert len(uris) == 2
    for uri in uris:
        assert_telephone_speech(wav_of(uri))
    assert sorted(voice for _, voice in synth.calls) == ["gmw/en-us", "jpx/ja"]
    assert files(tmp_path, ".*") == []  # no temp leftovers


async def test_second_request_is_a_cache_hit(tmp_path: Path) -> None:
    synth = CountingSynthesizer()
    prompt = Speak("Your order has shipped.", "en")
    first = await PromptRenderer(tmp_path, media_uri, synthesizer=synth).uris([prompt])
    again = await PromptRenderer(tmp_path, media_uri, synthesizer=synth).uris([prompt, prompt])
    assert again == first * 2
    assert len(synth.calls) == 1


async def test_cache_key_depends_on_voice_and_rate(tmp_path: Path, tone: ToneSynthesizer) -> None:
    prompt = [Speak("hello", "en")]
    a = await PromptRenderer(tmp_path, media_uri, synthesizer=tone).uris(prompt)
    b = await PromptRenderer(tmp_path, media_uri, synthesizer=tone, rate=120).uris(prompt)
    c = await PromptRenderer(tmp_path, media_uri, synthesizer=tone, voices={"en": "gmw/en"}).uris(prompt)
    assert len({*a, *b, *c}) == 3
    assert len(tone.calls) == 3


async def test_concurrent_identical_requests_share_one_synthesis(
    tmp_path: Path, tone: ToneSynthesizer
) -> None:
    tone.release.clear()
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone)
    prompt = [Speak("Please hold.", "en")]
    waiting = [asyncio.create_task(renderer.uris(prompt)) for _ in range(5)]
    await tone.started.wait()
    tone.release.set()
    results = await asyncio.gather(*waiting)
    assert len(tone.calls) == 1
    assert all(r == results[0] for r in results)
    assert wav_of(results[0][0]).is_file()


async def test_a_caller_hanging_up_does_not_cancel_the_shared_synthesis(
    tmp_path: Path, tone: ToneSynthesizer
) -> None:
    tone.release.clear()
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone)
    prompt = [Speak("Please hold.", "en")]
    first = asyncio.create_task(renderer.uris(prompt))
    second = asyncio.create_task(renderer.uris(prompt))
    await tone.started.wait()
    first.cancel()
    tone.release.set()
    (uri,) = await second
    assert wav_of(uri).is_file()
    assert len(tone.calls) == 1


async def test_english_digits_use_asterisk_recordings(tmp_path: Path, tone: ToneSynthesizer) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone)
    assert await renderer.uris([Digits("4271", "en")]) == ["digits:4271"]
    assert await renderer.uris([Digits("03-1234 5678", "en")]) == ["digits:0312345678"]
    assert tone.calls == []


async def test_japanese_digits_are_spoken_with_safe_readings(tmp_path: Path, tone: ToneSynthesizer) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone)
    (uri,) = await renderer.uris([Digits("7", "ja")])
    assert tone.calls == [("なな", "jpx/ja")]
    assert wav_of(uri).is_file()
    await renderer.uris([Digits("749", "ja")])
    assert tone.calls[-1] == ("なな、よん、きゅう", "jpx/ja")


async def test_digits_with_other_characters_are_spoken(tmp_path: Path, tone: ToneSynthesizer) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone)
    (uri,) = await renderer.uris([Digits("12#", "en")])
    assert uri.startswith("sound:/")
    assert tone.calls == [("one two pound", "gmw/en-us")]
    await renderer.uris([Digits("A7", "en")])
    assert tone.calls[-1] == ("A seven", "gmw/en-us")


async def test_failed_synthesis_falls_back_and_logs_one_error(
    tmp_path: Path, failing: ToneSynthesizer, caplog: pytest.LogCaptureFixture
) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=failing)
    with caplog.at_level(logging.ERROR, logger="ivr.tts"):
        first = await renderer.uris([Speak("こんにちは", "ja"), SoundFile("hello-world")])
        again = await renderer.uris([Speak("こんにちは", "ja")])
    assert first == ["sound:beep", "sound:hello-world"]
    assert again == ["sound:beep"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "espeak missing" in errors[0].getMessage()
    assert len(failing.calls) == 1  # the failure is remembered for a while, not retried per call


async def test_unexpected_exception_never_reaches_the_call(tmp_path: Path) -> None:
    synth = ToneSynthesizer(fail=RuntimeError("boom"))
    renderer = PromptRenderer(
        tmp_path, media_uri, synthesizer=synth, fallback_uri="sound:an-error-has-occurred"
    )
    assert await renderer.uris([Speak("hello", "en")]) == ["sound:an-error-has-occurred"]


async def test_missing_sox_falls_back(tmp_path: Path, tone: ToneSynthesizer) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone, sox=str(tmp_path / "no-such-sox"))
    assert await renderer.uris([Speak("hello", "en")]) == ["sound:beep"]
    assert files(tmp_path, "*.wav") == []


async def test_unknown_language_falls_back(tmp_path: Path, tone: ToneSynthesizer) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone)
    assert await renderer.uris([Speak("bonjour", "fr")]) == ["sound:beep"]
    assert tone.calls == []


async def test_real_engine_with_a_bad_voice_falls_back(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, voices={"en": "xx/no-such-voice"})
    assert await renderer.uris([Speak("hello", "en")]) == ["sound:beep"]


async def test_control_characters_never_reach_the_synthesizer(tmp_path: Path, tone: ToneSynthesizer) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone)
    await renderer.uris([Speak("Hello\x00;\x1b[31m rm -rf /\u202e\n", "en")])
    assert tone.calls == [("Hello;[31m rm -rf /", "gmw/en-us")]
    assert await renderer.uris([Speak("\x07\x00", "en")]) == []


@pytest.mark.parametrize(
    ("ms", "uris"),
    [
        (0, []),
        (-5, []),
        (1, ["sound:silence/1"]),
        (1000, ["sound:silence/1"]),
        (1001, ["sound:silence/2"]),
        (10000, ["sound:silence/10"]),
        (23500, ["sound:silence/10", "sound:silence/10", "sound:silence/4"]),
    ],
)
async def test_silence_maps_to_asterisk_silence_files(
    tmp_path: Path, tone: ToneSynthesizer, ms: int, uris: list[str]
) -> None:
    assert silence_uris(ms) == uris
    assert await PromptRenderer(tmp_path, media_uri, synthesizer=tone).uris([Silence(ms)]) == uris


async def test_prompts_keep_their_order(tmp_path: Path, tone: ToneSynthesizer) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone)
    prompts: list[Prompt] = [SoundFile("hello-world"), Silence(500), Digits("12", "en"), Speak("bye", "en")]
    uris = await renderer.uris(prompts)
    assert uris[:3] == ["sound:hello-world", "sound:silence/1", "digits:12"]
    assert wav_of(uris[3]).is_file()


async def test_prewarm_fills_the_cache(tmp_path: Path, tone: ToneSynthesizer) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone)
    await renderer.prewarm([Speak("one", "en"), Speak("two", "en"), Digits("7", "ja")])
    assert len(tone.calls) == 3
    await renderer.uris([Speak("one", "en"), Digits("7", "ja")])
    assert len(tone.calls) == 3


async def test_a_caller_waits_for_one_prewarm_prompt_at_most(tmp_path: Path, tone: ToneSynthesizer) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone, max_concurrency=1)
    tone.release.clear()
    prewarm = asyncio.create_task(renderer.prewarm([Speak(f"prompt {i}", "en") for i in range(10)]))
    await tone.started.wait()  # the first prewarm prompt is being synthesised
    live = asyncio.create_task(renderer.uris([Speak("greeting", "en")]))
    await asyncio.sleep(0)
    tone.release.set()
    await live
    texts = [text for text, _ in tone.calls]
    assert texts.index("greeting") == 1  # right after the prompt in progress, before the other nine
    await prewarm
    assert len(tone.calls) == 11


async def test_natural_voices_get_the_digit_words_not_the_number(
    tmp_path: Path, tone: ToneSynthesizer
) -> None:
    renderer = PromptRenderer(tmp_path, media_uri, synthesizer=tone, voices={"ja": "openjtalk/mei_normal"})
    await renderer.uris([Digits("4271", "ja"), Digits("９０", "ja")])
    assert tone.calls == [
        ("よん、に、なな、いち", "openjtalk/mei_normal"),
        ("きゅう、ゼロ", "openjtalk/mei_normal"),
    ]


def test_open_jtalk_reads_the_read_back_digit_by_digit() -> None:
    pyopenjtalk = pytest.importorskip("pyopenjtalk")
    from ivr.speech_text import digits_to_words

    assert pyopenjtalk.g2p("4271", kana=True) == "ヨンセンニヒャクナナジューイチ"  # why digits never reach it
    assert pyopenjtalk.g2p(digits_to_words("4271", "ja"), kana=True) == "ヨン、ニ、ナナ、イチ"
    assert pyopenjtalk.g2p(digits_to_words("7490", "ja"), kana=True) == "ナナ、ヨン、キュー、ゼロ"


async def test_natural_voices_from_env_render_telephone_audio(tmp_path: Path) -> None:
    pytest.importorskip("pyopenjtalk")
    pytest.importorskip("piper")
    renderer = PromptRenderer.from_env(tmp_path, media_uri, {"IVR_TTS": "natural"})
    try:
        uris = await renderer.uris(
            [Speak("ご注文は1番を押してください", "ja"), Speak("Press one for orders.", "en")]
        )
    finally:
        await renderer.aclose()
    for uri in uris:
        assert_telephone_speech(wav_of(uri))
