"""Structural (JSON Schema) errors in a flow file, worded for admins: "unknown key 'promt' (did you
mean 'prompt'?)", "wrong type: expected a whole number, got the text 'five'"."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jsonschema

from ivr.flows.errorlist import ErrorList
from ivr.flows.schema import flow_schema
from ivr.flows.suggest import did_you_mean
from ivr.flows.yamlpos import Path_, Positioned

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping (key: value)",
    "array": "a list",
    "null": "nothing",
}


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(flow_schema())


def describe_value(value: Any) -> str:
    """A YAML value as an error message names it ("the number 5", "a list")."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing"


def schema_errors(doc: Positioned, errs: ErrorList) -> set[Path_]:
    """Report structural errors; return the paths of nodes that have them."""
    bad: set[Path_] = set()
    error: Any
    for error in _validator().iter_errors(doc.data):
        path: Path_ = tuple(str(p) for p in error.absolute_path)
        if len(path) >= 2 and path[0] == "nodes":
            bad.add(path[:2])
        v, schema, inst = error.validator, error.schema, error.instance
        if v == "additionalProperties" and isinstance(inst, dict) and isinstance(schema, dict):
            allowed = set(schema.get("properties", {}))
            patterns = list(schema.get("patternProperties", {}))
            for k in inst:
                if k in allowed or any(re.search(p, k) for p in patterns):
                    continue
                extra = "" if not allowed else did_you_mean(k, allowed)
                names = sorted(allowed) + (["a language code (ja, en)"] if patterns else [])
                hint = extra or (f"; allowed: {', '.join(names)}" if names else "")
                errs.add((*path, k), f"unknown key '{k}'{hint}", key=True)
        elif v == "required" and isinstance(inst, dict):
            for k in error.validator_value:
                if k not in inst:
                    errs.add(path, f"missing required key '{k}'")
        elif v == "type":
            want = error.validator_value
            wants = [want] if isinstance(want, str) else list(want)
            words = " or ".join(_TYPE_WORDS.get(w, w) for w in wants)
            errs.add(path, f"wrong type: expected {words}, got {describe_value(inst)}")
        elif v in ("enum", "const"):
            choices = error.validator_value if v == "enum" else [error.validator_value]
            names = [str(c) for c in choices if c is not None]
            if path[-1:] == ("type",) and len(path) == 3:
                errs.add(
                    path, f"unknown verb '{inst}'{did_you_mean(str(inst), names)}; verbs: {', '.join(names)}"
                )
            else:
                errs.add(
                    path,
                    f"'{inst}' is not allowed{did_you_mean(str(inst), names)}; "
                    f"use one of: {', '.join(names)}",
                )
        elif (
            error.validator == "pattern"
            and isinstance(error.parent, jsonschema.ValidationError)
            and error.parent.validator == "propertyNames"
        ):
            pass  # reported via the parent below
        elif v == "propertyNames":
            errs.add((*path, str(inst)), f"'{inst}' is not allowed as a key here", key=True)
        elif v == "pattern":
            errs.add(path, f"'{inst}' does not have the expected form ({error.validator_value})")
        elif v in ("minProperties", "minItems"):
            errs.add(path, "must not be empty")
        else:
            errs.add(path, error.message)
    return bad
