"""Fixtures for the reference's own tests: a fresh app per test, a frozen clock, users."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from reference_impl import Config, create_app
from reference_impl.users import provision_user

START = dt.datetime(2030, 1, 7, 9, 0, 0, tzinfo=dt.UTC)
PASSWORD = "correct-horse-battery"


@dataclass
class Clock:
    frozen: Any

    def advance(self, seconds: float) -> None:
        self.frozen.tick(dt.timedelta(seconds=seconds))

    def now(self) -> float:
        return float(self.frozen().timestamp())


@pytest.fixture
def clock() -> Iterator[Clock]:
    with freeze_time(START, tick=False) as frozen:
        yield Clock(frozen)


@dataclass
class Login:
    access: str
    refresh: str
    session_id: str
    user_id: int
    tenant: str
    username: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


class Harness:
    """One app and its client, plus helpers that speak the contract."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client(use_cookies=False)

    @property
    def services(self) -> Any:
        return self.app.extensions["authconform"]

    def user(self, role: str = "viewer", *, tenant: str | None = None, username: str | None = None,
             password: str = PASSWORD) -> tuple[int, str, str]:
        tenant = tenant or f"t-{secrets.token_hex(4)}"
        username = username or f"{role}-{secrets.token_hex(3)}"
        user_id = provision_user(self.app, username=username, password=password, tenant=tenant, role=role)
        return user_id, username, tenant

    def login(self, role: str = "viewer", *, tenant: str | None = None, username: str | None = None,
              password: str = PASSWORD, ip: str = "127.0.0.1") -> Login:
        if username is None:
            user_id, username, tenant = self.user(role, tenant=tenant, password=password)
        else:
            user_id = 0
        assert tenant is not None
        answer = self.client.post("/auth/login", json={"username": username, "password": password,
                                                       "tenant": tenant}, environ_base={"REMOTE_ADDR": ip})
        assert answer.status_code == 200, answer.json
        data = answer.json
        return Login(data["access_token"], data["refresh_token"], data["session_id"], user_id or _sub(data),
                     tenant, username)

    def get(self, path: str, login: Login | None = None, **kwargs: Any) -> Any:
        return self.client.get(path, headers=login.auth if login else kwargs.pop("headers", None), **kwargs)

    def call(self, method: str, path: str, login: Login | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if login is not None:
            headers.update(login.auth)
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def me(self, login: Login) -> int:
        return int(self.client.get("/users/me", headers=login.auth).status_code)


def _sub(data: dict[str, Any]) -> int:
    import base64
    import json

    payload = data["access_token"].split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


@pytest.fixture
def make() -> Callable[..., Harness]:
    def build(store: Any = None, engine: Any = None, **overrides: Any) -> Harness:
        return Harness(create_app(Config.for_tests(**overrides), store=store, engine=engine))

    return build


@pytest.fixture
def ref(make: Callable[..., Harness]) -> Harness:
    return make()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "schemathesis: runs Schemathesis against the reference's OpenAPI document")
