from __future__ import annotations

import io
import json
import wave
from pathlib import Path

from ivr.tts.worker import serve
from tests.tts.fakes import write_tone


def replies(speak_calls: list[tuple[str, int]], requests: list[str]) -> list[dict[str, object]]:
    def speak(text: str, rate: int, out: Path) -> None:
        speak_calls.append((text, rate))
        if text == "silent":
            with wave.open(str(out), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(8000)
            return
        if text == "boom":
            raise RuntimeError("engine exploded")
        write_tone(out)

    out = io.StringIO()
    serve(speak, io.StringIO("".join(line + "\n" for line in requests)), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_each_request_gets_one_answer_and_errors_do_not_stop_the_child(tmp_path: Path) -> None:
    calls: list[tuple[str, int]] = []
    wav = str(tmp_path / "a.wav")
    answers = replies(calls, [
        json.dumps({"text": "はい", "rate": 200, "out": wav}),
        "not json",
        json.dumps({"text": "boom", "out": wav}),
        json.dumps({"text": "silent", "out": wav}),
        json.dumps({"text": "  ", "out": wav}),
        "",
        json.dumps({"text": "again", "out": wav}),
    ])  # fmt: skip
    assert answers[0] == {"ok": True}
    assert "JSONDecodeError" in str(answers[1]["error"])
    assert "engine exploded" in str(answers[2]["error"])
    assert "no audio" in str(answers[3]["error"])
    assert "empty text" in str(answers[4]["error"])
    assert answers[5] == {"ok": True}
    assert calls == [("はい", 200), ("boom", 160), ("silent", 160), ("again", 160)]
