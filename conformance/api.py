"""The contract's operations (login, refresh, logout, ...) spoken in the target's own dialect.

The profile says, per operation, the method, path, body format and field names, and how tokens
come back (JSON fields or cookies) and go (a header with a scheme, or cookies plus a CSRF header).
Checks speak in contract terms; this module translates.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from conformance.targets.base import Response

if TYPE_CHECKING:
    from conformance.context import CheckContext

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Principal:
    """A user the suite created or was given; the password is registered with the redactor."""

    username: str
    password: str
    tenant: str
    role: str
    user_id: str = ""


@dataclass
class Tokens:
    """What a login or refresh gave back."""

    access: str = ""
    refresh: str = ""
    session_id: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    response: Response | None = None
    refresh_kept: bool = False  # the answer carried no refresh token; the previous one is kept

    @property
    def ok(self) -> bool:
        return bool(self.access or self.cookies)


def json_path(data: Any, path: str) -> Any:
    """Follow a dotted path (``data.token``) into parsed JSON; None when it is not there."""
    for part in path.split(".") if path else []:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def basic_credentials(client_id: str, secret: str) -> str:
    """The credentials of an HTTP Basic header (RFC 6749 §2.3.1 form-encodes both parts first)."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return base64.b64encode(raw.encode()).decode()


