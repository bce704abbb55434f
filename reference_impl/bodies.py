"""Reading request bodies: a JSON object or a 400, never an exception that becomes a 500; and the
string fields whose rules both the views and the OpenAPI document read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import request

from reference_impl.errors import BadRequest
from reference_impl.services import services

# The largest request body read (Flask's MAX_CONTENT_LENGTH); a larger one is answered 413.
MAX_BODY_BYTES = 1024 * 1024
# "Not blank": at least one character that is not ASCII whitespace. Written as an explicit class so
# that Python's re and the ECMA-262 regexes of JSON Schema validators agree on it (their \s differ).
NOT_BLANK = "[^ \t\n\r\f\v]"


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


@dataclass(frozen=True)
class TextField:
    """A string field of a body: its length bounds and whether it may be blank."""

    name: str
    max_length: int
    min_length: int = 0
    not_blank: bool = False

    @property
    def rule(self) -> str:
        words = f"a string of {self.min_length}-{self.max_length} characters" if self.min_length \
            else f"a string of at most {self.max_length} characters"
        return words + (", not blank" if self.not_blank else "")

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.not_blank:
            schema["pattern"] = NOT_BLANK
        return schema

    def read(self, body: dict[str, Any], *, required: bool) -> str | None:
        """The field's value, None when it is absent and not required; 400 when it breaks the rule."""
        if self.name not in body and not required:
            return None
        value = body.get(self.name)
        if not isinstance(value, str) or not self.min_length <= len(value) <= self.max_length \
                or (self.not_blank and re.search(NOT_BLANK, value) is None):
            raise BadRequest(f"{self.name} must be {self.rule}")
        return value


def decimal(text: str, max_digits: int) -> int | None:
    """The number ``text`` writes in 1 to ``max_digits`` ASCII digits, else None. (str.isdigit is
    not enough: it takes "²", which int() refuses, and "٣", which int() reads as 3.)"""
    if not 0 < len(text) <= max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)
