"""What ``authconform init`` reads from a target that publishes itself in less usual ways: an
OpenAPI document at ``/apispec.json`` or ``/openapi.yaml``, a ``tokens`` resource (POST logs in,
PUT refreshes, DELETE logs out), a token without ``iat``, an account whose token states its
role, and no login route at all with the account given in the environment.

The target is a small Flask app served on a loopback port in a thread (Werkzeug's server)."""

from __future__ import annotations

import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml
from flask import Flask, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from conformance import exitcodes
from conformance.cli import main

pytestmark = pytest.mark.served

ACCOUNT = {"username": "ops-lead", "password": "Pw-" + secrets.token_urlsafe(12)}
TTL = 600


def _spec(token_path: str) -> dict[str, Any]:
    credentials = {"content": {"application/json": {"schema": {
        "type": "object", "required": ["username", "password"],
        "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}}
    refresh = {"content": {"application/json": {"schema": {
        "type": "object", "properties": {"refresh_token": {"type": "string"}}}}}}
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    return {"openapi": "3.0.3", "info": {"title": "ops", "version": "1"},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "paths": {token_path: {"post": {"requestBody": credentials, "security": []},
                                   "put": {"requestBody": refresh, "security": []},
                                   "delete": {"security": bearer}},
                      "/api/whoami": {"get": {"security": bearer}}}}


def tokens_app(*, document: str, with_login: bool = True) -> Flask:
    """A service whose tokens are a resource; its document at ``document`` (JSON or YAML)."""
    app = Flask("ops")
    key = secrets.token_urlsafe(32)
    revoked: set[str] = set()

    def issue(kind: str) -> str:
        # No iat: the lifetime can only be read from exp.
        return jwt.encode({"sub": ACCOUNT["username"], "role": "superadmin", "typ": kind, "jti": uuid.uuid4().hex,
                           "exp": int(time.time()) + TTL}, key, algorithm="HS256")

    def claims(token: str, kind: str) -> dict[str, Any] | None:
        try:
            data = jwt.decode(token, key, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            return None
        return data if data.get("typ") == kind and data["jti"] not in revoked else None

    def bearer() -> dict[str, Any] | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return claims(token, "access") if scheme == "Bearer" else None

    @app.get(document)
    def spec() -> Any:
        text = _spec("/api/tokens")
        if document.endswith(".yaml"):
            return yaml.safe_dump(text), 200, {"Content-Type": "application/yaml"}
        return jsonify(text)

    if with_login:
        @app.post("/api/tokens")
        def log_in() -> Any:
            body = request.get_json(silent=True) or {}
            if {k: body.get(k) for k in ACCOUNT} != ACCOUNT:
                return jsonify(error="invalid_credentials"), 401
            return jsonify(access_token=issue("access"), refresh_token=issue("refresh"))

        @app.put("/api/tokens")
        def renew() -> Any:
            body = request.get_json(silent=True) or {}
            old = claims(str(body.get("refresh_token", "")), "refresh")
            if old is None:
                return jsonify(error="invalid_token"), 401
            revoked.add(old["jti"])
            return jsonify(access_token=issue("access"), refresh_token=issue("refresh"))

        @app.delete("/api/tokens")
        def log_out() -> Any:
            caller = bearer()
            if caller is None:
                return jsonify(error="invalid_token"), 401
            revoked.add(caller["jti"])
            return "", 204

    @app.get("/api/whoami")
    def whoami() -> Any:
        caller = bearer()
        return (jsonify(username=caller["sub"]), 200) if caller else (jsonify(error="invalid_token"), 401)

    return app


def serve(app: Flask) -> Iterator[str]:
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(params=["/apispec.json", "/openapi.yaml"])
def tokens_target(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from serve(tokens_app(document=request.param))


@pytest.fixture
def no_login_target() -> Iterator[str]:
    yield from serve(tokens_app(document="/openapi.json", with_login=False))


def _init(url: str, output: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPS_USER", ACCOUNT["username"])
    monkeypatch.setenv("OPS_PASSWORD", ACCOUNT["password"])
    code = main(["init", "--target", url, "-o", str(output), "--username-env", "OPS_USER", "--password-env",
                 "OPS_PASSWORD"])
    out = capsys.readouterr()
    assert code == exitcodes.OK, out.err
    text = output.read_text()
    assert ACCOUNT["password"] not in out.out + out.err + text
    return text


def _table(text: str, name: str) -> str:
    return text.split(f"[operations.{name}]", 1)[1].split("\n[", 1)[0] if f"[operations.{name}]" in text else ""


def test_init_finds_a_tokens_resource_in_a_document_at_a_less_usual_place(
        tokens_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = _init(tokens_target, tmp_path / "ops.toml", capsys, monkeypatch)
    assert 'name = "ops"' in text  # the document's title: it was read
    for name, method in (("login", "POST"), ("refresh", "PUT"), ("logout", "DELETE")):
        table = _table(text, name)
        assert f'method = "{method}"' in table and 'path = "/api/tokens"' in table, (name, table)
    assert re.search(r'"refresh",\s*# observed', text) and re.search(r'"logout",\s*# observed', text), text


def test_init_reads_a_lifetime_without_iat_from_exp_and_the_role_from_the_token(
        tokens_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = _init(tokens_target, tmp_path / "ops.toml", capsys, monkeypatch)
    assert f"access_ttl = {TTL}  # observed on an access token: exp minus the time of login" in text
    assert "exp - iat" not in text
    assert 'role = "superadmin"  # observed: the role claim' in text


def test_init_writes_the_given_account_when_it_finds_no_login_route(
        no_login_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = _init(no_login_target, tmp_path / "ops.toml", capsys, monkeypatch)
    assert 'username = "${OPS_USER}"' in text and 'password = "${OPS_PASSWORD}"' in text
    assert "AUTHCONFORM_USERNAME" not in text
