"""``GET /api/openapi.json``: the REST API's OpenAPI 3.1 description.

The document is hand-maintained in ``ivr/web/openapi.yaml`` (package data) and served as JSON.
``tests/web/test_openapi.py`` keeps it true against ``ivr.web.policy.RULES`` (the same routes and
methods, ``x-roles`` equal to each rule's roles).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from typing import Any

import yaml
from aiohttp import web

DOCUMENT = "openapi.yaml"


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The parsed description (read once per process)."""
    text = importlib.resources.files("ivr.web").joinpath(DOCUMENT).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ValueError(f"{DOCUMENT} is not a mapping")
    return document


@functools.cache
def _body() -> bytes:
    return json.dumps(openapi_document(), ensure_ascii=False).encode()


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=_body(), content_type="application/json", charset="utf-8")


def add_openapi_routes(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi_json)
