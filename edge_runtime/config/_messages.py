"""Turn pydantic's error records into short messages a user reads in one glance."""

from __future__ import annotations

from typing import Any

from pydantic_core import ErrorDetails

from edge_runtime.config._errors import preview
from edge_runtime.config._yaml import Path_


def clean_loc(data: Any, loc: tuple[str | int, ...]) -> Path_:
    """Drop the union tags and type names pydantic adds to a location, keeping only keys the user wrote."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if _has(node, part):
            out.append(part)
            node = node[part]
        elif isinstance(part, str) and (_is_tag(node, part) or "[" in part or part in _TYPE_NAMES):
            continue  # a discriminator tag or a union branch's type name such as 'list[...]'

        else:
            out.append(part)
            node = None
    return tuple(out)


_TYPE_NAMES = ("str", "int", "float", "bool", "none", "list", "dict")


def _is_tag(node: Any, part: str) -> bool:
    return isinstance(node, dict) and part == node.get("type")


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def describe(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    got = error.get("input")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()))
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"must be {op} {bound} (got {preview(got)})"
    if kind == "union_tag_invalid":
        return f"unknown type {ctx.get('tag')!r} (expected one of {ctx.get('expected_tags')})"
    if kind == "union_tag_not_found":
        return f"needs a `{ctx.get('discriminator', 'type').strip(chr(39))}:` key"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')} (got {preview(got)})"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    message = str(error["msg"])
    message = message.replace("Input should be", "must be").replace("Value error, ", "")
    if got is not None and "got" not in message:
        message += f" (got {preview(got)})"
    return message
