from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

from ivr.tts.engine import EspeakSynthesizer


def run_child(*args: str, text: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ivr.tts.synth", *args], input=text,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_child_writes_wav_and_keeps_stdout_clean(tmp_path: Path) -> None:
    out = tmp_path / "raw.wav"
    done = run_child("--voice", "jpx/ja", "--out", str(out), text="なな")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    with wave.open(str(out), "rb") as wav:
        assert wav.getnframes() > 0


def test_child_rejects_an_unknown_voice(tmp_path: Path) -> None:
    done = run_child("--voice", "xx/nope", "--out", str(tmp_path / "raw.wav"), text="hello")
    assert done.returncode == 1
    assert "unknown espeak voice 'xx/nope'" in done.stderr


def test_child_rejects_empty_text(tmp_path: Path) -> None:
    done = run_child("--voice", "gmw/en-us", "--out", str(tmp_path / "raw.wav"), text="  ")
    assert done.returncode == 1
    assert "empty text" in done.stderr


async def test_version_names_both_engines() -> None:
    version = await EspeakSynthesizer().version()
    assert version.startswith("pyttsx3-")
    assert "/espeak-ng-" in version


def test_long_japanese_prompt_is_synthesised(tmp_path: Path) -> None:
    """pyttsx3 2.99 writes nothing for this text; the espeak-ng fallback must still produce audio."""
    text = (
        "ごちゅうもんわ いちばん、 へんぴんや こうかんわ にばん、 くじょうわ さんばん、 "
        "そのたの おといあわせわ よんばん、 オペレーターわ ゼロばんを おすか、 "
        "ごようけんを おはなしください。"
    )
    out = tmp_path / "menu.wav"
    done = subprocess.run(
        [sys.executable, "-m", "ivr.tts.synth", "--voice", "jpx/ja", "--rate", "160", "--out", str(out)],
        input=text.encode(),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with wave.open(str(out)) as wav:
        assert wav.getnframes() / wav.getframerate() > 5.0  # the whole menu, not a fragment
