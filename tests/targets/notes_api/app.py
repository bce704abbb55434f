"""notes: a small notes API in the style of the Flask-JWT-Extended documentation.

Not written for authconform: it is what many Flask services look like. Users sign up with a JSON
body; login answers ``{"data": {"jwt": ..., "refresh_jwt": ...}}``; tokens travel bare in an
``X-Access-Token`` header; refresh presents the refresh token in that same header; logout
blocklists the presented token's ``jti`` in Redis (``token_in_blocklist_loader``), so a revoked
token is refused by every gunicorn worker. Users live in SQLite.

Two-factor login the way Flask-JWT-Extended tutorials add it with pyotp: ``/api/2fa/setup`` stores a
new secret, ``/api/2fa/enable`` switches it on after ``totp.verify``; with 2FA on, login answers a
short-lived access token carrying a ``2fa_pending`` claim, which ``/api/login/2fa`` trades, with a
code, for the real pair; ``/api/2fa/disable`` wants the password and a code. No recovery codes.

The notes themselves: ``/api/notes`` lists and creates the caller's own, ``/api/notes/<id>`` reads,
changes and deletes one (integer ids), each query filtered by ``current_user``'s id as the
extension's ``current_user`` examples do, so another user's note answers the same 404 as a missing
one. Answers wrap the note in ``{"data": ...}``.

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

import pyotp
import redis
from flask import Flask, g, jsonify, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    current_user,
    decode_token,
    get_jwt,
    jwt_required,
)
from werkzeug.security import check_password_hash, generate_password_hash

ACCESS_EXPIRES = dt.timedelta(minutes=15)
PENDING_2FA_EXPIRES = dt.timedelta(minutes=5)
MIN_PASSWORD = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL,
    otp_secret TEXT,
    otp_pending TEXT
);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL
);
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
        connection.executescript(SCHEMA)

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
        if user["otp_secret"]:
            pending = create_access_token(identity=identity, additional_claims={"2fa_pending": True},
                                          expires_delta=PENDING_2FA_EXPIRES)
            return jsonify(data={"mfa_required": True, "mfa_token": pending})
        return jsonify(data={"jwt": create_access_token(identity=identity),
                             "refresh_jwt": create_refresh_token(identity=identity)})

    @app.post("/api/login/2fa")
    def login_second_factor() -> Any:
        data = request.get_json()
        try:
            claims = decode_token(data["mfa_token"])
        except Exception:
            return jsonify(msg="Invalid or expired 2FA token"), 401
        if not claims.get("2fa_pending"):
            return jsonify(msg="Not a 2FA token"), 401
        user = db().execute("SELECT * FROM users WHERE id = ?", (claims["sub"],)).fetchone()
        if user is None or not user["otp_secret"] or not pyotp.TOTP(user["otp_secret"]).verify(
                str(data.get("otp", "")), valid_window=1):
            return jsonify(msg="Invalid code"), 401
        identity = str(user["id"])
        return jsonify(data={"jwt": create_access_token(identity=identity),
                             "refresh_jwt": create_refresh_token(identity=identity)})

    @app.post("/api/2fa/setup")
    @jwt_required()
    def setup_second_factor() -> Any:
        secret = pyotp.random_base32()
        db().execute("UPDATE users SET otp_pending = ? WHERE id = ?", (secret, current_user["id"]))
        db().commit()
        uri = pyotp.TOTP(secret).provisioning_uri(name=current_user["username"], issuer_name="notes")
        return jsonify(secret=secret, uri=uri)

    @app.post("/api/2fa/enable")
    @jwt_required()
    def enable_second_factor() -> Any:
        pending = current_user["otp_pending"]
        if not pending or not pyotp.TOTP(pending).verify(str(request.get_json().get("otp", "")), valid_window=1):
            return jsonify(msg="Invalid code"), 400
        db().execute("UPDATE users SET otp_secret = ?, otp_pending = NULL WHERE id = ?", (pending, current_user["id"]))
        db().commit()
        return jsonify(msg="2FA enabled")

    @app.post("/api/2fa/disable")
    @jwt_required()
    def disable_second_factor() -> Any:
        data = request.get_json()
        secret = current_user["otp_secret"]
        if not secret or not check_password_hash(current_user["password_hash"], str(data.get("password", ""))) \
                or not pyotp.TOTP(secret).verify(str(data.get("otp", "")), valid_window=1):
            return jsonify(msg="Password and a current code are needed"), 403
        db().execute("UPDATE users SET otp_secret = NULL WHERE id = ?", (current_user["id"],))
        db().commit()
        return jsonify(msg="2FA disabled")

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
        db().execute("DELETE FROM notes WHERE user_id = ?", (current_user["id"],))
        db().execute("DELETE FROM users WHERE id = ?", (current_user["id"],))
        db().commit()
        return "", 204

    def note_json(row: Any) -> dict[str, Any]:
        return {"id": row["id"], "title": row["title"], "body": row["body"]}

    def own_note(note_id: int) -> Any:
        return db().execute("SELECT * FROM notes WHERE id = ? AND user_id = ?",
                            (note_id, current_user["id"])).fetchone()

    def note_fields(partial: bool) -> dict[str, str] | None:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return None
        fields = {name: data[name] for name in ("title", "body") if isinstance(data.get(name), str)}
        return fields if partial or len(fields) == 2 else None

    @app.get("/api/notes")
    @jwt_required()
    def list_notes() -> Any:
        rows = db().execute("SELECT * FROM notes WHERE user_id = ? ORDER BY id", (current_user["id"],))
        return jsonify(data=[note_json(row) for row in rows])

    @app.post("/api/notes")
    @jwt_required()
    def create_note() -> Any:
        fields = note_fields(partial=False)
        if fields is None:
            return jsonify(msg="title and body are required"), 400
        cursor = db().execute("INSERT INTO notes (user_id, title, body) VALUES (?, ?, ?)",
                              (current_user["id"], fields["title"], fields["body"]))
        db().commit()
        return jsonify(data=note_json(own_note(cursor.lastrowid))), 201

    @app.get("/api/notes/<int:note_id>")
    @jwt_required()
    def get_note(note_id: int) -> Any:
        row = own_note(note_id)
        if row is None:
            return jsonify(msg="Note not found"), 404
        return jsonify(data=note_json(row))

    @app.put("/api/notes/<int:note_id>")
    @jwt_required()
    def update_note(note_id: int) -> Any:
        if own_note(note_id) is None:
            return jsonify(msg="Note not found"), 404
        fields = note_fields(partial=True)
        if fields is None:
            return jsonify(msg="send title and body"), 400
        for name, value in fields.items():
            db().execute(f"UPDATE notes SET {name} = ? WHERE id = ?", (value, note_id))  # noqa: S608
        db().commit()
        return jsonify(data=note_json(own_note(note_id)))

    @app.delete("/api/notes/<int:note_id>")
    @jwt_required()
    def delete_note(note_id: int) -> Any:
        if own_note(note_id) is None:
            return jsonify(msg="Note not found"), 404
        db().execute("DELETE FROM notes WHERE id = ?", (note_id,))
        db().commit()
        return "", 204

    return app
