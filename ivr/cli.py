"""The ``ivr`` command: ``up``, ``serve``, ``pbx …``, ``flows …``, ``acd check``, ``report``."""

from __future__ import annotations

import argparse
import logging
import os
import sys


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
    from ivr.flows.cli import register as register_flows
    from ivr.pbx.cli import register as register_pbx
    from ivr.up import register as register_up

    parser = argparse.ArgumentParser(
        prog="ivr", description="Contact-center IVR controller for Asterisk (ARI)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_up(sub)
    register_pbx(sub)
    register_flows(sub)
    register_acd(sub)
    return parser


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
