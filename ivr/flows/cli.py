"""``ivr flows check|schema|simulate|graph``. ``register(subparsers)`` adds them to the ``ivr`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ivr.flows.graph import GraphError, render
from ivr.flows.loader import SHIPPED_DIR, load_paths
from ivr.flows.schema import schema_json
from ivr.flows.simulate import Simulator, split_inputs


def _default_dirs(extra: str | None = None) -> list[Path]:
    dirs = [SHIPPED_DIR]
    site = extra
    if site is None:
        try:
            from ivr.settings import Settings

            settings = Settings.from_env()
            flows_dir = settings.site_flows_dir  # IVR_FLOWS_DIR, else <data dir>/flows if it exists
            site = str(flows_dir) if settings.flows_dir or flows_dir.is_dir() else None
        except ValueError:
            site = None
    if site:
        dirs.append(Path(site))
    return dirs


def cmd_check(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or _default_dirs()
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"{p}: no such file or directory", file=sys.stderr)
    env = args.site_env() if getattr(args, "site_env", None) else None
    if env is None:
        result = load_paths([p for p in paths if p.exists()])
    else:
        result = load_paths([p for p in paths if p.exists()], queues=env[0], departments=env[1])
    problems = sorted(result.errors + result.warnings, key=lambda e: (e.file, e.line, e.column))
    for problem in problems:
        print(problem, file=sys.stderr)
    warned = f" ({len(result.warnings)} warning(s))" if result.warnings else ""
    if result.errors or missing:
        print(f"{len(result.errors) + len(missing)} error(s){warned}", file=sys.stderr)
        return 1
    print(f"ok: {len(result.flows)} flow(s): {', '.join(sorted(result.flows))}{warned}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(schema_json())
    return 0


def _load(name: str, dir_: str | None) -> Any:
    result = load_paths(_default_dirs(dir_))
    if name not in result.flows:
        for error in result.errors:
            print(error, file=sys.stderr)
        known = ", ".join(sorted(result.flows)) or "none"
        print(f"no valid flow named '{name}' (loaded: {known})", file=sys.stderr)
        return None
    return result.flows[name]


def _interactive() -> Any:
    while True:
        try:
            yield input("caller> ")
        except EOFError:
            return


def cmd_simulate(args: argparse.Namespace) -> int:
    flow = _load(args.name, args.dir)
    if flow is None:
        return 2
    try:
        now = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    except ValueError:
        print(f"--at {args.at!r} is not an ISO date-time (e.g. 2025-06-02T10:30+09:00)", file=sys.stderr)
        return 2
    if now.tzinfo is None:
        now = now.astimezone()
    if args.lang and args.lang not in flow.languages:
        print(f"--lang {args.lang}: flow '{flow.name}' speaks {', '.join(flow.languages)}", file=sys.stderr)
        return 2
    from ivr.settings import Settings, SettingsError

    try:
        site_vars = Settings.from_env().site_vars  # IVR_SERVICES_ORDERS / IVR_HOURS_OVERRIDE, as calls
    except SettingsError as exc:
        print(f"ivr flows simulate: {exc}", file=sys.stderr)
        return 2
    sim = Simulator(
        flow,
        lang=args.lang,
        now=now,
        caller=args.caller,
        dialed=args.dialed,
        queue_outcome=args.queue_outcome,
        site_vars=site_vars,
    )
    if args.input is None:
        print(
            "Keys: digits/#/* are DTMF, words are speech (say:4271 = spoken digits), '-' is no input, "
            "asr-busy = the recogniser was too busy; Ctrl-D hangs up."
        )
        inputs = _interactive()
    else:
        inputs = iter(split_inputs(args.input))
    state = sim.run(inputs)
    print(f"path: {' → '.join(state.path)}")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    flow = _load(args.name, args.dir)
    if flow is None:
        return 2
    try:
        render(flow, Path(args.output))
    except (GraphError, OSError) as exc:
        print(f"graph: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}")
    return 0


SiteEnv = Callable[[], "tuple[frozenset[str], Mapping[str, str]] | None"]


def register(subparsers: Any, *, site_env: SiteEnv | None = None) -> None:
    """Add ``flows …`` to the ``ivr`` command's subparsers; each sets ``func`` returning an exit code.

    ``site_env`` gives the site's queue names and departments (the wiring reads them from the ACD's
    queues file); without it, or when it answers None, flows are checked against the shipped set."""
    flows = subparsers.add_parser("flows", help="check, simulate and draw call flows")
    sub = flows.add_subparsers(dest="flows_command", required=True)
    p = sub.add_parser("check", help="validate flow files (default: shipped + site flows)")
    p.add_argument("paths", nargs="*", help="flow files or directories")
    p.set_defaults(func=cmd_check, site_env=site_env)
    p = sub.add_parser("schema", help="print the flow JSON Schema")
    p.set_defaults(func=cmd_schema)
    p = sub.add_parser("simulate", help="step a flow in the terminal")
    p.add_argument("name")
    p.add_argument("--lang", help="start language (ja|en)")
    p.add_argument(
        "--input", help='comma-separated caller input, e.g. "1,4271#,yes,-" (say:4271: spoken digits)'
    )
    p.add_argument("--at", help="pretend it is this ISO date-time (business hours)")
    p.add_argument("--dir", help="site flows directory (default: IVR_FLOWS_DIR, else <data dir>/flows)")
    p.add_argument("--caller", default="0312345678", help="caller number")
    p.add_argument("--dialed", default="", help="dialed number")
    p.add_argument("--queue-outcome", default="no_agents", choices=["no_agents", "answered", "timeout"])
    p.set_defaults(func=cmd_simulate)
    p = sub.add_parser("graph", help="draw a flow (.svg/.png/.dot)")
    p.add_argument("name")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--dir", help="site flows directory (default: IVR_FLOWS_DIR, else <data dir>/flows)")
    p.set_defaults(func=cmd_graph)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ivr")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
