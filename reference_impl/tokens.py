"""Issuing tokens: an access token and a refresh token per login or refresh, both bound to the
session (``sid``), which is also the refresh family."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from reference_impl.config import Config
from reference_impl.keys import KeySet, b64url

# Fault long-access-ttl: the 24 h access tokens of the tenant middleware.
LONG_ACCESS_TTL = 86400
# Fault refresh-token-long-lived: refresh tokens that live a year.
LONG_REFRESH_TTL = 365 * 86400


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_jti: str
    refresh_jti: str
    expires_in: int


def new_jti() -> str:
    return secrets.token_urlsafe(18)


class TokenIssuer:
    def __init__(self, config: Config, keys: KeySet) -> None:
        self.config = config
        self.keys = keys

    @property
    def access_ttl(self) -> int:
        return LONG_ACCESS_TTL if self.config.has_fault("long-access-ttl") else self.config.access_ttl

    @property
    def refresh_ttl(self) -> int:
        return LONG_REFRESH_TTL if self.config.has_fault("refresh-token-long-lived") else self.config.refresh_ttl

    def encode(self, claims: dict[str, Any]) -> str:
        header: dict[str, Any] = {"alg": self.keys.algorithm, "typ": "JWT"}
        if self.keys.kid:
            header["kid"] = self.keys.kid
        head = b64url(json.dumps(header, separators=(",", ":")).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{head}.{body}".encode()
        return f"{head}.{body}.{b64url(self.keys.sign(signing_input))}"

    def _claims(self, token_type: str, user_id: int, tenant: str, session_id: str, now: float, ttl: int,
                jti: str) -> dict[str, Any]:
        issued = int(now)
        return {"sub": str(user_id), "tid": tenant, "sid": session_id, "type": token_type, "jti": jti,
                "iat": issued, "nbf": issued, "exp": issued + ttl, "iss": self.config.issuer,
                "aud": self.config.audience}

    def access_token(self, *, user_id: int, role: str, tenant: str, session_id: str, now: float,
                     jti: str | None = None) -> tuple[str, str]:
        jti = jti or new_jti()
        claims = self._claims("access", user_id, tenant, session_id, now, self.access_ttl, jti)
        claims["role"] = role
        return self.encode(claims), jti

    def refresh_token(self, *, user_id: int, tenant: str, session_id: str, now: float,
                      jti: str | None = None) -> tuple[str, str]:
        jti = jti or new_jti()
        claims = self._claims("refresh", user_id, tenant, session_id, now, self.refresh_ttl, jti)
        return self.encode(claims), jti

    def pair(self, *, user_id: int, role: str, tenant: str, session_id: str, now: float,
             refresh_jti: str) -> TokenPair:
        # Fault refresh-token-shared-jti: the login's one id written into both tokens.
        shared = refresh_jti if self.config.has_fault("refresh-token-shared-jti") else None
        access, access_jti = self.access_token(user_id=user_id, role=role, tenant=tenant, session_id=session_id,
                                               now=now, jti=shared)
        refresh, _ = self.refresh_token(user_id=user_id, tenant=tenant, session_id=session_id, now=now,
                                        jti=refresh_jti)
        return TokenPair(access, refresh, access_jti, refresh_jti, self.access_ttl)
