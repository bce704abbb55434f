"""Each discovery step of ``authconform init`` on its own, against a scripted target in process:
what it finds, and that the requests it confirms a route with are the ones ``conformance.api.Api``
sends for the operation it drafts (field names, tenant, client credentials, where the refresh
token goes), so a drafted profile describes what the suite will really send."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from freezegun import freeze_time

from conformance.api import Principal, Tokens
from conformance.targets.base import Headers, Response
from conformance.wizard import discover_login, discover_logout, discover_openapi, discover_refresh, discover_tokens
from conformance.wizard.draft import DraftOperation
from conformance.wizard.probing import Options, ProbeContext

KEY = secrets.token_urlsafe(32)


def token(kind: str = "access", **claims: Any) -> str:
    return jwt.encode({"sub": "u1", "type": kind, "jti": secrets.token_hex(8), **claims}, KEY, algorithm="HS256")


@dataclass
class Sent:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    kind: str  # "json", "form" or "" (no body)
    cookies: dict[str, str]


Handler = Callable[[Sent], tuple[int, Any, list[tuple[str, str]]]]


@dataclass
class ScriptedTarget:
    """Answers each (method, path) with its handler, 404 otherwise; keeps every request."""

    routes: dict[tuple[str, str], Handler]
    base_url: str = "http://127.0.0.1:9"
    sent: list[Sent] = field(default_factory=list)

    def request(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None, json_body: Any = None,
                form: Mapping[str, str] | None = None, cookies: Mapping[str, str] | None = None) -> Response:
        body = json_body if json_body is not None else dict(form) if form is not None else None
        kind = "json" if json_body is not None else "form" if form is not None else ""
        request = Sent(method, path, dict(headers or {}), body, kind, dict(cookies or {}))
        self.sent.append(request)
        handler = self.routes.get((method, path))
        status, data, extra_headers = handler(request) if handler else (404, {"error": "not found"}, [])
        raw = json.dumps(data).encode() if data is not None else b""
        return Response(status, Headers([("Content-Type", "application/json"), *extra_headers]), raw, 0.0)

    def to(self, method: str, path: str) -> list[Sent]:
        return [s for s in self.sent if (s.method, s.path) == (method, path)]


def context(target: ScriptedTarget, **options: Any) -> ProbeContext:
    ctx = ProbeContext(Options(target=target.base_url, **options), say=lambda line: None)
    ctx.http = target  # type: ignore[assignment]
    return ctx


def ok(data: Any, *headers: tuple[str, str]) -> tuple[int, Any, list[tuple[str, str]]]:
    return 200, data, list(headers)


def refused() -> tuple[int, Any, list[tuple[str, str]]]:
    return 401, {"error": "invalid_token"}, []


ACCOUNT = Principal(username="ops", password="Pw-" + secrets.token_urlsafe(8), tenant="acme", role="")


def test_token_inspection_tells_the_access_token_from_the_refresh_token() -> None:
    answer = {"data": {"jwt": token(), "renew": token("refresh")}, "session": {"id": "s-1"}}
    assert discover_tokens.find_token_paths(answer) == ("data.jwt", "data.renew")
    assert discover_tokens.find_session_path(answer) == "session.id"
    assert discover_tokens.find_token_paths({"access_token": "short"}) == ("", "")


def test_token_inspection_reads_a_lifetime_without_iat_from_exp() -> None:
    with freeze_time("2026-01-01 12:00:00"):
        now = int(time.time())
        assert discover_tokens.lifetime_of({"exp": now + 600, "iat": now - 10}) == (610, "exp - iat")
        assert discover_tokens.lifetime_of({"exp": now + 599}) == (
            600, "exp minus the time of login, to the minute (it has no iat)")
        assert discover_tokens.lifetime_of({"exp": now - 1}) == (0, "")


def test_the_openapi_step_reads_the_first_document_and_its_title() -> None:
    document = {"openapi": "3.0.3", "info": {"title": "ops"}, "paths": {"/login": {"post": {}}}}
    target = ScriptedTarget({("GET", "/apispec.json"): lambda sent: ok(document),
                             ("GET", "/openapi.json"): lambda sent: ok({"not": "a document"})})
    ctx = context(target)
    discover_openapi.read_openapi(ctx)
    assert ctx.document is not None and [op.path for op in ctx.document.operations] == ["/login"]
    assert ctx.draft.name == "ops"


def test_the_login_step_sends_what_the_api_sends_with_a_tenant_and_client_credentials() -> None:
    def login(sent: Sent) -> tuple[int, Any, list[tuple[str, str]]]:
        return ok({"access_token": token(), "refresh_token": token("refresh")}, ("RateLimit-Limit", "5"),
                  ("RateLimit-Reset", "60"))

    target = ScriptedTarget({("POST", "/oauth/token"): login})
    ctx = context(target, client_id="web", client_secret_env="SECRET", environ={"SECRET": "s3cret"})
    op = DraftOperation("POST", "/oauth/token", "form", {"username": "login", "password": "pw", "tenant": "org"},
                        {"grant_type": "password"})
    tokens = discover_login.try_login(ctx, op, ACCOUNT)
    assert tokens is not None and tokens.access and tokens.refresh
    sent = target.to("POST", "/oauth/token")[-1]
    assert sent.kind == "form"
    assert sent.body == {"grant_type": "password", "login": "ops", "pw": ACCOUNT.password, "org": "acme"}
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"web:s3cret").decode()
    assert ctx.client_ops == ["login"] and ctx.login_rate == (5, 60)
    assert (ctx.shape.access_path, ctx.shape.refresh_path) == ("access_token", "refresh_token")


def test_an_http_basic_login_sends_the_users_credentials_and_no_body() -> None:
    target = ScriptedTarget({("POST", "/api/login"): lambda sent: ok({"token": token()})})
    ctx = context(target, client_id="web")
    tokens = discover_login.try_login(ctx, DraftOperation("POST", "/api/login", auth="basic"), ACCOUNT)
    assert tokens is not None
    sent = target.to("POST", "/api/login")[-1]
    user = base64.b64encode(f"ops:{ACCOUNT.password}".encode()).decode()
    assert sent.headers["Authorization"] == f"Basic {user}" and sent.body is None
    assert ctx.client_ops == []  # the header is the user's: no client credentials go with it


def _logged_in(ctx: ProbeContext, access: str, refresh: str = "", session_id: str = "") -> Tokens:
    ctx.shape.access_path, ctx.shape.refresh_path = "access_token", "refresh_token" if refresh else ""
    ctx.login_op = DraftOperation("POST", "/v1/sessions")
    return Tokens(access=access, refresh=refresh, session_id=session_id)


def test_the_refresh_step_finds_a_renewal_that_answers_the_token_under_another_name() -> None:
    renewed = token()

    def renew(sent: Sent) -> tuple[int, Any, list[tuple[str, str]]]:
        return ok({"token": renewed}) if sent.body and "refresh_token" in sent.body else refused()

    target = ScriptedTarget({("POST", "/v1/sessions/renew"): renew})
    ctx = context(target)
    login = _logged_in(ctx, token(), token("refresh"))
    fresh = discover_refresh.find_refresh(ctx, login)
    assert fresh.access == renewed and fresh.refresh == login.refresh  # kept: the answer had none
    refresh = ctx.draft.operations["refresh"]
    assert (refresh.path, refresh.refresh_in, refresh.access_token_path) == ("/v1/sessions/renew", "body", "token")
    assert "refresh" in ctx.draft.capabilities


def test_the_refresh_step_sends_both_tokens_where_the_route_wants_them() -> None:
    def renew(sent: Sent) -> tuple[int, Any, list[tuple[str, str]]]:
        if sent.body and {"refresh_token", "access_token"} <= set(sent.body):
            return ok({"access_token": token(), "refresh_token": token("refresh")})
        return refused()

    target = ScriptedTarget({("POST", "/api/refresh"): renew, ("POST", "/api/login"): lambda sent: refused()})
    ctx = context(target)
    login = _logged_in(ctx, token(), token("refresh"))
    ctx.login_op = DraftOperation("POST", "/api/login")
    fresh = discover_refresh.find_refresh(ctx, login)
    assert fresh.access != login.access and fresh.refresh != login.refresh
    assert ctx.draft.operations["refresh"].send == ["refresh_token", "access_token"]


def test_the_logout_step_observes_the_token_refused_afterwards() -> None:
    ended: set[str] = set()

    def bearer(sent: Sent) -> str:
        return sent.headers.get("Authorization", "").removeprefix("Bearer ")

    def logout(sent: Sent) -> tuple[int, Any, list[tuple[str, str]]]:
        if sent.headers.get("x-session-id") != "s-1":
            return 400, {"error": "which session?"}, []
        ended.add(bearer(sent))
        return 204, None, []

    def me(sent: Sent) -> tuple[int, Any, list[tuple[str, str]]]:
        return refused() if bearer(sent) in ended or not bearer(sent) else ok({"username": "ops"})

    document = {"openapi": "3.0.3", "paths": {"/v1/sessions/current": {"delete": {"parameters": [
        {"in": "header", "name": "x-session-id", "required": True}]}}}}
    target = ScriptedTarget({("DELETE", "/v1/sessions/current"): logout, ("GET", "/v1/me"): me,
                             ("GET", "/openapi.json"): lambda sent: ok(document)})
    ctx = context(target)
    discover_openapi.read_openapi(ctx)
    login = _logged_in(ctx, token(), session_id="s-1")
    ctx.draft.operations["me"] = DraftOperation("GET", "/v1/me")
    discover_logout.find_logout(ctx, login)
    logout_op = ctx.draft.operations["logout"]
    assert (logout_op.method, logout_op.session_header) == ("DELETE", "x-session-id")
    assert logout_op.note == "observed: ended the session" and not ctx.draft.capabilities["logout"].guess


def test_a_revocation_form_sends_the_client_credentials_and_not_the_access_token() -> None:
    def revoke(sent: Sent) -> tuple[int, Any, list[tuple[str, str]]]:
        good = sent.kind == "form" and sent.body == {"token_type_hint": "refresh_token", "token": refresh}
        return (200, {}, []) if good and sent.headers.get("Authorization", "").startswith("Basic ") else refused()

    refresh = token("refresh")
    target = ScriptedTarget({("POST", "/token/revoke"): revoke, ("POST", "/token"): lambda sent: refused()})
    ctx = context(target, client_id="web", client_secret_env="SECRET", environ={"SECRET": "s3cret"})
    login = _logged_in(ctx, token(), refresh)
    ctx.login_op = DraftOperation("POST", "/token")
    discover_logout.find_logout(ctx, login)
    logout_op = ctx.draft.operations["logout"]
    assert (logout_op.path, logout_op.auth, logout_op.body) == ("/token/revoke", "none", "form")
    assert ctx.client_ops == ["logout"]


def test_a_cookie_login_is_read_and_the_csrf_header_found_on_a_refused_write() -> None:
    access, refresh, csrf = token(), token("refresh"), secrets.token_hex(8)

    def login(sent: Sent) -> tuple[int, Any, list[tuple[str, str]]]:
        return ok({"ok": True}, ("Set-Cookie", f"app_access={access}; HttpOnly"),
                  ("Set-Cookie", f"app_refresh={refresh}; HttpOnly"), ("Set-Cookie", f"app_csrf={csrf}"))

    def logout_all(sent: Sent) -> tuple[int, Any, list[tuple[str, str]]]:
        if sent.cookies.get("app_access") != access or "app_refresh" in sent.cookies:
            return refused()
        return (200, {}, []) if sent.headers.get("X-App-CSRF") == csrf else (403, {"error": "csrf"}, [])

    target = ScriptedTarget({("POST", "/login"): login, ("POST", "/logout-all"): logout_all})
    ctx = context(target)
    ctx.account = ACCOUNT
    tokens = discover_login.try_login(ctx, DraftOperation("POST", "/login", "form", {"username": "username",
                                                                                     "password": "password"}), ACCOUNT)
    assert tokens is not None and tokens.access == access and tokens.refresh == refresh
    assert (ctx.shape.delivery, ctx.shape.access_cookie, ctx.shape.refresh_cookie, ctx.shape.csrf_cookie) == (
        "cookie", "app_access", "app_refresh", "app_csrf")
    discover_logout.find_logout_all(ctx)
    assert ctx.csrf_header == "X-App-CSRF" and "logout_all" in ctx.draft.capabilities
