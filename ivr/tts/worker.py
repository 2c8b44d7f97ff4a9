"""Long-lived child that owns one natural voice: ``python -m ivr.tts.worker``.

Loading a voice takes seconds (Open JTalk's dictionary, Piper's ONNX model), so unlike espeak the
child stays up and serves one request at a time over JSON lines (see ``ivr.tts.natural``):

    python -m ivr.tts.worker openjtalk /path/mei_normal.htsvoice
    python -m ivr.tts.worker piper /path/en_US-joe-medium.onnx      (config: <model>.json)

After loading it prints ``{"ready": true}``; then for each request line
``{"text": "...", "rate": 160, "out": "/path/raw.wav"}`` it writes a 16-bit mono WAV and answers
``{"ok": true}`` or ``{"error": "..."}``. End of stdin ends it. A voice that cannot load is one line
on stderr and exit 1. Anything the libraries print goes to stderr, never into the protocol.
"""

from __future__ import annotations

import json
import os
import sys
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

BASE_RATE = 160  # the renderer's default words per minute: speed 1.0
_PEAK = 0.7 * 32767  # both voices peak at −3 dBFS: Open JTalk's floats can exceed 16 bits, Piper fills them
# Changing what this file does to the audio? Bump ivr.tts.voices.AUDIO_REVISION (cached prompts re-render).

Speak = Callable[[str, int, Path], None]


def openjtalk(voice: Path) -> Speak:
    import numpy as np
    import pyopenjtalk
    from pyopenjtalk.htsengine import HTSEngine

    engine = HTSEngine(str(voice).encode())  # RuntimeError if the voice cannot load
    rate_hz = engine.get_sampling_frequency()
    pyopenjtalk.extract_fullcontext("あ")  # load the dictionary now, not on the first prompt

    def speak(text: str, rate: int, out: Path) -> None:
        engine.set_speed(max(0.5, min(2.0, rate / BASE_RATE)))
        audio = np.asarray(engine.synthesize(pyopenjtalk.extract_fullcontext(text)), dtype=np.float64)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak <= 0.0:
            raise ValueError("Open JTalk produced no audio")
        samples = np.clip(audio * (_PEAK / peak), -32768, 32767).astype("<i2")
        _write_wav(out, samples.tobytes(), rate_hz)

    return speak


def piper(model: Path) -> Speak:
    from piper import PiperVoice, SynthesisConfig

    voice: Any = PiperVoice.load(str(model), config_path=str(model.with_name(model.name + ".json")))
    voice.phonemize("a")  # load the phonemizer now
    base_scale = float(voice.config.length_scale)

    def speak(text: str, rate: int, out: Path) -> None:
        scale = base_scale * BASE_RATE / max(80, min(320, rate))
        config = SynthesisConfig(length_scale=scale, volume=_PEAK / 32767)  # headroom for resampling
        with wave.open(str(out), "wb") as wav:
            voice.synthesize_wav(text, wav, syn_config=config)

    return speak


ENGINES: dict[str, Callable[[Path], Speak]] = {"openjtalk": openjtalk, "piper": piper}


def _write_wav(out: Path, frames: bytes, rate_hz: int) -> None:
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(frames)


def _has_audio(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


def serve(speak: Speak, requests: TextIO, replies: TextIO) -> None:
    """Answer each request line until end of input."""
    for line in requests:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            text = str(request["text"]).strip()
            if not text:
                raise ValueError("empty text")
            out = Path(request["out"])
            speak(text, int(request.get("rate", BASE_RATE)), out)
            if not _has_audio(out):
                raise ValueError("no audio written")
            reply: dict[str, object] = {"ok": True}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ENGINES:
        print(f"usage: python -m ivr.tts.worker {{{'|'.join(ENGINES)}}} VOICE_FILE", file=sys.stderr)
        return 2
    # The protocol gets a private copy of stdout; fd 1 (C libraries, print) now goes to stderr.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    try:
        speak = ENGINES[args[0]](Path(args[1]))
    except Exception as exc:
        print(f"cannot load {args[0]} voice {args[1]}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    serve(speak, sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
