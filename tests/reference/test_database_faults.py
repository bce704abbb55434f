"""The reference's SQLite database read-only or locked: every request that needs the database
answers a clear 503 (JSON, Retry-After, no traceback, nothing logged with one), requests that do
not need it go on, a login that fails half-way leaves no session behind, and when the lock is
released service resumes.

The read-only file is opened the way SQLite reports a read-only file (``mode=ro``): this suite
runs as root in CI, and root writes to a chmod 0444 file anyway."""

from __future__ import annotations

import logging
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine

from reference_impl import Config, create_app
from reference_impl.memory_store import MemoryStore

PASSWORD = "correct-horse-battery"
LOCK_WAIT = 0.3  # the busy timeout these tests give SQLite (the reference's default is 15 s)


def _account(client: FlaskClient) -> dict[str, str]:
    body = {"username": "ann", "password": PASSWORD, "tenant": f"t-{secrets.token_hex(4)}"}
    assert client.post("/auth/register", json=body).status_code == 201
    return body


def _login(client: FlaskClient, account: dict[str, str]) -> dict[str, Any]:
    answer = client.post("/auth/login", json=account)
    assert answer.status_code == 200, answer.get_json()
    return dict(answer.get_json())


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _unavailable(answer: Any, what: str) -> None:
    assert answer.status_code == 503, f"{what} answered {answer.status_code}: {answer.get_data(as_text=True)}"
    body = answer.get_json()
    assert body["error"] == "service_unavailable" and "database" in body["message"], body
    assert answer.headers.get("Retry-After"), "a 503 without Retry-After"
    assert "Traceback" not in answer.get_data(as_text=True)


@pytest.fixture
def no_logged_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO, logger="reference_impl")
    yield
    with_traces = [r.getMessage() for r in caplog.records if r.exc_info]
    assert not with_traces, with_traces


def test_a_read_only_database_answers_503_for_writes(tmp_path: Path, no_logged_tracebacks: None) -> None:
    path = tmp_path / "reference.sqlite3"
    config = Config.for_tests(database_url=f"sqlite:///{path}")
    store = MemoryStore()
    writable = create_app(config, store=store).test_client()
    account = _account(writable)
    tokens = _login(writable, account)

    read_only = create_app(config, store=store,
                           engine=create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")).test_client()
    _unavailable(read_only.post("/auth/register", json={**account, "tenant": "other-tenant"}), "sign-up")
    _unavailable(read_only.post("/documents", json={"title": "t", "body": "b"}, headers=_bearer(tokens)),
                 "creating a document")
    for _ in range(3):  # more than max_sessions - 1: a half-done login must not evict anything
        _unavailable(read_only.post("/auth/login", json=account), "login (its audit entry cannot be written)")
    # What needs no write goes on: the token, the sessions, the documents list, the key set.
    assert read_only.get("/users/me", headers=_bearer(tokens)).status_code == 200
    sessions = read_only.get("/auth/sessions", headers=_bearer(tokens)).get_json()["sessions"]
    assert [s["id"] for s in sessions] == [tokens["session_id"]], "a failed login left a session behind"
    assert read_only.get("/documents", headers=_bearer(tokens)).status_code == 200
    assert read_only.get("/.well-known/jwks.json").status_code == 200


def test_a_locked_database_answers_503_and_service_resumes_when_released(
        tmp_path: Path, no_logged_tracebacks: None) -> None:
    path = tmp_path / "reference.sqlite3"
    client = create_app(Config.for_tests(database_url=f"sqlite:///{path}?timeout={LOCK_WAIT}")).test_client()
    account = _account(client)
    tokens = _login(client, account)

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock (readers wait too)
    try:
        _unavailable(client.post("/auth/login", json=account), "login")
        _unavailable(client.post("/auth/register", json={**account, "tenant": "other-tenant"}), "sign-up")
        _unavailable(client.get("/documents", headers=_bearer(tokens)), "listing documents")
        _unavailable(client.get("/healthz"), "health")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.get("/healthz").status_code == 200
    assert client.get("/documents", headers=_bearer(tokens)).status_code == 200
    _login(client, account)
