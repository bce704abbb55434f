"""Tokens the suite makes itself.

``Minter`` signs well-formed tokens with the target's own key (given in the profile, or known
in-process), so time checks can choose exp/nbf/iat instead of waiting. ``forge`` builds tokens no
library would produce (alg none, null signatures, bad segments): raw base64 on purpose.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt


@dataclass(frozen=True)
class SigningKey:
    algorithm: str
    key: str  # HS secret or PEM private key
    kid: str = ""


@dataclass(frozen=True)
class ClaimNames:
    """What the target calls the subject, role and tenant claims (the profile's [tokens] *_claim)."""

    subject: str = "sub"
    role: str = "role"
    tenant: str = "tid"


class Minter:
    def __init__(self, signing: SigningKey, *, issuer: str, audience: str, names: ClaimNames | None = None) -> None:
        self.signing = signing
        self.issuer = issuer
        self.audience = audience
        self.names = names or ClaimNames()

    def claims(self, *, sub: str, tid: str, sid: str, role: str = "viewer", token_type: str = "access",
               lifetime: int = 300, now: float | None = None) -> dict[str, Any]:
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            self.names.subject: sub, self.names.tenant: tid, "sid": sid, "type": token_type,
            "jti": secrets.token_hex(16), "iat": issued, "nbf": issued, "exp": issued + lifetime,
            "iss": self.issuer, "aud": self.audience,
        }
        if token_type == "access":
            claims[self.names.role] = role
        return claims

    def mint(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        extra = dict(headers or {})
        if self.signing.kid and "kid" not in extra:
            extra["kid"] = self.signing.kid
        if not self.signing.key and self.signing.algorithm.startswith("HS"):
            # PyJWT refuses an empty HMAC key, but a target may really sign with one (TOK-SECRET-BLANK).
            unsigned = forge({"alg": self.signing.algorithm, "typ": "JWT", **extra}, claims)[:-1]
            digest = hmac.new(b"", unsigned.encode(), "sha" + self.signing.algorithm[2:]).digest()
            return f"{unsigned}.{b64url(digest)}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # short test secrets are the point of some checks
            return jwt.encode(claims, _prepared(self.signing.algorithm, self.signing.key),
                              algorithm=self.signing.algorithm, headers=extra)


@lru_cache(maxsize=32)
def _prepared(algorithm: str, key: str) -> Any:
    """The key as PyJWT signs with it, parsed once: loading a PEM private key (RSA's checks
    included) costs tens of milliseconds, and a run mints hundreds of tokens with one key."""
    if algorithm.startswith("HS"):
        return key
    return jwt.get_algorithm_by_name(algorithm).prepare_key(key)


def b64url(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Header and claims of a token as dicts, and its signature segment, without verifying."""
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def forge(header: dict[str, Any] | str, claims: dict[str, Any] | str, signature: str = "") -> str:
    """Assemble a token from parts; strings are used as already-encoded segments."""
    head = header if isinstance(header, str) else b64url(json.dumps(header, separators=(",", ":")))
    body = claims if isinstance(claims, str) else b64url(json.dumps(claims, separators=(",", ":")))
    return f"{head}.{body}.{signature}"
