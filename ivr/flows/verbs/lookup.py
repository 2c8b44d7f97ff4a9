"""``lookup``: HTTP GET/POST to a templated URL; the JSON result lands in variables ``<into>.<key>``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import HttpLookup
from ivr.flows.events import Event, LookupDone
from ivr.flows.promptspec import render_template
from ivr.flows.verbs.base import NODE_REF, SECONDS, Edge, Go, RelPath, Result, Verb, VerbCtx


def flatten(data: Any, prefix: str, out: dict[str, str]) -> None:
    """``{"a": {"b": 1}}`` under ``x`` → ``x.a.b = "1"``; lists by index."""
    if isinstance(data, Mapping):
        for k, v in data.items():
            flatten(v, f"{prefix}.{k}", out)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            flatten(v, f"{prefix}.{i}", out)
    elif data is None:
        out[prefix] = ""
    elif isinstance(data, bool):
        out[prefix] = "true" if data else "false"
    else:
        out[prefix] = str(data)


class Lookup(Verb):
    type_name = "lookup"
    description = "HTTP request; JSON result into `into.*` variables; `next` on success, `on_failure` else."
    schema: ClassVar[dict[str, Any]] = {
        "url": {"type": "string", "description": "template, e.g. {services.orders}/orders/{order_number}"},
        "method": {"enum": ["GET", "POST"]},
        "body": {"type": "object", "additionalProperties": {"type": "string"}},
        "timeout": SECONDS,
        "into": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
        "next": NODE_REF,
        "on_not_found": NODE_REF,
        "on_failure": NODE_REF,
    }
    required = ("url", "into", "next", "on_failure")

    def start(self, ctx: VerbCtx) -> Result:
        request_id = ctx.next_id(f"{self.node_id}-")
        ctx.local["request"] = request_id
        body = self.spec.get("body")
        rendered = None if body is None else {k: render_template(str(v), ctx.vars) for k, v in body.items()}
        url = render_template(str(self.spec["url"]), ctx.vars)
        method = str(self.spec.get("method", "GET"))
        return Result([HttpLookup(request_id, method, url, rendered, float(self.spec.get("timeout", 3)))])

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if not isinstance(event, LookupDone) or event.request_id != ctx.local.get("request"):
            return Result()
        prefix = str(self.spec["into"])
        if event.ok and event.data is not None:
            for key in [k for k in ctx.vars if k.startswith(prefix + ".")]:
                del ctx.vars[key]
            flatten(event.data, prefix, ctx.vars)
            return Result(transition=Go(str(self.spec["next"])))
        ctx.vars[f"{prefix}.error"] = event.error or f"HTTP {event.status}"
        if event.status == 404 and "on_not_found" in self.spec:
            return Result(transition=Go(str(self.spec["on_not_found"])))
        return Result(transition=Go(str(self.spec["on_failure"])))

    def template_fields(self) -> list[tuple[RelPath, str]]:
        out = [(("url",), str(self.spec["url"]))]
        return out + [(("body", k), str(v)) for k, v in self.spec.get("body", {}).items()]

    def defined_vars(self) -> set[str]:
        return {str(self.spec["into"]) + "."}

    def targets(self) -> list[Edge]:
        return (
            self._edge("ok", "next")
            + self._edge("not found", "on_not_found")
            + self._edge("failure", "on_failure")
        )
