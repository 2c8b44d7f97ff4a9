"""``ivr acd check`` and ``ivr report``. ``register(subparsers)`` adds them to the ``ivr`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from acd.config import load_acd
from acd.report import format_report
from acd.report_source import report_for
from ivr.settings import Settings, SettingsError
from ivr.store import CallStore

TODAY = "today"


class BadMoment(ValueError):
    """A --since/--until value that is neither ISO 8601 nor ``today``."""


def parse_moment(text: str, now: datetime) -> datetime:
    """``today`` (UTC midnight of ``now``), an ISO date (its UTC midnight) or an ISO datetime (no zone:
    UTC) → an aware UTC datetime."""
    value = text.strip()
    if value.lower() == TODAY:
        return datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    try:
        moment = datetime.fromisoformat(value)  # a date alone is its midnight
    except ValueError:
        raise BadMoment(
            f"{text!r} is not a date or time: use today, 2026-12-01 or 2026-12-01T09:00[:00][Z|+09:00]"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _env_file(name: str) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw) if raw else None


def _live_copy(name: str) -> Path | None:
    """The controller's copy of a shipped file in the data directory (``agents_source``), if made."""
    try:
        path = Settings.from_env().data_dir / name
    except SettingsError:
        return None
    return path if path.is_file() else None


def cmd_check(args: argparse.Namespace) -> int:
    agents = Path(args.agents) if args.agents else _env_file("IVR_AGENTS_FILE") or _live_copy("agents.yaml")
    queues = Path(args.queues) if args.queues else _env_file("IVR_QUEUES_FILE")
    config, errors = load_acd(agents, queues)
    for error in errors:
        print(error, file=sys.stderr)
    if config is None:
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    print(f"ok: {len(config.agents)} agents, {len(config.queues)} queues")
    return 0


async def _report(settings: Settings, since: datetime | None, until: datetime | None, now: datetime) -> Any:
    store = CallStore(settings.db_url, ring_cycle_s=settings.ring_cycle_s)
    await store.open()
    try:
        return await report_for(
            store,
            since=since,
            until=until,
            ring_cycle_s=settings.ring_cycle_s,
            target_rings=settings.answer_target_rings,
            short_abandon_s=settings.short_abandon_s,
            now=now,
        )
    finally:
        await store.close()


def cmd_report(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    try:
        since = parse_moment(args.since, now) if args.since else None
        until = parse_moment(args.until, now) if args.until else None
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"ivr report: {exc}", file=sys.stderr)
        return 2
    if since is not None and until is not None and until <= since:
        print(f"ivr report: --until ({args.until}) must be after --since ({args.since})", file=sys.stderr)
        return 2
    report = asyncio.run(_report(settings, since, until, now))
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(format_report(report))
    return 0


def register(subparsers: Any) -> None:
    acd = subparsers.add_parser("acd", help="the ACD's agents and queues files")
    acd_sub = acd.add_subparsers(dest="acd_command", required=True, metavar="ACTION")
    check = acd_sub.add_parser("check", help="validate the agents and queues files")
    check.add_argument("--agents", help="agents YAML (default: $IVR_AGENTS_FILE, else the shipped demo)")
    check.add_argument("--queues", help="queues YAML (default: $IVR_QUEUES_FILE, else the shipped file)")
    check.set_defaults(func=cmd_check)

    report = subparsers.add_parser(
        "report", help="service report (SL, ASA, abandons, staffing) from the store"
    )
    report.add_argument(
        "--since", default=TODAY, help="start: today (default), an ISO date or datetime (UTC unless zoned)"
    )
    report.add_argument("--until", help="end, exclusive (default: open)")
    report.add_argument("--json", action="store_true", help="print the report as JSON (docs/metrics.md)")
    report.set_defaults(func=cmd_report)
