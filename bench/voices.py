"""Intelligibility of each TTS voice on the telephone: ``python -m bench.voices``.

Every static prompt of the shipped flows (``ivr/flows/defaults``, ``static_prompts``), the Japanese
ones also as ordinary kanji Japanese (``voices_ja_kanji.txt``, Open JTalk only: espeak cannot read kanji), and
``--digits`` random 4–8 digit read-backs per language (seed 20251201, read as the renderer reads them:
"four two seven one", よん、に、なな、いち) are synthesised with each voice, passed through the telephone
path (sox: 300–3400 Hz band, 8 kHz, μ-law) and transcribed back with Whisper base (faster-whisper, the
model ``ivr.asr.whisper_model`` assembles; greedy decoding, no prompt, language given).

Scores: English prompts, word error rate (lower case, punctuation dropped, numbers as words);
Japanese prompts, character error rate on the katakana *pronunciation* of reference and transcript
(both through Open JTalk's g2p, so kana-with-わ and kanji-with-は compare equal — words have no spaces
in Japanese); digits, digit error rate and whole strings right (``ivr.asr.numbers.spoken_digits``).
Synthesis time is per prompt in the voice's own synthesizer (espeak: a child per prompt; natural
voices: the long-lived child, loaded before timing).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import random
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ivr.flows.loader import load_paths
from ivr.flows.static_prompts import static_prompts
from ivr.prompts import Speak
from ivr.speech_text import digits_to_words, number_words
from ivr.tts.engine import EspeakSynthesizer, Synthesizer
from ivr.tts.natural import WorkerSynthesizer
from ivr.tts.select import ESPEAK_VOICES
from ivr.tts.voices import OPENJTALK_VOICE_ID, PIPER_VOICE_ID, openjtalk_voice, piper_voice

SEED = 20251201
FLOWS = Path(__file__).resolve().parent.parent / "ivr" / "flows" / "defaults"
KANJI_PROMPTS = Path(__file__).with_name("voices_ja_kanji.txt")
"""The shipped Japanese prompts as ordinary Japanese (kanji, は), as the flows would be rewritten."""
SITE_VARS = {"services.orders": "http://127.0.0.1/demo", "hours.override": ""}


@dataclass(frozen=True)
class Item:
    lang: str
    text: str  # what the synthesizer reads
    digits: str | None = None  # the digit string, for read-back items


@dataclass
class Score:
    errors: int = 0
    total: int = 0
    strings_right: int = 0
    strings: int = 0
    synth_s: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.errors / self.total if self.total else float("nan")


def items(digit_strings: int) -> list[Item]:
    flows = load_paths([FLOWS]).flows
    seen: dict[tuple[str, str], None] = {}
    for flow in flows.values():
        for prompt in static_prompts(flow, SITE_VARS):
            if isinstance(prompt, Speak):
                seen[(prompt.lang, prompt.text)] = None
    out = [Item(lang, text) for lang, text in seen]
    kanji = [line.strip() for line in KANJI_PROMPTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    out += [Item("ja-kanji", text) for text in kanji]
    rng = random.Random(SEED)
    for _ in range(digit_strings):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 8)))
        out += [Item(lang, digits_to_words(digits, lang), digits) for lang in ("en", "ja")]
    return out


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def english_words(text: str) -> list[str]:
    plain = re.sub(r"(\d)([a-z])", r"\1 \2", text.lower().replace(".", "").replace("-", " "))  # 9am, a.m.
    words = re.sub(r"[^a-z0-9' ]+", " ", plain).split()
    out: list[str] = []
    for w in words:
        out += number_words(int(w), "en").replace("-", " ").split() if w.isdigit() else [w]
    return out


def japanese_sounds(text: str) -> list[str]:
    import pyopenjtalk

    kana = str(pyopenjtalk.g2p(text, kana=True))
    return [ch for ch in kana if ch not in "、。？！ ,.?!'"]


def telephone(raw: Path, work: Path) -> npt.NDArray[np.int16]:
    """``raw`` → 300–3400 Hz, 8 kHz μ-law → 16 kHz samples (what the recogniser hears on a call)."""
    phone = work / "phone.wav"
    subprocess.run(["sox", "-q", str(raw), "-r", "8000", "-c", "1", "-e", "mu-law", "-t", "wav", str(phone),
                    "sinc", "300-3400"], check=True)  # fmt: skip
    pcm = subprocess.run(["sox", "-q", str(phone), "-r", "16000", "-e", "signed-integer", "-b", "16",
                          "-t", "raw", "-"], check=True, capture_output=True).stdout  # fmt: skip
    return np.frombuffer(pcm, dtype="<i2")


def load_whisper() -> Any | None:
    try:
        whisper_model = importlib.import_module("faster_whisper").WhisperModel  # untyped package
        from ivr.asr.whisper_model import is_model_dir, model_dir
    except ImportError as exc:
        print(f"no recogniser ({exc}): synthesis times only")
        return None
    path = model_dir()
    if not is_model_dir(path):
        print(f"no Whisper model in {path} (run `ivr asr assemble`): synthesis times only")
        return None
    return whisper_model(str(path), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(model: Any, samples: npt.NDArray[np.int16], lang: str, max_tokens: int) -> str:
    """Whisper's transcript; ``max_tokens`` stops the loops it falls into on unintelligible audio."""
    segments, _ = model.transcribe(samples.astype(np.float32) / 32768.0, language=lang, beam_size=1,
                                   temperature=0.0, condition_on_previous_text=False,
                                   without_timestamps=True, vad_filter=False,
                                   max_new_tokens=max_tokens)  # fmt: skip
    return "".join(s.text for s in segments).strip()


