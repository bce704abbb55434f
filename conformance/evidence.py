"""Evidence: the exchanges that decided a verdict, recorded with every secret redacted.

Redaction happens when an exchange is recorded, not when a report is written, so no secret is
ever held in a result. Two layers: every secret the run learns (passwords it chose, tokens it
received, keys from the profile) is registered with the ``Redactor``; and anything shaped like a
JWT is masked whether it was registered or not.
"""

from __future__ import annotations

import re
import threading
from typing import Any

_JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")
_SECRET_HEADERS = {"authorization", "cookie", "set-cookie", "x-csrf-token", "proxy-authorization"}
_BODY_LIMIT = 2000
MASK = "[redacted]"


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *secrets: str | None) -> None:
        with self._lock:
            for secret in secrets:
                # Very short strings would mask ordinary words; they are not worth hiding.
                if secret and len(secret) >= 4:
                    self._secrets.add(secret)

    def publish(self, *values: str) -> None:
        """Stop masking values found to be public (a signing secret from a published list of
        defaults): the report names them, since the finding is that they are known to everyone."""
        with self._lock:
            self._secrets.difference_update(values)

    def text(self, value: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return _JWT_SHAPE.sub("[redacted-jwt]", value)

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        cleaned = {}
        for name, value in headers.items():
            if name.lower() in _SECRET_HEADERS:
                cleaned[name] = _mask_header(name, value)
            else:
                cleaned[name] = self.text(value)
        return cleaned


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped: what a target chose to send
    (a header, a status line) never reaches a terminal as an escape sequence."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _mask_header(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered in {"authorization", "proxy-authorization"}:
        scheme = value.split(" ", 1)[0] if " " in value else ""
        return f"{scheme} {MASK}".strip()
    if lowered in {"cookie", "set-cookie"}:
        # Keep cookie names and attributes (they are what cookie checks are about), mask values.
        return re.sub(r"(^|;\s*)([^=;\s]+)=([^;]*)", _mask_cookie_pair, value)
    return MASK


_COOKIE_ATTRS = {"path", "domain", "expires", "max-age", "samesite"}


def _mask_cookie_pair(match: re.Match[str]) -> str:
    lead, name, value = match.groups()
    if name.lower() in _COOKIE_ATTRS or not value:
        return f"{lead}{name}={value}"
    return f"{lead}{name}={MASK}"


def exchange_record(
    redactor: Redactor,
    *,
    note: str,
    method: str,
    url: str,
    request_headers: dict[str, str],
    request_body: bytes | str | None,
    status: int | None,
    response_headers: dict[str, str],
    response_body: bytes | None,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "note": note,
        "request": {
            "method": method,
            "url": redactor.text(url),
            "headers": redactor.headers(request_headers),
            "body": redactor.text(_excerpt(request_body)),
        },
        "response": None
        if status is None
        else {
            "status": status,
            "headers": redactor.headers(response_headers),
            "body": redactor.text(_excerpt(response_body)),
        },
        "error": redactor.text(error) if error else None,
    }


def _excerpt(body: bytes | str | None) -> str:
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if len(text) > _BODY_LIMIT:
        return text[:_BODY_LIMIT] + f"... ({len(text) - _BODY_LIMIT} more characters)"
    return text
