"""Serve the demo order service alone (for ``ivr flows simulate`` without a running controller).

python -m ivr.demo [--port 8089]
IVR_SERVICES_ORDERS=http://127.0.0.1:8089/demo ivr flows simulate order_line --lang en --input "…"
"""

from __future__ import annotations

import argparse

from aiohttp import web

from ivr.demo.orders import add_demo_routes


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ivr.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    args = parser.parse_args()
    app = web.Application()
    add_demo_routes(app)
    web.run_app(app, host=args.host, port=args.port, access_log=None)


if __name__ == "__main__":
    main()
