"""notes: a small notes API in the style of the Flask-JWT-Extended documentation.

Not written for authconform: it is what many Flask services look like. Users sign up with a JSON
body; login answers ``{"data": {"jwt": ..., "refresh_jwt": ...}}``; tokens travel bare in an
``X-Access-Token`` header; refresh presents the refresh token in that same header; logout
blocklists the presented token's ``jti`` in Redis (``token_in_blocklist_loader``), so a revoked
token is refused by every gunicorn worker. Users live in SQLite.

Configuration (environment): ``NOTES_JWT_SECRET`` (required), ``NOTES_REDIS_URL`` (required),
``NOTES_DB`` (SQLite file, default ``notes.sqlite3``), ``NOTES_PASSWORD_HASH`` (a Werkzeug hash
method, default ``scrypt``).

Serve: ``gunicorn --chdir tests/targets/notes_api --workers 2 'app:create_app()'``.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from typing import Any

import redis
from flask import Flask, g, jsonify, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    current_user,
    get_jwt,
    jwt_required,
)
from werkzeug.security import check_password_hash, generate_password_hash

ACCESS_EXPIRES = dt.timedelta(minutes=15)
MIN_PASSWORD = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL
)
"""


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["JWT_SECRET_KEY"] = os.environ["NOTES_JWT_SECRET"]
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = ACCESS_EXPIRES
    app.config["JWT_HEADER_NAME"] = "X-Access-Token"
    app.config["JWT_HEADER_TYPE"] = ""
    app.config["NOTES_DB"] = os.environ.get("NOTES_DB", "notes.sqlite3")
    app.config["NOTES_PASSWORD_HASH"] = os.environ.get("NOTES_PASSWORD_HASH", "scrypt")
    blocklist = redis.Redis.from_url(os.environ["NOTES_REDIS_URL"], decode_responses=True)
    jwt = JWTManager(app)

    with sqlite3.connect(app.config["NOTES_DB"]) as connection:
        connection.execute(SCHEMA)

    def db() -> sqlite3.Connection:
        if "db" not in g:
            g.db = sqlite3.connect(app.config["NOTES_DB"], timeout=10)
            g.db.row_factory = sqlite3.Row
        return g.db

    @app.teardown_appcontext
    def close_db(_exc: BaseException | None) -> None:
        connection = g.pop("db", None)
        if connection is not None:
            connection.close()

    @jwt.token_in_blocklist_loader
    def token_revoked(_jwt_header: dict[str, Any], jwt_payload: dict[str, Any]) -> bool:
        return blocklist.get(f"revoked:{jwt_payload.get('jti')}") is not None

    @jwt.user_lookup_loader
    def load_user(_jwt_header: dict[str, Any], jwt_data: dict[str, Any]) -> Any:
        return db().execute("SELECT * FROM users WHERE id = ?", (jwt_data["sub"],)).fetchone()

    @app.post("/api/register")
    def register() -> Any:
        data = request.get_json()
        username, password = data["username"], data["password"]
        if len(password) < MIN_PASSWORD:
            return jsonify(msg=f"Password must have at least {MIN_PASSWORD} characters"), 400
        try:
            cursor = db().execute("INSERT INTO users (username, password_hash) VALUES (?, ?)", (
                username, generate_password_hash(password, method=app.config["NOTES_PASSWORD_HASH"])))
            db().commit()
        except sqlite3.IntegrityError:
            return jsonify(msg="Username already taken"), 409
        return jsonify(id=cursor.lastrowid, username=username), 201

    @app.post("/api/login")
    def login() -> Any:
        data = request.get_json()
        user = db().execute("SELECT * FROM users WHERE username = ?", (data["username"],)).fetchone()
        if user is None or not check_password_hash(user["password_hash"], data["password"]):
            return jsonify(msg="Bad username or password"), 401
        identity = str(user["id"])
        return jsonify(data={"jwt": create_access_token(identity=identity),
                             "refresh_jwt": create_refresh_token(identity=identity)})

    @app.post("/api/token/refresh")
    @jwt_required(refresh=True)
    def refresh() -> Any:
        return jsonify(data={"jwt": create_access_token(identity=str(current_user["id"]))})

    @app.delete("/api/logout")
    @jwt_required(verify_type=False)
    def logout() -> Any:
        token = get_jwt()
        remaining = max(1, int(token["exp"] - dt.datetime.now(dt.UTC).timestamp()))
        blocklist.set(f"revoked:{token['jti']}", "1", ex=remaining)
        return jsonify(msg=f"{token['type'].capitalize()} token revoked")

    @app.get("/api/me")
    @jwt_required()
    def me() -> Any:
        return jsonify(id=current_user["id"], username=current_user["username"])

    @app.post("/api/me/password")
    @jwt_required()
    def change_password() -> Any:
        data = request.get_json()
        if not check_password_hash(current_user["password_hash"], data["old_password"]):
            return jsonify(msg="Wrong password"), 403
        if len(data["new_password"]) < MIN_PASSWORD:
            return jsonify(msg=f"Password must have at least {MIN_PASSWORD} characters"), 400
        db().execute("UPDATE users SET password_hash = ? WHERE id = ?", (
            generate_password_hash(data["new_password"], method=app.config["NOTES_PASSWORD_HASH"]),
            current_user["id"]))
        db().commit()
        return jsonify(msg="Password changed")

    @app.delete("/api/me")
    @jwt_required()
    def delete_me() -> Any:
        db().execute("DELETE FROM users WHERE id = ?", (current_user["id"],))
        db().commit()
        return "", 204

    return app
