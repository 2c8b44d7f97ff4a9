"""The ``ivr`` command."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ivr", description="Contact-center IVR controller")
    parser.add_subparsers(dest="command", required=True)
    args = parser.parse_args(argv)
    print(args, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
