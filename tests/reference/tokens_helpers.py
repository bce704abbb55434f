"""Building tokens by hand for the reference's tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(head))), json.loads(base64.urlsafe_b64decode(pad(body)))


def hs256(header: dict[str, Any], claims: dict[str, Any], key: bytes | str) -> str:
    key = key.encode() if isinstance(key, str) else key
    signing_input = f"{b64(json.dumps(header))}.{b64(json.dumps(claims))}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    return f"{b64(json.dumps(header))}.{b64(json.dumps(claims))}.{signature}"


def resign(token: str, secret: str, *, header: dict[str, Any] | None = None, **changes: Any) -> str:
    """The token's claims with ``changes`` (None deletes), signed again with ``secret``."""
    head, claims = parts(token)
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return hs256(header or head, claims, secret)


def now() -> int:
    return int(time.time())
