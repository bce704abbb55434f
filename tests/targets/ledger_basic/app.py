"""ledger: a Flask service with PyJWT used directly, logging in by HTTP Basic.

Not written for authconform: the shape of many hand-rolled Flask APIs. Each account logs in with
its own username and password in an ``Authorization: Basic`` header and gets an access and a
refresh token. Refresh takes BOTH tokens in a JSON body (``{"access_token", "refresh_token"}``):
the access token may have expired but must be the one the refresh token was issued with (its jti
is the refresh token's ``ati``). Each refresh rotates the pair; a used refresh token is refused.
Logout revokes the presented access token and its refresh token. Tokens name the user in a
``user_id`` claim. Users and revoked token ids live in SQLite.

Each user keeps ledger entries (``/api/entries``, integer ids). Listing, changing and deleting are
filtered by the caller, but reading one entry looks it up by its id alone (``SELECT ... WHERE id =
?``): the object-level authorisation bug (OWASP API1:2023) of many hand-rolled APIs, where the
owner check was written into some views and forgotten in another.

Configuration (environment): ``LEDGER_JWT_SECRET`` (required), ``LEDGER_DB`` (the SQLite file,
default ``ledger.sqlite3``), ``LEDGER_PASSWORD_HASH`` (a Werkzeug hash method, default ``scrypt``).

Serve: ``python tests/targets/ledger_basic/app.py --port 8080`` (Werkzeug's threaded server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

import jwt
from flask import Flask, g, jsonify, request
from werkzeug.security import check_password_hash, generate_password_hash

ALGORITHM = "HS256"
ISSUER = "ledger"
ACCESS_TTL = dt.timedelta(minutes=10)
REFRESH_TTL = dt.timedelta(days=1)
MIN_PASSWORD, MAX_PASSWORD = 10, 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked (jti TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    memo TEXT NOT NULL,
    amount INTEGER NOT NULL
);
"""


