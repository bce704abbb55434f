"""The one seam between checks and the world.

Checks talk to a ``Target``; they never import Flask or requests. A target sends requests and may
offer abilities beyond that, named in ``abilities``:

- ``clock``: the target's clock can be read and moved (``target.clock``), in-process only;
- ``workers``: requests can be sent to distinct server instances sharing one store (``worker=``);
- ``restart``: the server can be restarted keeping its stores (``target.restart()``);
- ``store_control``: the revocation store can be made unreachable (``target.store_down()``);
- ``provision``: users of any role can be created directly (``target.provision_user``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any, Protocol

# Bodies are read with a cap: a hostile target must not exhaust memory.
MAX_BODY_BYTES = 1_000_000


class Headers(Mapping[str, str]):
    """Case-insensitive response headers that keep every Set-Cookie line."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._first: dict[str, str] = {}
        for name, value in pairs:
            self._first.setdefault(name.lower(), value)

    def __getitem__(self, name: str) -> str:
        return self._first[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key.lower() == name.lower()]

    def as_dict(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for name, value in self._pairs:
            merged[name] = f"{merged[name]}, {value}" if name in merged else value
        return merged


@dataclass(frozen=True)
class SetCookie:
    name: str
    value: str
    attributes: dict[str, str]  # lower-cased attribute names; flags map to "" or "true"

    @property
    def http_only(self) -> bool:
        return "httponly" in self.attributes

    @property
    def secure(self) -> bool:
        return "secure" in self.attributes

    @property
    def same_site(self) -> str:
        return self.attributes.get("samesite", "")

    @property
    def path(self) -> str:
        return self.attributes.get("path", "")

    @property
    def clears(self) -> bool:
        """True when this Set-Cookie deletes the cookie (empty, expired or max-age 0)."""
        max_age = self.attributes.get("max-age", "")
        expires = self.attributes.get("expires", "")
        return self.value in ("", '""') or max_age in ("0", "-1") or "1970" in expires


@dataclass
class Response:
    status: int
    headers: Headers
    body: bytes
    elapsed: float  # seconds, measured on a real (never frozen) clock
    url: str = ""
    truncated: bool = False
    _json: Any = field(default=None, repr=False)
    _json_done: bool = field(default=False, repr=False)

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        if not self._json_done:
            self._json_done = True
            try:
                self._json = json.loads(self.body) if self.body else None
            except (ValueError, UnicodeDecodeError, RecursionError):
                self._json = None
        return self._json

    def field(self, name: str) -> Any:
        data = self.json()
        return data.get(name) if isinstance(data, dict) else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def set_cookies(self) -> list[SetCookie]:
        cookies = []
        for line in self.headers.get_all("set-cookie"):
            cookies.extend(parse_set_cookie(line))
        return cookies

    def cookie(self, name: str) -> SetCookie | None:
        for cookie in self.set_cookies():
            if cookie.name == name:
                return cookie
        return None


def parse_set_cookie(line: str) -> list[SetCookie]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(line)
    except CookieError:
        return []
    cookies = []
    # SimpleCookie knows the attributes; flags (HttpOnly, Secure) are read from the raw text too,
    # because SimpleCookie drops a flag it cannot place.
    raw_parts = [part.strip().lower() for part in line.split(";")[1:]]
    for name, morsel in jar.items():
        attributes = {key.lower(): str(value) for key, value in morsel.items() if value}
        for part in raw_parts:
            key, _, value = part.partition("=")
            attributes.setdefault(key.strip(), value.strip())
        cookies.append(SetCookie(name=name, value=morsel.value, attributes=attributes))
    return cookies


class Clock(Protocol):
    def now(self) -> float: ...

    def advance(self, seconds: float) -> None: ...


class Target(Protocol):
    name: str
    base_url: str
    abilities: frozenset[str]

    @property
    def clock(self) -> Clock | None: ...  # read-only: each target narrows it

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        raw_body: bytes | None = None,
        cookies: Mapping[str, str] | None = None,
        worker: int = 0,
        source: str | None = None,
    ) -> Response: ...

    def restart(self) -> None: ...

    def store_down(self) -> AbstractContextManager[None]: ...

    def provision_user(self, *, username: str, password: str, tenant: str, role: str) -> str: ...

    def close(self) -> None: ...
