"""What an HTTP lookup's answer means for the flow. Pure; real calls and ``simulate`` both use it.

A lookup succeeds only with a 2xx/3xx status and a JSON object body; anything else (an error status, a
body that is not JSON, a JSON list or scalar, a body over the size limit, no answer) is the lookup's
failure branch — never the end of the call.
"""

from __future__ import annotations

import json

from ivr.flows.events import LookupDone

BODY_LIMIT = 256 * 1024
"""Bytes of a lookup's answer that are read; a larger answer is a failure."""


def lookup_result(
    request_id: str, status: int | None, body: bytes | None, error: str | None = None
) -> LookupDone:
    """The ``LookupDone`` for an answer (``status`` + ``body``) or a transport ``error`` (no answer)."""
    if error is not None or status is None:
        return LookupDone(request_id, False, status, None, error or "no answer")
    if status >= 400:
        return LookupDone(request_id, False, status, None, f"HTTP {status}")
    if body is not None and len(body) > BODY_LIMIT:
        return LookupDone(request_id, False, status, None, "response larger than 256 KiB")
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return LookupDone(request_id, False, status, None, "not JSON")
    if not isinstance(data, dict):
        return LookupDone(request_id, False, status, None, "not a JSON object")
    return LookupDone(request_id, True, status, data)
