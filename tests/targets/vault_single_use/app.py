"""vault: a FastAPI service whose access tokens are single-use.

Not written for authconform: the shape of APIs that hand out one-time request tokens (payment and
secrets services do). ``POST /v1/sessions`` logs in with a JSON body and answers an access token,
a refresh token and the session id. Every access token is accepted ONCE: the first request that
presents it spends its jti, and a second request with it is refused. The client gets the next one
from ``POST /v1/sessions/renew`` (the refresh token in the body), which answers ``{"token": ...}``.
The refresh token is not rotated: it renews until the session ends or it expires. Logout is
``DELETE /v1/sessions/current`` naming the session in an ``X-Session-ID`` header. Users and
sessions live in memory (one uvicorn worker); passwords are hashed with Argon2.

Configuration (environment): ``VAULT_JWT_SECRET`` (required), ``VAULT_ARGON2_TIME_COST`` and
``VAULT_ARGON2_MEMORY_KIB`` (argon2-cffi's defaults unless set).

Serve: ``uvicorn --app-dir tests/targets/vault_single_use app:app``.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi import Depends, FastAPI, Header, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

SECRET = os.environ["VAULT_JWT_SECRET"]
ALGORITHM = "HS256"
ISSUER, AUDIENCE = "vault", "vault-api"
ACCESS_TTL, REFRESH_TTL = 120, 3600
MIN_PASSWORD, MAX_PASSWORD = 12, 128

hasher = PasswordHasher(time_cost=int(os.environ.get("VAULT_ARGON2_TIME_COST", 3)),
                        memory_cost=int(os.environ.get("VAULT_ARGON2_MEMORY_KIB", 65536)))
DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))  # verified for unknown users: same cost as a miss


@dataclass
class Session:
    id: str
    username: str
    refresh_jti: str
    ended: bool = False


@dataclass
class Store:
    """Users, sessions and spent token ids; one lock, as uvicorn serves requests concurrently."""

    users: dict[str, str] = field(default_factory=dict)  # username -> Argon2 hash
    sessions: dict[str, Session] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)  # access jti -> its exp
    lock: threading.Lock = field(default_factory=threading.Lock)

    def spend(self, jti: str, exp: float) -> bool:
        """Mark an access token used; False when it already was."""
        with self.lock:
            now = time.time()
            for old in [j for j, e in self.spent.items() if e < now]:
                del self.spent[old]
            if jti in self.spent:
                return False
            self.spent[jti] = exp
            return True


store = Store()
app = FastAPI(title="vault")
bearer = HTTPBearer(auto_error=False)


class Credentials(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    password: str


class NewUser(Credentials):
    password: str = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)


class RenewRequest(BaseModel):
    refresh_token: str


def _token(username: str, session_id: str, kind: str, ttl: int, jti: str | None = None) -> str:
    now = int(time.time())
    return jwt.encode({"sub": username, "sid": session_id, "typ": kind, "jti": jti or uuid.uuid4().hex,
                       "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ttl}, SECRET, algorithm=ALGORITHM)


def _claims(token: str, kind: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, SECRET, algorithms=[ALGORITHM], issuer=ISSUER, audience=AUDIENCE,
                            options={"require": ["exp", "iat", "jti", "sub", "sid"]})
    except jwt.InvalidTokenError:
        raise _refused("invalid token") from None
    session = store.sessions.get(claims["sid"])
    if claims.get("typ") != kind or session is None or session.ended or session.username != claims["sub"]:
        raise _refused("invalid token")
    return claims


def _refused(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message,
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def spend_access_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> \
        dict[str, Any]:
    """The caller's claims; the token is spent by this request."""
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="not authenticated",
                            headers={"WWW-Authenticate": "Bearer"})
    claims = _claims(credentials.credentials, "access")
    if claims["sub"] not in store.users:
        raise _refused("invalid token")
    if not store.spend(claims["jti"], claims["exp"]):
        raise _refused("this access token was already used")
    return claims


@app.post("/v1/users", status_code=status.HTTP_201_CREATED)
def sign_up(body: NewUser) -> dict[str, str]:
    hashed = hasher.hash(body.password)
    with store.lock:
        if body.username in store.users:
            raise HTTPException(status.HTTP_409_CONFLICT, detail="username taken")
        store.users[body.username] = hashed
    return {"username": body.username}


@app.post("/v1/sessions")
def log_in(body: Credentials) -> dict[str, str]:
    stored = store.users.get(body.username)
    try:
        hasher.verify(stored or DUMMY_HASH, body.password)
    except VerificationError:
        stored = None
    if stored is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong username or password")
    session = Session(id=secrets.token_urlsafe(24), username=body.username, refresh_jti=uuid.uuid4().hex)
    with store.lock:
        store.sessions[session.id] = session
    return {"access_token": _token(body.username, session.id, "access", ACCESS_TTL),
            "refresh_token": _token(body.username, session.id, "refresh", REFRESH_TTL, session.refresh_jti),
            "session_id": session.id, "token_type": "Bearer"}


@app.post("/v1/sessions/renew")
def renew(body: RenewRequest) -> dict[str, str]:
    claims = _claims(body.refresh_token, "refresh")
    if claims["jti"] != store.sessions[claims["sid"]].refresh_jti:
        raise _refused("invalid token")
    return {"token": _token(claims["sub"], claims["sid"], "access", ACCESS_TTL)}


@app.delete("/v1/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
def log_out(claims: Annotated[dict[str, Any], Depends(spend_access_token)],
            x_session_id: Annotated[str, Header()]) -> None:
    session = store.sessions.get(x_session_id)
    if session is None or session.username != claims["sub"]:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such session")
    session.ended = True


@app.get("/v1/me")
def me(claims: Annotated[dict[str, Any], Depends(spend_access_token)]) -> dict[str, str]:
    return {"username": claims["sub"], "session_id": claims["sid"]}


@app.get("/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
