"""Child-process entry point that owns pyttsx3: ``python -m ivr.tts.synth``.

pyttsx3 is not thread-safe and keeps global espeak state, so the controller never imports it:
every synthesis runs in a short-lived child (see ``ivr.tts.engine``). Text arrives on stdin as
UTF-8, never on the command line.

    python -m ivr.tts.synth --voice jpx/ja --rate 160 --out /path/raw.wav  < text
    python -m ivr.tts.synth --version

Exit status 0 means ``--out`` holds a non-empty 16-bit mono WAV; otherwise one line on stderr
says what failed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import io
import shutil
import sys
import wave
from pathlib import Path
from typing import Any


def engine_version() -> str:
    """pyttsx3 and libespeak-ng versions: part of the cache key, so an upgrade re-renders prompts."""
    import ctypes

    lib = ctypes.CDLL("libespeak-ng.so.1")
    lib.espeak_Info.restype = ctypes.c_char_p
    raw = lib.espeak_Info(None)
    espeak = raw.decode() if isinstance(raw, bytes) else "unknown"
    return f"pyttsx3-{importlib.metadata.version('pyttsx3')}/espeak-ng-{espeak}"


def synthesize(text: str, voice: str, rate: int, out: Path) -> None:
    """Write ``text`` spoken by the espeak-ng ``voice`` to ``out`` (22.05 kHz mono WAV).

    The ``espeak-ng`` program is the primary path: pyttsx3 2.99's espeak driver may return before it
    has written the file (seen under load) and drops some long multibyte texts. Both drive the same
    libespeak-ng voice, so the audio is the same; pyttsx3 remains for machines without the program.
    """
    if shutil.which("espeak-ng"):
        _espeak_cli(text, voice, rate, out)
    else:
        _pyttsx3(text, voice, rate, out)
    if not _has_audio(out):
        raise ValueError("espeak produced no audio")


def _pyttsx3(text: str, voice: str, rate: int, out: Path) -> None:
    import pyttsx3

    engine: Any = pyttsx3.init("espeak")
    known = {v.id for v in engine.getProperty("voices")}
    if voice not in known:
        # espeak silently falls back to its default voice; a wrong language is worse than a beep.
        raise ValueError(f"unknown espeak voice {voice!r}")
    engine.setProperty("voice", voice)
    engine.setProperty("rate", rate)
    engine.save_to_file(text, str(out))
    engine.runAndWait()


def _has_audio(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


def _espeak_cli(text: str, voice: str, rate: int, out: Path) -> None:
    """``espeak-ng -w`` with the text on stdin (never on a command line, never through a shell)."""
    import subprocess

    done = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(out), "--stdin"],
        input=text.encode("utf-8"),
        capture_output=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip()
        if "voice does not exist" in why:
            raise ValueError(f"unknown espeak voice {voice!r}")
        raise ValueError(f"espeak-ng exited {done.returncode}: {why}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ivr.tts.synth")
    parser.add_argument("--version", action="store_true", help="print the engine version and exit")
    parser.add_argument("--voice")
    parser.add_argument("--rate", type=int, default=160)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.version:
            print(engine_version())
            return 0
        if not args.voice or args.out is None:
            parser.error("--voice and --out are required")
        text = sys.stdin.buffer.read().decode("utf-8").strip()
        if not text:
            raise ValueError("empty text on stdin")
        # pyttsx3 prints "Audio saved to …" on stdout; keep both streams for real messages.
        with contextlib.redirect_stdout(io.StringIO()):
            synthesize(text, args.voice, args.rate, args.out)
    except Exception as exc:
        print(f"synthesis failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
