"""A small peer of the reference: Flask-JWT-Extended + Flask-Limiter doing the same checks on an
authenticated GET.

Per request, as the reference: the signature, expiry, issuer, audience and token type; the
revoked ``jti``, the session (alive, idle timeout, touched) and the user's current state (active,
role) in one Redis round trip; then the per-user limit, counted in Redis by Flask-Limiter (a
fixed window, its own round trip). Configuration from ``BENCH_*`` variables; ``seed`` and
``token`` prepare a user for a benchmark.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

import redis
from flask import Flask, g, jsonify
from flask.typing import ResponseReturnValue
from flask_jwt_extended import JWTManager, create_access_token, get_jwt, get_jwt_identity, jwt_required
from flask_limiter import Limiter

ISSUER, AUDIENCE = "authconform-reference", "authconform-api"
IDLE_TIMEOUT = 1800  # seconds, as the reference
ACCESS_TTL = dt.timedelta(minutes=15)


def _settings() -> tuple[str, str, str]:
    return (os.environ["BENCH_SECRET"], os.environ["BENCH_REDIS_URL"],
            os.environ.get("BENCH_API_LIMIT", "60") + " per minute")


def create_app() -> Flask:
    secret, redis_url, limit = _settings()
    app = Flask("bench-peer")
    app.config.update(JWT_SECRET_KEY=secret, JWT_ALGORITHM="HS256", JWT_TOKEN_LOCATION=["headers"],
                      JWT_ENCODE_ISSUER=ISSUER, JWT_DECODE_ISSUER=ISSUER, JWT_ENCODE_AUDIENCE=AUDIENCE,
                      JWT_DECODE_AUDIENCE=AUDIENCE, JWT_ACCESS_TOKEN_EXPIRES=ACCESS_TTL)
    store = redis.Redis.from_url(redis_url)
    jwt = JWTManager(app)

    @jwt.token_in_blocklist_loader
    def refused(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        now = time.time()
        pipe = store.pipeline(transaction=False)
        pipe.exists(f"revoked:{payload['jti']}")
        pipe.hgetall(f"session:{payload['sid']}")
        pipe.hgetall(f"user:{payload['sub']}")
        pipe.hset(f"session:{payload['sid']}", "seen", now)
        revoked, session, user, _touched = pipe.execute()
        if revoked or not session or not user or user.get(b"active") != b"1":
            return True
        if now - float(session.get(b"seen", b"0")) > IDLE_TIMEOUT:
            return True
        g.user = {key.decode(): value.decode() for key, value in user.items()}
        return False

    limiter = Limiter(key_func=lambda: f"user:{get_jwt_identity()}", app=app, storage_uri=redis_url,
                      strategy="fixed-window", headers_enabled=True)

    @app.get("/users/me")
    @jwt_required()
    @limiter.limit(limit)
    def me() -> ResponseReturnValue:
        user = g.user
        return jsonify(id=int(get_jwt_identity()), username=user["username"], role=user["role"],
                       tenant=get_jwt()["tid"])

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify(status="ok")

    return app


def seed(redis_url: str, user_id: int, session_id: str) -> None:
    """A live user and session for the benchmark."""
    store = redis.Redis.from_url(redis_url)
    store.hset(f"user:{user_id}", mapping={"active": "1", "role": "viewer", "username": f"bench{user_id}"})
    store.hset(f"session:{session_id}", mapping={"seen": time.time(), "created": time.time()})


def token(app: Flask, user_id: int, session_id: str) -> str:
    with app.app_context():
        return create_access_token(identity=str(user_id), additional_claims={
            "sid": session_id, "tid": "acme", "role": "viewer"})
