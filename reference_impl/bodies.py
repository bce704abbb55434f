"""Reading request bodies: a JSON object or a 400, never an exception that becomes a 500."""

from __future__ import annotations

from typing import Any

from flask import request

from reference_impl.errors import BadRequest
from reference_impl.services import services


def json_object() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly nested JSON is refused like any malformed body
        data = None
    if services().config.has_fault("crash-on-malformed-body"):
        return data  # type: ignore[return-value]  # the bug: the body's shape is trusted
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def string_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value