def token_budget(item: Item) -> int:
    """Room for the whole transcript, but not for Whisper's repetition loops on unintelligible audio."""
    sounds = len(item.text) if item.lang == "en" else 2 * len(japanese_sounds(item.text))
    return sounds + 16


def score(item: Item, heard: str, into: Score) -> None:
    if item.digits is not None:
        from ivr.asr.numbers import spoken_digits

        got = spoken_digits(heard, item.lang) or ""
        into.errors += edit_distance(item.digits, got)
        into.total += len(item.digits)
        into.strings += 1
        into.strings_right += got == item.digits
    elif item.lang == "en":  # "ja"/"ja-kanji": kana pronunciation
        into.errors += edit_distance(english_words(item.text), english_words(heard))
        into.total += len(english_words(item.text))
    else:
        ref = japanese_sounds(item.text)
        into.errors += edit_distance(ref, japanese_sounds(heard))
        into.total += len(ref)


async def run_voice(name: str, lang: str, synth: Synthesizer, voice: str, todo: list[Item],
                    model: Any | None, verbose: bool) -> tuple[Score, Score]:  # fmt: skip
    prompts, digits = Score(), Score()
    start = getattr(synth, "start", None)
    if start is not None:
        await start()
    with tempfile.TemporaryDirectory(prefix="bench-voices-") as tmp:
        work = Path(tmp)
        for item in (i for i in todo if i.lang == lang):
            into = digits if item.digits is not None else prompts
            raw = work / "raw.wav"
            began = time.perf_counter()
            await synth.synthesize(item.text, voice, 160, raw)
            into.synth_s.append(time.perf_counter() - began)
            if model is None:
                continue
            heard = await asyncio.to_thread(
                transcribe, model, telephone(raw, work), lang[:2], token_budget(item)
            )
            before = into.errors
            score(item, heard, into)
            if verbose and into.errors > before:
                print(f"  {name}: {item.text!r} → {heard!r}")
    close = getattr(synth, "aclose", None)
    if close is not None:
        await close()
    return prompts, digits


def fmt_rate(s: Score) -> str:
    return f"{100 * s.rate:.1f} %" if s.total else "–"


async def main_async(args: argparse.Namespace) -> None:
    began = time.perf_counter()
    todo = items(args.digits)
    model = load_whisper()
    espeak = EspeakSynthesizer()
    voices: list[tuple[str, str, Synthesizer, str]] = [
        ("espeak-ng en-us", "en", espeak, ESPEAK_VOICES["en"]),
        ("Piper joe (en)", "en", WorkerSynthesizer(piper_voice()), PIPER_VOICE_ID),
        ("espeak-ng ja", "ja", espeak, ESPEAK_VOICES["ja"]),
        ("Open JTalk mei (ja)", "ja", WorkerSynthesizer(openjtalk_voice()), OPENJTALK_VOICE_ID),
        (
            "Open JTalk mei (ja, kanji rewrite)",
            "ja-kanji",
            WorkerSynthesizer(openjtalk_voice()),
            OPENJTALK_VOICE_ID,
        ),
    ]
    counts = {
        lang: sum(1 for i in todo if i.lang == lang and i.digits is None) for lang in ("en", "ja", "ja-kanji")
    }
    print(f"prompts {counts}, {args.digits} digit strings per language, seed {SEED}")
    print("| voice | prompts: error rate | digits: error rate / strings right | synthesis s (median, max) |")
    print("|---|---|---|---|")
    for name, lang, synth, voice in voices:
        prompts, digits = await run_voice(name, lang, synth, voice, todo, model, args.verbose)
        times = prompts.synth_s + digits.synth_s
        unit = "WER" if lang == "en" else "kana CER"
        if not times:
            continue
        speed = f"{statistics.median(times):.2f}, {max(times):.2f}"
        print(f"| {name} | {fmt_rate(prompts)} {unit} over {prompts.total} | {fmt_rate(digits)}"
              f" / {digits.strings_right} of {digits.strings} | {speed} |")  # fmt: skip
    print(f"({time.perf_counter() - began:.0f} s in all)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.voices", description=__doc__.split("\n")[0])
    parser.add_argument("--digits", type=int, default=10, help="digit strings per language (default 10)")
    parser.add_argument("--verbose", action="store_true", help="print every misrecognised item")
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