def create_app() -> Flask:
    app = Flask(__name__)
    secret = os.environ["LEDGER_JWT_SECRET"]
    database = os.environ.get("LEDGER_DB", "ledger.sqlite3")
    hash_method = os.environ.get("LEDGER_PASSWORD_HASH", "scrypt")
    # Answered for an unknown user, so that a miss costs one hash like a wrong password does.
    dummy_hash = generate_password_hash("not-a-password", method=hash_method)
    with sqlite3.connect(database) as connection:
        connection.executescript(SCHEMA)

    def db() -> sqlite3.Connection:
        if "db" not in g:
            g.db = sqlite3.connect(database, timeout=10)
            g.db.row_factory = sqlite3.Row
        return g.db

    @app.teardown_appcontext
    def close_db(_exc: BaseException | None) -> None:
        connection = g.pop("db", None)
        if connection is not None:
            connection.close()

    def unauthorized(message: str, scheme: str = "Bearer") -> Any:
        response = jsonify(error="unauthorized", message=message)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = f'{scheme} realm="ledger"'
        return response

    def issue_pair(user_id: int) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        access_jti = uuid.uuid4().hex
        access = jwt.encode({"user_id": user_id, "type": "access", "jti": access_jti, "iss": ISSUER,
                             "iat": now, "exp": now + ACCESS_TTL}, secret, algorithm=ALGORITHM)
        refresh = jwt.encode({"user_id": user_id, "type": "refresh", "jti": uuid.uuid4().hex, "ati": access_jti,
                              "iss": ISSUER, "iat": now, "exp": now + REFRESH_TTL}, secret, algorithm=ALGORITHM)
        return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                "expires_in": int(ACCESS_TTL.total_seconds())}

    def decode(token: str, kind: str, *, verify_exp: bool = True) -> dict[str, Any] | None:
        try:
            claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                                options={"require": ["exp", "iat", "jti", "user_id"], "verify_exp": verify_exp})
        except jwt.InvalidTokenError:
            return None
        if claims.get("type") != kind or is_revoked(claims["jti"]):
            return None
        if kind == "refresh" and is_revoked(claims.get("ati", "")):  # its access token was logged out
            return None
        return claims

    def is_revoked(jti: str) -> bool:
        return db().execute("SELECT 1 FROM revoked WHERE jti = ?", (jti,)).fetchone() is not None

    def revoke(*claims: dict[str, Any]) -> None:
        db().executemany("INSERT OR IGNORE INTO revoked (jti, expires) VALUES (?, ?)",
                         [(c["jti"], c["exp"]) for c in claims])
        db().commit()

    def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            claims = decode(token, "access") if scheme.lower() == "bearer" and token else None
            if claims is None:
                return unauthorized("a valid access token is required")
            user = db().execute("SELECT * FROM users WHERE id = ?", (claims["user_id"],)).fetchone()
            if user is None:
                return unauthorized("the account no longer exists")
            g.user, g.claims = user, claims
            return view(*args, **kwargs)
        return wrapper

    @app.post("/api/signup")
    def signup() -> Any:
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("username"), str) \
                or not isinstance(data.get("password"), str):
            return jsonify(error="invalid_request", message="username and password are required"), 400
        if not MIN_PASSWORD <= len(data["password"]) <= MAX_PASSWORD:
            return jsonify(error="invalid_password",
                           message=f"passwords have {MIN_PASSWORD} to {MAX_PASSWORD} characters"), 400
        try:
            cursor = db().execute("INSERT INTO users (username, password_hash) VALUES (?, ?)", (
                data["username"], generate_password_hash(data["password"], method=hash_method)))
            db().commit()
        except sqlite3.IntegrityError:
            return jsonify(error="conflict", message="that username is taken"), 409
        return jsonify(id=cursor.lastrowid, username=data["username"]), 201

    @app.post("/api/auth/login")
    def login() -> Any:
        credentials = request.authorization
        if credentials is None or credentials.type != "basic" or not credentials.username:
            return unauthorized("log in with HTTP Basic credentials", scheme="Basic")
        user = db().execute("SELECT * FROM users WHERE username = ?", (credentials.username,)).fetchone()
        stored = user["password_hash"] if user is not None else dummy_hash
        if not check_password_hash(stored, credentials.password or "") or user is None:
            return unauthorized("wrong username or password", scheme="Basic")
        return jsonify(issue_pair(user["id"]))

    @app.post("/api/auth/refresh")
    def refresh() -> Any:
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str) \
                or not isinstance(data.get("refresh_token"), str):
            return jsonify(error="invalid_request", message="send access_token and refresh_token"), 400
        access = decode(data["access_token"], "access", verify_exp=False)
        refresh_claims = decode(data["refresh_token"], "refresh")
        if access is None or refresh_claims is None or refresh_claims.get("ati") != access["jti"] \
                or refresh_claims["user_id"] != access["user_id"]:
            return unauthorized("the token pair is not valid")
        revoke(access, refresh_claims)
        return jsonify(issue_pair(refresh_claims["user_id"]))

    @app.post("/api/auth/logout")
    @token_required
    def logout() -> Any:
        revoke(g.claims)
        return "", 204

    @app.get("/api/me")
    @token_required
    def me() -> Any:
        return jsonify(id=g.user["id"], username=g.user["username"])

    def entry_json(row: Any) -> dict[str, Any]:
        return {"id": row["id"], "memo": row["memo"], "amount": row["amount"], "user_id": row["user_id"]}

    def not_found() -> Any:
        return jsonify(error="not_found", message="no such entry"), 404

    def entry_body() -> dict[str, Any] | None:
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("memo"), str) \
                or not isinstance(data.get("amount"), int) or isinstance(data.get("amount"), bool):
            return None
        return {"memo": data["memo"], "amount": data["amount"]}

    @app.get("/api/entries")
    @token_required
    def list_entries() -> Any:
        rows = db().execute("SELECT * FROM entries WHERE user_id = ? ORDER BY id", (g.user["id"],))
        return jsonify(entries=[entry_json(row) for row in rows])

    @app.post("/api/entries")
    @token_required
    def create_entry() -> Any:
        body = entry_body()
        if body is None:
            return jsonify(error="invalid_request", message="memo (text) and amount (integer) are required"), 400
        cursor = db().execute("INSERT INTO entries (user_id, memo, amount) VALUES (?, ?, ?)",
                              (g.user["id"], body["memo"], body["amount"]))
        db().commit()
        return jsonify(id=cursor.lastrowid, **body, user_id=g.user["id"]), 201

    @app.get("/api/entries/<int:entry_id>")
    @token_required
    def get_entry(entry_id: int) -> Any:
        row = db().execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()  # the bug: no owner
        return jsonify(entry_json(row)) if row is not None else not_found()

    @app.put("/api/entries/<int:entry_id>")
    @token_required
    def update_entry(entry_id: int) -> Any:
        body = entry_body()
        if body is None:
            return jsonify(error="invalid_request", message="memo (text) and amount (integer) are required"), 400
        changed = db().execute("UPDATE entries SET memo = ?, amount = ? WHERE id = ? AND user_id = ?",
                               (body["memo"], body["amount"], entry_id, g.user["id"])).rowcount
        db().commit()
        if not changed:
            return not_found()
        row = db().execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return jsonify(entry_json(row))

    @app.delete("/api/entries/<int:entry_id>")
    @token_required
    def delete_entry(entry_id: int) -> Any:
        deleted = db().execute("DELETE FROM entries WHERE id = ? AND user_id = ?",
                               (entry_id, g.user["id"])).rowcount
        db().commit()
        return ("", 204) if deleted else not_found()

    @app.get("/")
    def index() -> Any:
        return jsonify(service="ledger")

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    create_app().run(host="127.0.0.1", port=args.port, threaded=True)
