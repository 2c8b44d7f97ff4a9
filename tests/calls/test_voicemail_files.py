from datetime import UTC, datetime
from pathlib import Path

from ivr.calls.voicemail_files import VoicemailFiler


async def test_recording_is_filed_by_day(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "c1-voicemail-3.wav").write_bytes(b"RIFF....WAVE")
    filer = VoicemailFiler(spool, tmp_path / "recordings")
    target = await filer.file("c1-voicemail-3")
    assert target is not None and target.read_bytes() == b"RIFF....WAVE"
    assert target.parent.name == datetime.now(UTC).strftime("%Y-%m-%d")
    assert not (spool / "c1-voicemail-3.wav").exists()


async def test_missing_recording_is_none_not_an_error(tmp_path: Path) -> None:
    filer = VoicemailFiler(tmp_path / "spool", tmp_path / "recordings")
    assert await filer.file("nothing-here") is None
