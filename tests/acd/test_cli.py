"""``ivr acd check`` and ``ivr report`` through the ``ivr`` command's parser."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from acd.cli import BadMoment, parse_moment
from acd.config import DEFAULT_AGENTS_FILE, DEFAULT_QUEUES_FILE, load_acd
from ivr.cli import main
from ivr.store import CallStore, default_db_url

BAD = Path(__file__).parent / "bad"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("IVR_AGENTS_FILE", "IVR_QUEUES_FILE", "IVR_DB_URL", "IVR_RING_CYCLE_S"):
        monkeypatch.delenv(name, raising=False)
    for name in ("IVR_ANSWER_TARGET_RINGS", "IVR_SHORT_ABANDON_S"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IVR_DATA_DIR", str(tmp_path))


# --- acd check --------------------------------------------------------------------------------------


def test_check_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    config, errors = load_acd(DEFAULT_AGENTS_FILE, DEFAULT_QUEUES_FILE)
    assert config is not None and not errors

    assert main(["acd", "check"]) == 0

    out = capsys.readouterr().out.strip()
    assert out == f"ok: {len(config.agents)} agents, {len(config.queues)} queues"


def test_check_reports_every_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    agents, queues = BAD / "agents_missing.yaml", BAD / "queues_ok.yaml"
    expected = [str(e) for e in load_acd(agents, queues)[1]]
    assert len(expected) > 1

    assert main(["acd", "check", "--agents", str(agents), "--queues", str(queues)]) == 1

    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines[:-1] == expected
    assert lines[-1] == f"{len(expected)} error(s)"
    assert all(line.startswith(str(agents)) for line in lines[:-1])
    assert "ok:" not in captured.out


def test_check_reads_the_files_named_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IVR_QUEUES_FILE", str(BAD / "bad_strategy.yaml"))

    assert main(["acd", "check"]) == 1

    err = capsys.readouterr().err
    assert "bad_strategy.yaml" in err
    assert "longest-idel" in err


def test_check_reads_the_controllers_copy_in_the_data_dir(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "agents.yaml").write_text(DEFAULT_AGENTS_FILE.read_text().replace("orders: 5", "oders: 5"))

    assert main(["acd", "check"]) == 1

    err = capsys.readouterr().err
    assert str(tmp_path / "agents.yaml") in err
    assert "oders" in err


def test_check_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["acd", "check", "--agents", str(tmp_path / "nope.yaml")]) == 1
    assert "nope.yaml" in capsys.readouterr().err


# --- report -----------------------------------------------------------------------------------------


def test_parse_moment() -> None:
    now = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert parse_moment("today", now) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_moment("2026-11-30", now) == datetime(2026, 11, 30, tzinfo=UTC)
    assert parse_moment("2026-11-30T09:15", now) == datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    assert parse_moment("2026-11-30T09:15:00+09:00", now) == datetime(2026, 11, 30, 0, 15, tzinfo=UTC)
    assert parse_moment("2026-11-30T09:15:00Z", now).tzinfo == UTC
    with pytest.raises(BadMoment):
        parse_moment("yesterday-ish", now)


async def _populate(db_url: str) -> None:
    store = CallStore(db_url)
    await store.open()
    try:
        await store.call_started("c1", "ch1", "0312345678", None, "0501234", "shop", at(0))
        await store.call_answered("c1", at(1))
        await store.queue_entered("c1", "orders", at(10))
        await store.offer_started("c1", "2101", at(11))
        await store.offer_answered("c1", "2101", at(15))
        await store.offer_ended("c1", "2101", at(115), "answered")
        await store.survey_answered("c1", 5, at(120))
        await store.call_ended("c1", at(125), "completed", 16)
        await store.call_started("c2", "ch2", "0399999999", None, "0501234", "shop", at(600))
        await store.queue_entered("c2", "orders", at(610))
        await store.call_ended("c2", at(640), "abandoned", 16)
        await store.call_started("c3", "ch3", "0399999998", None, "0501234", "shop", at(7200))  # outside
        await store.agent_state_changed("2101", "available", None, None, at(0))
        await store.agent_state_changed("2101", "on_call", None, "c1", at(15))
        await store.agent_state_changed("2101", "wrap_up", None, "c1", at(115))
        await store.agent_state_changed("2101", "available", None, None, at(135))
    finally:
        await store.close()


def test_report_json_from_the_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = default_db_url(tmp_path / "db")
    monkeypatch.setenv("IVR_DB_URL", db_url)
    monkeypatch.setenv("IVR_RING_CYCLE_S", "2")
    asyncio.run(_populate(db_url))

    code = main(["report", "--since", "2026-12-01T09:00:00Z", "--until", "2026-12-01T10:00", "--json"])

    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["since"], report["until"]) == ("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z")
    assert (report["ring_cycle_s"], report["target_s"]) == (2.0, 6.0)
    overall = report["overall"]
    assert (overall["offered"], overall["answered"], overall["abandoned"]) == (2, 1, 1)
    assert overall["asa_s"] == 5.0
    assert overall["aht_s"] == 120.0  # 100 s talk + 20 s wrap-up from the state log
    assert overall["csat"]["responses"] == 1
    assert overall["ring_distribution"]["2"] == 1  # 4 s at 2 s a ring
    assert set(report["agents"]) == {"2101"}
    assert list(report["queues"]) == ["orders"]


def test_report_text(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = default_db_url(tmp_path / "db")
    monkeypatch.setenv("IVR_DB_URL", db_url)
    asyncio.run(_populate(db_url))

    assert main(["report", "--since", "2026-12-01", "--until", "2026-12-02"]) == 0

    out = capsys.readouterr().out
    assert "orders" in out
    assert "overall" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "tomorrow"], "'tomorrow' is not a date or time"),
        (["--until", "2026-13-01"], "'2026-13-01' is not a date or time"),
        (["--since", "2026-12-02", "--until", "2026-12-01"], "must be after"),
    ],
)
def test_report_bad_window_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["report", *args]) == 2

    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert message in captured.err
    assert captured.out == ""
    assert not (tmp_path / "ivr.db").exists()  # no store opened


def test_report_bad_setting_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IVR_SHORT_ABANDON_S", "soon")
    assert main(["report"]) == 2
    assert "IVR_SHORT_ABANDON_S" in capsys.readouterr().err
