"""shop: a FastAPI service in the style of FastAPI's security tutorial, grown up a little.

Not written for authconform. Tokens come from an OAuth2 password grant at ``POST /token``
(``OAuth2PasswordRequestFormStrict``: form-encoded ``grant_type=password``, ``username``,
``password``) by a confidential client (HTTP Basic client credentials); protected routes take
``Authorization: Bearer`` through ``OAuth2PasswordBearer``. Refresh is a form-encoded
``grant_type=refresh_token`` at ``POST /token/refresh`` (rotating, reuse ends the whole family);
``POST /token/revoke`` (RFC 7009 style) ends a refresh token's family with its access tokens.
RS256 with the public key at ``/.well-known/jwks.json``. There is no sign-up: users are seeded
from a JSON file. Failed logins are limited per client address and per (address, username).

Configuration (environment): ``SHOP_PRIVATE_KEY_FILE`` (RSA PEM), ``SHOP_CLIENT_ID``,
``SHOP_CLIENT_SECRET``, ``SHOP_USERS_FILE`` (JSON list of ``{"username", "password"}``),
``SHOP_LOGIN_LIMIT_ACCOUNT`` (5), ``SHOP_LOGIN_LIMIT_IP`` (20), ``SHOP_LOGIN_WINDOW`` (60 s),
``SHOP_PBKDF2_ITERATIONS`` (600000).

Serve: ``uvicorn --app-dir tests/targets/shop_api app:app``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from fastapi import Depends, FastAPI, Form, HTTPException, Request, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials, OAuth2PasswordBearer, OAuth2PasswordRequestFormStrict

ISSUER = "https://shop.example"
AUDIENCE = "shop-api"
ACCESS_TTL = 600
REFRESH_TTL = 86400
KEY_ID = "shop-1"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class Family:
    """One login: its current refresh token, and whether it was ended."""

    username: str
    current_jti: str
    revoked: bool = False


@dataclass
class State:
    private_key: Any
    client_id: str
    client_secret: str
    iterations: int
    users: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # username -> (salt, hash)
    families: dict[str, Family] = field(default_factory=dict)
    failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hash_password(self, password: str, salt: bytes) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, self.iterations)


def _load_state() -> State:
    key_pem = Path(os.environ["SHOP_PRIVATE_KEY_FILE"]).read_bytes()
    state = State(private_key=serialization.load_pem_private_key(key_pem, password=None),
                  client_id=os.environ["SHOP_CLIENT_ID"], client_secret=os.environ["SHOP_CLIENT_SECRET"],
                  iterations=_env_int("SHOP_PBKDF2_ITERATIONS", 600_000))
    for entry in json.loads(Path(os.environ["SHOP_USERS_FILE"]).read_text()):
        salt = secrets.token_bytes(16)
        state.users[entry["username"]] = (salt, state.hash_password(entry["password"], salt))
    return state


state = _load_state()
LOGIN_LIMIT_ACCOUNT = _env_int("SHOP_LOGIN_LIMIT_ACCOUNT", 5)
LOGIN_LIMIT_IP = _env_int("SHOP_LOGIN_LIMIT_IP", 20)
LOGIN_WINDOW = _env_int("SHOP_LOGIN_WINDOW", 60)
DUMMY_SALT = secrets.token_bytes(16)
DUMMY_HASH = state.hash_password(secrets.token_urlsafe(16), DUMMY_SALT)

app = FastAPI(title="shop", version="1.4.0")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token", refreshUrl="token/refresh")
client_basic = HTTPBasic(auto_error=False)


# ------------------------------------------------------------------ helpers
def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": "Bearer"})


def _check_client(basic: HTTPBasicCredentials | None, client_id: str | None, client_secret: str | None) -> None:
    if basic is not None:
        client_id, client_secret = basic.username, basic.password
    if not (hmac.compare_digest((client_id or "").encode(), state.client_id.encode())
            and hmac.compare_digest((client_secret or "").encode(), state.client_secret.encode())):
        raise HTTPException(status_code=401, detail="invalid_client", headers={"WWW-Authenticate": "Basic"})


def _issue(username: str, family_id: str) -> dict[str, Any]:
    now = int(time.time())
    common = {"sub": username, "sid": family_id, "iat": now, "iss": ISSUER, "aud": AUDIENCE}
    refresh_jti = uuid.uuid4().hex
    state.families[family_id].current_jti = refresh_jti
    headers = {"kid": KEY_ID}
    access = jwt.encode({**common, "type": "access", "jti": uuid.uuid4().hex, "exp": now + ACCESS_TTL},
                        state.private_key, algorithm="RS256", headers=headers)
    refresh = jwt.encode({**common, "type": "refresh", "jti": refresh_jti, "exp": now + REFRESH_TTL},
                         state.private_key, algorithm="RS256", headers=headers)
    return {"access_token": access, "token_type": "bearer", "expires_in": ACCESS_TTL, "refresh_token": refresh}


def _decode(token: str, *, verify_exp: bool = True) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token, state.private_key.public_key(), algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER,
        options={"require": ["exp", "iat", "sub", "jti", "sid"], "verify_exp": verify_exp})
    return claims


def _limited(ip: str, username: str, now: float) -> bool:
    for key, limit in ((f"ip:{ip}", LOGIN_LIMIT_IP), (f"account:{ip}:{username}", LOGIN_LIMIT_ACCOUNT)):
        window = state.failures[key]
        while window and window[0] <= now - LOGIN_WINDOW:
            window.popleft()
        if len(window) >= limit:
            return True
    return False


def _record_failure(ip: str, username: str, now: float) -> None:
    state.failures[f"ip:{ip}"].append(now)
    state.failures[f"account:{ip}:{username}"].append(now)


# ------------------------------------------------------------------ token endpoint
@app.post("/token")
def login(request: Request, form: Annotated[OAuth2PasswordRequestFormStrict, Depends()],
          basic: Annotated[HTTPBasicCredentials | None, Depends(client_basic)]) -> dict[str, Any]:
    _check_client(basic, form.client_id, form.client_secret)
    ip = request.client.host if request.client else "unknown"
    now = time.time()
    with state.lock:
        if _limited(ip, form.username, now):
            raise HTTPException(status_code=429, detail="Too many failed logins",
                                headers={"Retry-After": str(LOGIN_WINDOW)})
    salt, expected = state.users.get(form.username, (DUMMY_SALT, DUMMY_HASH))
    valid = hmac.compare_digest(state.hash_password(form.password, salt), expected)
    with state.lock:
        if not valid or form.username not in state.users:
            _record_failure(ip, form.username, now)
            raise _unauthorized("Incorrect username or password")
        family_id = uuid.uuid4().hex
        state.families[family_id] = Family(form.username, "")
        return _issue(form.username, family_id)


@app.post("/token/refresh")
def refresh(grant_type: Annotated[str, Form(pattern="^refresh_token$")], refresh_token: Annotated[str, Form()],
            basic: Annotated[HTTPBasicCredentials | None, Depends(client_basic)],
            client_id: Annotated[str | None, Form()] = None,
            client_secret: Annotated[str | None, Form()] = None) -> dict[str, Any]:
    _check_client(basic, client_id, client_secret)
    try:
        claims = _decode(refresh_token)
    except jwt.PyJWTError:
        raise _unauthorized("Invalid refresh token") from None
    with state.lock:
        family = state.families.get(claims["sid"])
        if claims.get("type") != "refresh" or family is None or family.revoked:
            raise _unauthorized("Invalid refresh token")
        if claims["jti"] != family.current_jti:
            family.revoked = True  # a rotated-out token came back: someone has a copy
            raise _unauthorized("Refresh token reuse detected; please log in again")
        return _issue(family.username, claims["sid"])


@app.post("/token/revoke")
def revoke(token: Annotated[str, Form()], basic: Annotated[HTTPBasicCredentials | None, Depends(client_basic)],
           token_type_hint: Annotated[str | None, Form()] = None, client_id: Annotated[str | None, Form()] = None,
           client_secret: Annotated[str | None, Form()] = None) -> dict[str, str]:
    _check_client(basic, client_id, client_secret)
    try:
        claims = _decode(token, verify_exp=False)
    except jwt.PyJWTError:
        return {}  # RFC 7009 §2.2: an invalid token is not an error
    with state.lock:
        family = state.families.get(claims["sid"])
        if family is not None:
            family.revoked = True
    return {}


# ------------------------------------------------------------------ protected API
def current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> dict[str, Any]:
    try:
        claims = _decode(token)
    except jwt.PyJWTError:
        raise _unauthorized("Could not validate credentials") from None
    family = state.families.get(claims["sid"])
    if claims.get("type") != "access" or family is None or family.revoked or claims["sub"] not in state.users:
        raise _unauthorized("Could not validate credentials")
    return claims


@app.get("/users/me")
def read_me(claims: Annotated[dict[str, Any], Depends(current_user)]) -> dict[str, Any]:
    return {"username": claims["sub"], "session": claims["sid"]}


@app.get("/orders")
def list_orders(claims: Annotated[dict[str, Any], Depends(current_user)]) -> dict[str, Any]:
    return {"orders": [], "owner": claims["sub"]}


@app.get("/.well-known/jwks.json")
def jwks() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(state.private_key.public_key()))
    return {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
