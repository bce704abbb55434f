"""portal: a browser-facing Flask app whose tokens live in cookies, with double-submit CSRF.

Not written for authconform. People sign up and log in with HTML-form bodies
(``application/x-www-form-urlencoded``, fields ``email`` and ``password``); the answer sets three
cookies: ``portal_access`` (the access JWT), ``portal_refresh`` (the refresh JWT, sent only to
``/auth/refresh``) and ``portal_csrf`` (readable by the page's JavaScript, which echoes it in
``X-Portal-CSRF`` on every state-changing request). Every login is a server-side session that
the user can list and end; logout ends the current one, logout-all every one.

Configuration (environment): ``PORTAL_SECRET`` (required), ``PORTAL_SECURE_COOKIES`` ("1" in
production; off by default so that development over plain HTTP works), ``PORTAL_PBKDF2_ITERATIONS``
(600000).

Serve: ``python tests/targets/portal/app.py --port 8080`` (Werkzeug's threaded server).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from flask import Flask, g, jsonify, request
from werkzeug.serving import run_simple

ISSUER = "portal"
AUDIENCE = "portal-web"
ACCESS_TTL = 300
REFRESH_TTL = 7 * 86400
PASSWORD_MIN, PASSWORD_MAX = 10, 64
ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE = "portal_access", "portal_refresh", "portal_csrf"
CSRF_HEADER = "X-Portal-CSRF"
REFRESH_PATH = "/auth/refresh"


@dataclass
class User:
    id: int
    email: str
    salt: bytes
    password_hash: bytes


@dataclass
class Session:
    id: str
    user_id: int
    created_at: float
    refresh_jti: str = ""


@dataclass
class Store:
    users: dict[str, User] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    used_refresh: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(status: int, error: str, message: str) -> Any:
    return jsonify(error=error, message=message), status


def create_app() -> Flask:
    app = Flask(__name__)
    secret = os.environ["PORTAL_SECRET"]
    secure = os.environ.get("PORTAL_SECURE_COOKIES", "") == "1"
    iterations = int(os.environ.get("PORTAL_PBKDF2_ITERATIONS", 600_000))
    store = Store()
    dummy_salt = secrets.token_bytes(16)

    def hash_password(password: str, salt: bytes) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)

    dummy_hash = hash_password(secrets.token_urlsafe(12), dummy_salt)

    def token(user_id: int, session_id: str, kind: str, ttl: int, jti: str) -> str:
        now = int(time.time())
        return jwt.encode({"sub": str(user_id), "sid": session_id, "type": kind, "jti": jti, "iat": now,
                           "exp": now + ttl, "iss": ISSUER, "aud": AUDIENCE}, secret, algorithm="HS256")

    def set_tokens(response: Any, session: Session) -> Any:
        session.refresh_jti = secrets.token_hex(16)
        access = token(session.user_id, session.id, "access", ACCESS_TTL, secrets.token_hex(16))
        refresh = token(session.user_id, session.id, "refresh", REFRESH_TTL, session.refresh_jti)
        response.set_cookie(ACCESS_COOKIE, access, max_age=ACCESS_TTL, httponly=True, secure=secure,
                            samesite="Lax")
        response.set_cookie(REFRESH_COOKIE, refresh, max_age=REFRESH_TTL, httponly=True, secure=secure,
                            samesite="Strict", path=REFRESH_PATH)
        response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(24), max_age=REFRESH_TTL, secure=secure,
                            samesite="Lax")
        return response

    def decode(value: str, kind: str) -> dict[str, Any] | None:
        try:
            claims: dict[str, Any] = jwt.decode(value, secret, algorithms=["HS256"], audience=AUDIENCE,
                                                issuer=ISSUER, options={"require": ["exp", "sub", "sid", "jti"]})
        except jwt.PyJWTError:
            return None
        return claims if claims.get("type") == kind else None

    @app.before_request
    def authenticate() -> Any:
        g.user = g.session = None
        claims = decode(request.cookies.get(ACCESS_COOKIE, ""), "access")
        if claims is not None:
            with store.lock:
                session = store.sessions.get(claims["sid"])
            if session is not None and str(session.user_id) == claims["sub"]:
                g.user = next((u for u in store.users.values() if u.id == session.user_id), None)
                g.session = session
        if g.user is not None and request.method in ("POST", "PUT", "PATCH", "DELETE"):
            cookie, header = request.cookies.get(CSRF_COOKIE, ""), request.headers.get(CSRF_HEADER, "")
            if not cookie or not hmac.compare_digest(cookie.encode(), header.encode()):
                return _error(403, "csrf_failed", f"echo the {CSRF_COOKIE} cookie in {CSRF_HEADER}")
        return None

    def login_required() -> Any:
        if g.user is None:
            return _error(401, "unauthorized", "log in first")
        return None

    @app.post("/signup")
    def signup() -> Any:
        email, password = request.form.get("email", ""), request.form.get("password", "")
        if "@" not in email or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            return _error(400, "invalid_signup", f"a valid email and a password of {PASSWORD_MIN}-"
                                                 f"{PASSWORD_MAX} characters are needed")
        salt = secrets.token_bytes(16)
        digest = hash_password(password, salt)
        with store.lock:
            if email in store.users:
                return _error(409, "email_taken", "that email has an account already")
            user = User(len(store.users) + 1, email, salt, digest)
            store.users[email] = user
        return jsonify(user={"id": user.id, "email": email}), 201

    @app.post("/login")
    def login() -> Any:
        email, password = request.form.get("email", ""), request.form.get("password", "")
        with store.lock:
            user = store.users.get(email)
        salt, expected = (user.salt, user.password_hash) if user else (dummy_salt, dummy_hash)
        if not hmac.compare_digest(hash_password(password, salt), expected) or user is None:
            return _error(401, "invalid_credentials", "wrong email or password")
        session = Session(secrets.token_urlsafe(24), user.id, time.time())
        with store.lock:
            store.sessions[session.id] = session
        response = jsonify(user={"id": user.id, "email": user.email},
                           session={"id": session.id, "expires_in": ACCESS_TTL})
        return set_tokens(response, session)

    @app.post(REFRESH_PATH)
    def refresh() -> Any:
        claims = decode(request.cookies.get(REFRESH_COOKIE, ""), "refresh")
        if claims is None:
            return _error(401, "unauthorized", "no valid refresh cookie")
        with store.lock:
            session = store.sessions.get(claims["sid"])
            if session is None or claims["jti"] in store.used_refresh or claims["jti"] != session.refresh_jti:
                return _error(401, "unauthorized", "refresh token no longer valid")
            store.used_refresh.add(claims["jti"])
        response = jsonify(session={"id": session.id, "expires_in": ACCESS_TTL})
        return set_tokens(response, session)

    def clear_cookies(response: Any) -> Any:
        for name in (ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE):
            response.delete_cookie(name)
        return response

    @app.post("/auth/logout")
    def logout() -> Any:
        if (refusal := login_required()) is not None:
            return refusal
        with store.lock:
            store.sessions.pop(g.session.id, None)
        return clear_cookies(jsonify(ok=True))

    @app.post("/auth/logout-all")
    def logout_all() -> Any:
        if (refusal := login_required()) is not None:
            return refusal
        with store.lock:
            for session_id in [s.id for s in store.sessions.values() if s.user_id == g.user.id]:
                del store.sessions[session_id]
        return clear_cookies(jsonify(ok=True))

    @app.get("/account")
    def account() -> Any:
        if (refusal := login_required()) is not None:
            return refusal
        return jsonify(user={"id": g.user.id, "email": g.user.email})

    @app.get("/account/sessions")
    def sessions() -> Any:
        if (refusal := login_required()) is not None:
            return refusal
        with store.lock:
            mine = [s for s in store.sessions.values() if s.user_id == g.user.id]
        return jsonify(sessions=[{"id": s.id, "created_at": s.created_at, "current": s.id == g.session.id}
                                 for s in mine])

    @app.delete("/account/sessions/<session_id>")
    def end_session(session_id: str) -> Any:
        if (refusal := login_required()) is not None:
            return refusal
        with store.lock:
            session = store.sessions.get(session_id)
            if session is None or session.user_id != g.user.id:
                return _error(404, "not_found", "no such session")
            del store.sessions[session_id]
        return "", 204

    @app.get("/")
    def home() -> Any:
        return jsonify(app="portal", signed_in=g.user is not None)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="serve the portal example target")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    run_simple(args.host, args.port, create_app(), threaded=True)


if __name__ == "__main__":
    main()
