"""What one request of a load run leaves behind.

A sample holds times, the status, the operation's name, the limiter keys the request counts
against and, when the target admitted something the contract forbids, what it was. Keys name a
limiter kind and an opaque id (``api:acct-3f9a12c0``, ``login-ip:10.7.0.3``,
``login-account:10.7.0.3|acct-3f9a12c0``): never a token, a password or a username.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

# Limiter kinds a key may name (the part before the first colon).
API = "api"
LOGIN_IP = "login-ip"
LOGIN_ACCOUNT = "login-account"
KINDS = (API, LOGIN_IP, LOGIN_ACCOUNT)

# What the contract forbids and a sample may record as admitted anyway.
REVOKED_TOKEN_ACCEPTED = "revoked token accepted"
REFRESH_TOKEN_REUSED = "refresh token accepted twice"
WRONG_PASSWORD_ACCEPTED = "wrong password accepted"
VIOLATIONS = (REVOKED_TOKEN_ACCEPTED, REFRESH_TOKEN_REUSED, WRONG_PASSWORD_ACCEPTED)

# Status classes the timeline splits requests into.
CLASSES = ("2xx", "401", "429", "5xx", "other")
NO_ANSWER = 0


@dataclass(frozen=True)
class Sample:
    sent: float  # wall clock (time.time()) when the request left
    received: float  # wall clock when the answer (or the error) came back
    status: int  # 0: no answer (connection refused, timeout)
    operation: str
    keys: tuple[str, ...] = ()
    violation: str = ""
    unexpected: bool = False  # an answer the profile does not expect (locust counts it as a failure)

    @property
    def latency_ms(self) -> float:
        return (self.received - self.sent) * 1000.0

    def row(self) -> list[Any]:
        """Compact form for locust's master/worker messages and samples.json."""
        return [round(self.sent, 6), round(self.received, 6), self.status, self.operation, list(self.keys),
                self.violation, int(self.unexpected)]

    @classmethod
    def from_row(cls, row: list[Any]) -> Sample:
        sent, received, status, operation, keys, violation, unexpected = row
        return cls(float(sent), float(received), int(status), str(operation), tuple(str(k) for k in keys),
                   str(violation), bool(unexpected))


def status_class(status: int) -> str:
    if 200 <= status < 300:
        return "2xx"
    if status in (401, 429):
        return str(status)
    if status >= 500:
        return "5xx"
    return "other"


def kind_of(key: str) -> str:
    return key.split(":", 1)[0]


def opaque(*parts: str) -> str:
    """A short stable id for an account (tenant, username): reports never show the name itself."""
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:8]
    return f"acct-{digest}"


def admitted_by(kind: str, status: int) -> bool:
    """Whether a request of this status certainly went past a limiter of this kind.

    Only what the contract makes certain counts, so a correct limiter is never blamed: on the API a
    2xx (a 401 may be refused before counting); on login a 2xx or a 401 (the limiter counts
    attempts before the password is checked). A 429, a 5xx and no answer never count.
    """
    if kind == API:
        return 200 <= status < 300
    return 200 <= status < 300 or status == 401