class Api:
    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.profile = ctx.profile
        client = self.profile.client
        if client.secret:
            ctx.redactor.add(client.secret, basic_credentials(client.id, client.secret))

    # -------------------------------------------------------------- generic operation call
    def call(
        self,
        operation: str,
        *,
        auth: Tokens | str | None = None,
        ids: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        csrf: bool = True,
        worker: int = 0,
        note: str = "",
    ) -> Response:
        op = self.profile.operation(operation)
        path = op.path
        for key, value in (ids or {}).items():
            path = path.replace("{" + key + "}", str(value))
        request_headers = dict(headers or {})
        request_cookies = dict(cookies or {})
        body = dict(body) if body is not None else None
        if auth is not None and op.auth == "access":
            self._authenticate(op.method, auth, request_headers, request_cookies, csrf)
        if isinstance(auth, Tokens) and op.refresh_in and auth.refresh:
            body = self._present_refresh(op.refresh_in, auth.refresh, request_headers, request_cookies, body)
        client = self.profile.client
        if client.id and operation in client.operations:
            if client.method == "basic":
                request_headers["Authorization"] = "Basic " + basic_credentials(client.id, client.secret)
            else:
                body = {**(body or {}), "client_id": client.id,
                        **({"client_secret": client.secret} if client.secret else {})}
        payload: dict[str, Any] | None = None
        if body is not None or op.extra:
            payload = dict(op.extra)
            for name, value in (body or {}).items():
                payload[op.fields.get(name, name)] = value
        kwargs: dict[str, Any] = {}
        if payload is not None:
            if op.body == "form":
                kwargs["form"] = {k: str(v) for k, v in payload.items()}
            else:
                kwargs["json_body"] = payload
        return self.ctx.send(op.method, path, headers=request_headers, params=params,
                             cookies=request_cookies, worker=worker,
                             note=note or operation, **kwargs)

    def _authenticate(self, method: str, auth: Tokens | str, headers: dict[str, str],
                      cookies: dict[str, str], csrf: bool) -> None:
        tokens = self.profile.tokens
        if isinstance(auth, str):
            if tokens.delivery == "cookie":  # a cookie-only target would never look at a header
                cookies[tokens.access_cookie] = auth
            else:
                headers[tokens.header] = f"{tokens.scheme} {auth}".strip()
            return
        if tokens.delivery == "cookie":
            cookies.update({k: v for k, v in auth.cookies.items() if k != tokens.refresh_cookie})
            csrf_value = auth.cookies.get(tokens.csrf_cookie)
            if csrf and csrf_value and method in STATE_CHANGING:
                headers[tokens.csrf_header] = csrf_value
        else:
            headers[tokens.header] = f"{tokens.scheme} {auth.access}".strip()

    def _present_refresh(self, where: str, refresh: str, headers: dict[str, str], cookies: dict[str, str],
                         body: dict[str, Any] | None) -> dict[str, Any] | None:
        """Put the refresh token where the operation takes it; returns the (possibly new) body."""
        tokens = self.profile.tokens
        if where == "header":
            if tokens.refresh_header:
                headers[tokens.refresh_header] = f"{tokens.refresh_scheme} {refresh}".strip()
            else:
                headers[tokens.header] = f"{tokens.scheme} {refresh}".strip()
        elif where == "cookie":
            cookies[tokens.refresh_cookie] = refresh
        else:
            body = {**(body or {}), "refresh_token": refresh}
        return body

    def bearer(self, token: str) -> dict[str, str]:
        """The header that presents ``token`` the way the target expects an access token."""
        tokens = self.profile.tokens
        return {tokens.header: f"{tokens.scheme} {token}".strip()}

    # -------------------------------------------------------------- token extraction
    def tokens_from(self, response: Response, previous: Tokens | None = None) -> Tokens:
        spec = self.profile.tokens
        data = response.json()
        result = Tokens(response=response)
        if previous is not None:
            result.cookies = dict(previous.cookies)
            result.session_id = previous.session_id
        if spec.delivery == "cookie":
            for cookie in response.set_cookies():
                if cookie.clears:
                    result.cookies.pop(cookie.name, None)
                else:
                    result.cookies[cookie.name] = cookie.value
            result.access = result.cookies.get(spec.access_cookie, "")
            result.refresh = result.cookies.get(spec.refresh_cookie, "")
        else:
            access = json_path(data, spec.access_field)
            refresh = json_path(data, spec.refresh_field)
            result.access = access if isinstance(access, str) else ""
            result.refresh = refresh if isinstance(refresh, str) else ""
            if not result.refresh and previous is not None and result.access:
                # A refresh answer without a refresh token: the client keeps using the one it has.
                result.refresh, result.refresh_kept = previous.refresh, bool(previous.refresh)
        session = json_path(data, spec.session_field) if spec.session_field else None
        if isinstance(session, (str, int)):
            result.session_id = str(session)
        self.ctx.redactor.add(result.access, result.refresh, *result.cookies.values())
        return result

    # -------------------------------------------------------------- contract operations
    def signup(self, principal: Principal) -> Response:
        body = {"username": principal.username, "password": principal.password}
        if self.profile.declares("tenants"):
            body["tenant"] = principal.tenant
        return self.call("signup", body=body)

    def login_response(self, principal: Principal, *, extra: dict[str, Any] | None = None,
                       headers: dict[str, str] | None = None, worker: int = 0,
                       retry_limited: bool = False) -> Response:
        """The login answer. With ``retry_limited``, a login the declared login limiter refuses
        (429) is sent once more, after its window has passed."""
        body = {"username": principal.username, "password": principal.password}
        if self.profile.declares("tenants"):
            body["tenant"] = principal.tenant
        body.update(extra or {})
        response = self.call("login", body=body, headers=headers, worker=worker)
        if (retry_limited and response.status == 429 and self.profile.declares("rate_limit_login")
                and self.pass_login_window()):
            response = self.call("login", body=body, headers=headers, worker=worker)
        return response

    def logged_in(self, response: Response) -> bool:
        """Did a login answer log in? Only when it carries the tokens where the profile says they
        come back: a service answering 200 {"status": "fail"} to a wrong password did not."""
        return 200 <= response.status < 300 and self.tokens_from(response).ok

    def login(self, principal: Principal, *, worker: int = 0, extra: dict[str, Any] | None = None) -> Tokens:
        """Log in and return the tokens; a refused login is a failed negative control. A login the
        declared login limiter refuses (429) is retried once, after its window has passed."""
        response = self.login_response(principal, worker=worker, extra=extra, retry_limited=True)
        tokens = self.tokens_from(response)
        self.ctx.control(200 <= response.status < 300 and tokens.ok,
                         f"login of a valid {principal.role} answered {response.status} without tokens")
        return tokens

    def pass_login_window(self) -> bool:
        """Let one login-limiter window pass: the clock when it is controllable, else a real wait
        bounded by target.max_wait. False when the wait would be longer than that."""
        return self._pass(self.profile.rate_limits.login_window + 1)

    def pass_api_window(self) -> bool:
        """The same for the per-user API limiter (a set-up step that one user repeats many times)."""
        return self.profile.declares("rate_limit_api") and self._pass(self.profile.rate_limits.api_window + 1)

    def _pass(self, seconds: float) -> bool:
        clock = self.ctx.target.clock
        if clock is not None:
            clock.advance(seconds)
            return True
        if seconds > self.profile.target.max_wait:
            return False
        time.sleep(seconds)
        return True

    def refresh_response(self, tokens: Tokens | str, *, worker: int = 0) -> Response:
        spec = self.profile.tokens
        refresh = tokens if isinstance(tokens, str) else tokens.refresh
        where = self.profile.operation("refresh").refresh_in
        if not where:
            where = "cookie" if spec.delivery == "cookie" and not isinstance(tokens, str) else "body"
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        body = self._present_refresh(where, refresh, headers, cookies, None)
        return self.call("refresh", body=body, headers=headers, cookies=cookies, worker=worker)

    def refresh(self, tokens: Tokens, *, worker: int = 0) -> Tokens:
        response = self.refresh_response(tokens, worker=worker)
        fresh = self.tokens_from(response, previous=tokens)
        self.ctx.control(200 <= response.status < 300 and fresh.ok,
                         f"refresh with a fresh refresh token answered {response.status}")
        return fresh

    def me(self, tokens: Tokens | str, *, worker: int = 0, note: str = "") -> Response:
        return self.call("me", auth=tokens, worker=worker, note=note or "me")

    def accepted(self, tokens: Tokens | str, *, worker: int = 0, note: str = "") -> bool:
        """Does the target accept these credentials on the 'me' route right now?"""
        status = self.me(tokens, worker=worker, note=note).status
        return 200 <= status < 300
