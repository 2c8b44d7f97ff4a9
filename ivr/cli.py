"""The ``ivr`` command: ``up``, ``serve``, ``pbx …``, ``flows …``, ``acd check``, ``report``, ``users …``,
``cluster up``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path


def _configure_logging(verbose: bool) -> None:
    level = (
        logging.DEBUG
        if verbose
        else getattr(logging, os.environ.get("IVR_LOG_LEVEL", "INFO").upper(), logging.INFO)
    )
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr
    )
    for noisy in ("aiohttp.access", "aiosqlite", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    from acd.cli import register as register_acd
    from ivr.asr.whisper_model import register as register_asr
    from ivr.cluster_up import register as register_cluster
    from ivr.flows.cli import register as register_flows
    from ivr.pbx.cli import register as register_pbx
    from ivr.up import register as register_up
    from ivr.web.users_cli import register as register_users

    parser = argparse.ArgumentParser(
        prog="ivr", description="Contact-center IVR controller for Asterisk (ARI)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_up(sub)
    register_pbx(sub)
    register_flows(sub, site_env=_site_queues)
    register_acd(sub)
    register_asr(sub)
    register_users(sub)
    register_cluster(sub)
    return parser


def _site_queues() -> tuple[frozenset[str], dict[str, str]] | None:
    """The site's queues and departments (IVR_QUEUES_FILE / IVR_AGENTS_FILE, or the shipped ones), so
    ``ivr flows check`` judges flows as the controller will; None (shipped set) if those files are broken."""
    from acd.runtime import AcdFiles, load_config

    agents, queues = os.environ.get("IVR_AGENTS_FILE"), os.environ.get("IVR_QUEUES_FILE")
    config, errors = load_config(AcdFiles(Path(agents) if agents else None, Path(queues) if queues else None))
    if config is None:
        print(
            f"note: the ACD files have {len(errors)} error(s) (ivr acd check); checking flows against "
            "the shipped queues",
            file=sys.stderr,
        )
        return None
    return config.queue_names(), config.department_extensions()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
