"""Probing a live target for ``authconform init``.

The probe reads the OpenAPI document where there is one, then confirms what it can by using
the target the way a client would: it signs up one throwaway user (when there is a sign-up
route and it may) or logs in with an account from the environment, and learns from the answers
where tokens come back, how they are presented, how long they live, and which of the refresh,
logout, sessions and logout-all routes work. It never changes a password, deletes an account or
touches another user; what it cannot confirm safely it writes as a guess.

Requests go through ``HttpTarget`` (timeouts, no redirects, nothing sent off the target), and
no secret is ever printed.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from conformance.api import basic_credentials, json_path, user_basic_credentials
from conformance.errors import UsageError
from conformance.minting import b64url_decode
from conformance.profile import DEFAULT_PROFILE, OPERATION_CAPABILITY, load
from conformance.targets.base import Response
from conformance.targets.http import HttpTarget
from conformance.verdict import TargetUnreachable
from conformance.wizard import openapi
from conformance.wizard.draft import Draft, DraftOperation, Value

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
ABSENT = (404, 405, 501)
REDIRECTS = (301, 302, 307, 308)
LIFETIME_SLACK = 5  # seconds between a token's issue and init reading it, at most, when it has no iat

# Common routes, tried in order where the target has no OpenAPI document ("{dir}" is the
# directory of the login route, e.g. /api for /api/login).
LOGIN_PATHS = ("/login", "/auth/login", "/api/login", "/api/auth/login", "/token", "/auth/token", "/api/token",
               "/oauth/token", "/signin", "/auth/signin", "/api/signin", "/users/login", "/api/users/login",
               "/session", "/api/session", "/api/v1/login", "/api/v1/auth/login", "/v1/login", "/tokens", "/api/tokens",
               "/auth/tokens", "/api/v1/tokens", "/v1/tokens", "/v1/sessions", "/api/v1/sessions")
# A login route that names a resource of tokens or sessions: POST creates one (log in), PUT or
# PATCH renews it (refresh), DELETE ends it (log out).
TOKEN_RESOURCE = re.compile(r"/(tokens?|sessions?)/?$")
SIGNUP_PATHS = ("{dir}/register", "{dir}/signup", "/register", "/signup", "/auth/register", "/auth/signup",
                "/api/register", "/api/signup", "/api/auth/register", "/api/auth/signup", "/users/register",
                "/api/users/register", "/users", "/api/users")
ME_PATHS = ("{dir}/me", "/me", "/users/me", "/api/me", "/api/users/me", "/auth/me", "/api/auth/me", "/user",
            "/api/user", "/account", "/api/account", "/whoami", "/api/whoami", "/profile", "/api/profile",
            "/api/v1/me", "/api/v1/users/me")
REFRESH_PATHS = ("{dir}/refresh", "{dir}/token/refresh", "{login}/refresh", "{login}/renew", "/refresh",
                 "/auth/refresh", "/token/refresh", "/api/refresh", "/api/token/refresh", "/api/auth/refresh",
                 "/auth/token/refresh", "/oauth/token")
LOGOUT_PATHS = ("{dir}/logout", "/logout", "/auth/logout", "/api/logout", "/api/auth/logout", "/signout",
                "/auth/signout", "{login}/revoke", "/token/revoke", "/revoke", "/oauth/revoke", "/api/token/revoke",
                "{login}/blacklist", "{dir}/token/blacklist")
LOGOUT_ALL_PATHS = ("{dir}/logout-all", "{dir}/logout_all", "/logout-all", "/auth/logout-all", "/api/logout-all",
                    "/api/auth/logout-all", "/logout/all", "/auth/logout/all", "/logout_all", "/auth/logout_all")
SESSIONS_PATHS = ("{me}/sessions", "{dir}/sessions", "/sessions", "/auth/sessions", "/api/sessions",
                  "/account/sessions", "/me/sessions", "/users/me/sessions", "/api/auth/sessions")
JWKS_PATHS = ("/.well-known/jwks.json", "/jwks.json", "/.well-known/jwks", "/oauth/jwks", "/api/jwks.json")
HEALTH_PATHS = ("/healthz", "/health", "/api/health", "/status", "/ping", "/livez")
# How an access token may travel, tried after what the OpenAPI document or an error message says.
PRESENTATIONS = (("Authorization", "Bearer"), ("Authorization", "JWT"), ("Authorization", "Token"),
                 ("X-Access-Token", ""), ("X-Auth-Token", ""), ("X-API-Token", ""), ("Authorization", ""))
CSRF_HEADERS = ("X-CSRF-Token", "X-CSRFToken", "X-XSRF-TOKEN", "X-CSRF")
# The domain of the throwaway addresses init signs up with: RFC 2606 reserves it for examples, and
# unlike example.test it is not a special-use name that e-mail validators (email-validator) refuse.
EMAIL_DOMAIN = "example.com"
ACCESS_KEYS = ("access_token", "accessToken", "access", "token", "jwt", "id_token", "auth_token", "authToken")
SESSION_KEYS = ("session_id", "sessionId", "sid", "session.id", "session.session_id")


@dataclass
class Creds:
    """One login: its tokens, cookies, and session id."""

    access: str = ""
    refresh: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    session_id: str = ""


@dataclass
class Options:
    target: str
    signup: bool = True
    username_env: str = ""
    password_env: str = ""
    tenant: str = ""
    client_id: str = ""
    client_secret_env: str = ""
    client_method: str = "basic"
    environ: Mapping[str, str] = field(default_factory=dict)


def looks_like_jwt(value: Any) -> bool:
    if not isinstance(value, str) or value.count(".") != 2:
        return False
    try:
        header = json.loads(b64url_decode(value.split(".")[0]))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


def claims_of(token: str) -> dict[str, Any]:
    try:
        claims = json.loads(b64url_decode(token.split(".")[1]))
    except (ValueError, IndexError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _string_paths(node: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, str):
                yield path, value
            elif isinstance(value, dict):
                yield from _string_paths(value, path)


def find_token_paths(data: Any) -> tuple[str, str]:
    """JSON paths of the access and refresh token in a login answer ("" where none)."""
    access, refresh = "", ""
    for path, value in _string_paths(data):
        last = path.rsplit(".", 1)[-1].lower()
        token_like = looks_like_jwt(value) or (last in {k.lower() for k in ACCESS_KEYS} and len(value) >= 16)
        if not token_like:
            continue
        kind = str(claims_of(value).get("type", claims_of(value).get("token_type", ""))).lower()
        if "refresh" in last or kind == "refresh":
            refresh = refresh or path
        elif not access:
            access = path
    return access, refresh


def find_session_path(data: Any) -> str:
    for path in SESSION_KEYS:
        value = json_path(data, path)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return path
    return ""


class Prober:
    """Learns a target by using it; fills a ``Draft``."""

    def __init__(self, options: Options, say: Callable[[str], None]) -> None:
        self.options = options
        self.say = say
        self.http = HttpTarget(options.target, connect_timeout=3.0, read_timeout=10.0)
        self.draft = Draft(base_url=self.http.base_url)
        self.api: openapi.ApiDocument | None = None
        self.default = load(DEFAULT_PROFILE)
        self.delivery = "json"
        self.header, self.scheme = "Authorization", "Bearer"
        self.access_cookie = self.refresh_cookie = self.csrf_cookie = ""
        self.csrf_header = ""
        self.access_path = self.refresh_path = self.session_path = ""
        self.login_op: DraftOperation | None = None
        self.credentials: dict[str, str] = {}  # username, password, tenant of the account in use
        self.client_secret = options.environ.get(options.client_secret_env, "") if options.client_secret_env else ""
        self.client_ops: list[str] = []
        self.login_rate: tuple[int, int] | None = None
        self.api_rate: tuple[int, int] | None = None
        self.sessions_path = ""
        self.email_signups: set[str] = set()  # sign-up paths whose username is an e-mail address

    # ------------------------------------------------------------------ plumbing
    def send(self, method: str, path: str, *, body: Mapping[str, Any] | None = None, kind: str = "json",
             headers: Mapping[str, str] | None = None, cookies: Mapping[str, str] | None = None) -> Response:
        json_body = dict(body) if body is not None and kind == "json" else None
        form = {k: str(v) for k, v in body.items()} if body is not None and kind == "form" else None
        return self.http.request(method, path, headers=headers, json_body=json_body, form=form, cookies=cookies)

    def try_send(self, method: str, path: str, **kwargs: Any) -> Response | None:
        try:
            return self.send(method, path, **kwargs)
        except (TargetUnreachable, ValueError):
            return None

    def probe_route(self, method: str, path: str, **kwargs: Any) -> tuple[str, Response | None]:
        """Send to ``path``; where the target redirects to the same path with a trailing slash
        (Django's APPEND_SLASH), send again there. The path that answered, and its answer."""
        answer = self.try_send(method, path, **kwargs)
        if answer is not None and answer.status in REDIRECTS and not path.endswith("/"):
            location = urlsplit(answer.headers.get("Location", "")).path
            if location == path + "/":
                return location, self.try_send(method, location, **kwargs)
        return path, answer

    def _client_headers(self, op_name: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        if not self.options.client_id:
            return
        if self.options.client_method == "basic":
            headers["Authorization"] = "Basic " + basic_credentials(self.options.client_id, self.client_secret)
        else:
            body["client_id"] = self.options.client_id
            if self.client_secret:
                body["client_secret"] = self.client_secret
        if op_name not in self.client_ops:
            self.client_ops.append(op_name)

    def auth_parts(self, creds: Creds, method: str) -> tuple[dict[str, str], dict[str, str]]:
        if self.delivery == "cookie":
            cookies = {k: v for k, v in creds.cookies.items() if k != self.refresh_cookie}
            headers = {}
            if method in STATE_CHANGING and self.csrf_header and self.csrf_cookie in creds.cookies:
                headers[self.csrf_header] = creds.cookies[self.csrf_cookie]
            return headers, cookies
        return {self.header: f"{self.scheme} {creds.access}".strip()}, {}

    def authed(self, method: str, path: str, creds: Creds, *, body: Mapping[str, Any] | None = None,
               kind: str = "json", headers: Mapping[str, str] | None = None,
               cookies: Mapping[str, str] | None = None) -> Response | None:
        """A request with the login's credentials; finds the CSRF header the first time one is refused."""
        auth_headers, auth_cookies = self.auth_parts(creds, method)
        answer = self.try_send(method, path, body=body, kind=kind, headers={**auth_headers, **(headers or {})},
                               cookies={**auth_cookies, **(cookies or {})})
        if (answer is not None and answer.status == 403 and self.delivery == "cookie" and not self.csrf_header
                and method in STATE_CHANGING and self.csrf_cookie in creds.cookies):
            for candidate in self._csrf_candidates(answer):
                retry = self.try_send(method, path, body=body, kind=kind, cookies={**auth_cookies, **(cookies or {})},
                                      headers={**(headers or {}), candidate: creds.cookies[self.csrf_cookie]})
                if retry is not None and retry.status != 403:
                    self.csrf_header = candidate
                    self.say(f"csrf: the {self.csrf_cookie} cookie is echoed in {candidate}")
                    return retry
        return answer

    def _csrf_candidates(self, refusal: Response) -> list[str]:
        hinted = re.findall(r"\b(X-[A-Za-z0-9-]+)", refusal.text)
        parts = [p for p in re.split(r"[_\-]", self.csrf_cookie) if p]
        derived = ["X-" + "-".join(p.upper() if p.lower() in ("csrf", "xsrf") else p.capitalize() for p in parts)]
        derived.append("X-" + "-".join(p.upper() for p in parts))
        return list(dict.fromkeys([*hinted, *derived, *CSRF_HEADERS]))

    def _paths(self, templates: Iterable[str], **values: str) -> list[str]:
        out = []
        for template in templates:
            if any("{" + key + "}" in template and not value for key, value in values.items()):
                continue
            path = template
            for key, value in values.items():
                path = path.replace("{" + key + "}", value)
            if "{" not in path and path.startswith("/"):
                out.append(re.sub(r"/{2,}", "/", path))
        return list(dict.fromkeys(out))

    def _dir(self) -> str:
        if self.login_op is None:
            return ""
        directory = self.login_op.path.rsplit("/", 1)[0]
        return directory

    # ------------------------------------------------------------------ the whole probe
    def run(self) -> Draft:
        self._reach()
        self._read_openapi()
        self._defaults()
        creds = self._log_in()
        if creds is None:
            self._without_login()
            return self.draft
        self._learn_tokens(creds)
        self._find_me(creds)
        self._find_public_routes()
        self._find_sessions(creds)
        creds = self._find_refresh(creds)
        self._find_session_delete(creds)
        self._find_logout(creds)
        self._find_logout_all()
        self._from_openapi_only()
        self._roles_and_tenants(creds)
        self._rate_limits()
        self._write_tokens_section()
        self._write_client()
        return self.draft

    def _reach(self) -> None:
        answer = self.send("GET", "/")  # TargetUnreachable here is the caller's exit 3
        self.say(f"target: {self.http.base_url} answers ({answer.status})")
        self.draft.target["base_url"] = Value(self.http.base_url)

    def _read_openapi(self) -> None:
        for path in openapi.OPENAPI_PATHS:
            answer = self.try_send("GET", path)
            if answer is None or answer.status != 200:
                continue
            data = openapi.load_document(answer.body)
            document = openapi.parse(data, path)
            if document is not None:
                self.api = document
                info = data.get("info") if isinstance(data, dict) else None
                title = info.get("title") if isinstance(info, dict) else None
                if isinstance(title, str):
                    self.draft.name = title
                self.say(f"openapi: {path} describes {len(document.operations)} operations")
                return
        self.say("openapi: none found at the usual paths; probing common routes instead")

    def _defaults(self) -> None:
        self.draft.name = self.draft.name or urlsplit(self.http.base_url).netloc
        self.draft.passwords["min_length"] = Value(8, "the contract's minimum; set your service's", guess=True)
        self.draft.passwords["max_length"] = Value(128, "the contract's maximum; set your service's", guess=True)
        self.draft.target["max_wait"] = Value(120.0, "longest real wait a check may do (login windows, timeouts)",
                                              guess=True)

    # ------------------------------------------------------------------ login and sign-up
    def _login_candidates(self) -> list[DraftOperation]:
        candidates: list[DraftOperation] = []
        if self.api is not None:
            token_url, _refresh_url = self.api.oauth2_password_urls()
            ops = [op for op in self.api.operations if op.method == "POST" and op.path == token_url]
            ops += self.api.find("POST", r"(log-?in|sign-?in|/token|/session)s?$", exclude=r"refresh|revoke|logout")
            for op in dict.fromkeys(ops):
                user_field = op.field_named(openapi.USERNAME_FIELDS)
                password_field = op.field_named(openapi.PASSWORD_FIELDS)
                if not (user_field and password_field):
                    continue
                fields = {"username": user_field, "password": password_field}
                tenant_field = op.field_named(openapi.TENANT_FIELDS)
                if tenant_field:
                    fields["tenant"] = tenant_field
                extra = {"grant_type": op.constant("grant_type") or "password"} if "grant_type" in op.properties else {}
                candidates.append(DraftOperation("POST", op.path, op.body or "json", fields, extra,
                                                 note=f"from the OpenAPI document ({op.body or 'json'} body)"))
            if candidates:
                return candidates
        for tried in LOGIN_PATHS:
            path, probe = self.probe_route("POST", tried, body={})
            if probe is None or probe.status in ABSENT or probe.status in REDIRECTS:
                continue
            if probe.status == 401 and probe.headers.get("WWW-Authenticate", "").lower().startswith("basic"):
                # It asks for HTTP Basic: the user's own username and password, no body.
                candidates.append(DraftOperation("POST", path, auth="basic", note="probed: it asks for HTTP Basic"))
                continue
            oauth = "token" in path
            shapes = [("form", "username", True)] if oauth else []
            shapes += [("json", "username", False), ("form", "username", False), ("json", "email", False),
                       ("form", "email", False)]
            for kind, user_field, grant in shapes:
                candidates.append(DraftOperation("POST", path, kind, {"username": user_field, "password": "password"},
                                                 {"grant_type": "password"} if grant else {},
                                                 note=f"probed: {kind} body"))
        return candidates

    def _signup_candidates(self, login: DraftOperation) -> list[DraftOperation]:
        if self.api is not None:
            found = []
            ops = self.api.find("POST", r"(register|sign-?up|signup)/?$")
            ops += [op for op in self.api.find("POST", r"/(users|accounts)/?$") if not op.secured]
            for op in dict.fromkeys(ops):
                user_field = op.field_named(openapi.USERNAME_FIELDS)
                password_field = op.field_named(openapi.PASSWORD_FIELDS)
                if user_field and password_field:
                    if op.is_email(user_field):
                        self.email_signups.add(op.path)
                    fields = {"username": user_field, "password": password_field}
                    tenant_field = op.field_named(openapi.TENANT_FIELDS)
                    if tenant_field:
                        fields["tenant"] = tenant_field
                    self._password_limits(op.properties.get(password_field, {}))
                    found.append(DraftOperation("POST", op.path, op.body or "json", fields,
                                                note="from the OpenAPI document"))
            return found
        found = []
        for tried in self._paths(SIGNUP_PATHS, dir=self._dir()):
            path, probe = self.probe_route("POST", tried, body={})
            if probe is None or probe.status in ABSENT or probe.status in (401, 403, *REDIRECTS):
                continue
            # A Basic login names no fields: sign-up then most likely takes the usual two.
            fields = dict(login.fields) or {"username": "username", "password": "password"}
            found.append(DraftOperation("POST", path, login.body, fields, note="probed"))
        return found

    def _password_limits(self, schema: dict[str, Any]) -> None:
        for key, name in (("minLength", "min_length"), ("maxLength", "max_length")):
            if isinstance(schema.get(key), int):
                self.draft.passwords[name] = Value(schema[key], f"the OpenAPI document's {key}")

    def _takes_email(self, signup: DraftOperation) -> bool:
        return signup.fields.get("username") == "email" or signup.path in self.email_signups

    def _account(self, signup: DraftOperation) -> dict[str, str]:
        name = f"authconform-init-{secrets.token_hex(4)}"
        username = f"{name}@{EMAIL_DOMAIN}" if self._takes_email(signup) else name
        password = "Init-" + secrets.token_urlsafe(12) + "9a"
        return {"username": username, "password": password, "tenant": f"authconform-init-{secrets.token_hex(3)}"}

    def _body(self, op: DraftOperation, values: Mapping[str, str]) -> dict[str, Any]:
        body: dict[str, Any] = dict(op.extra)
        for contract_name, target_name in op.fields.items():
            if contract_name in values:
                body[target_name] = values[contract_name]
        return body

    def _log_in(self) -> Creds | None:
        given = bool(self.options.username_env and self.options.password_env)
        if given:
            env = self.options.environ
            missing = [v for v in (self.options.username_env, self.options.password_env) if v not in env]
            if missing:
                raise UsageError(f"environment variable(s) {', '.join(missing)} are not set: export the "
                                 "account's username and password before running init")
            self.credentials = {"username": env[self.options.username_env],
                                "password": env[self.options.password_env], "tenant": self.options.tenant}
            self._use_accounts()  # the account the user named, whether or not init can log in with it
        candidates = self._login_candidates()
        if not candidates:
            self.say("login: no login route found")
            return None
        if given:
            for op in candidates:
                creds = self._try_login(op, self.credentials)
                if creds is not None:
                    self._signup_unused(op)
                    return creds
            self.say("login: the account from the environment was refused by every login shape tried")
            self._unconfirmed_login(candidates[0])
            return None
        if self.options.signup:
            for login in candidates:
                for signup in self._signup_candidates(login):
                    values = self._account(signup)
                    if self.options.tenant:
                        values["tenant"] = self.options.tenant
                    answer = self.try_send("POST", signup.path, body=self._body(signup, values), kind=signup.body)
                    if answer is None or not 200 <= answer.status < 300:
                        continue
                    self.say(f"signup: {signup.method} {signup.path} ({signup.body}) created a throwaway user")
                    # The login naming the user as sign-up does first; then the others (an OAuth2
                    # password form calls the e-mail address "username").
                    ordered = [login] + [c for c in candidates if c is not login]
                    same = [op for op in ordered if op.fields.get("username") == signup.fields.get("username")]
                    for op in same + [op for op in ordered if op not in same]:
                        creds = self._try_login(op, values)
                        if creds is not None:
                            self.credentials = values
                            self.draft.operations["signup"] = signup
                            self.draft.declare("signup", f"observed: {signup.method} {signup.path} created a user")
                            self.draft.users["source"] = Value("signup", "fresh users per check")
                            if self._takes_email(signup):
                                self.draft.users["username_template"] = Value(
                                    "{name}@" + EMAIL_DOMAIN, "sign-up wants an e-mail address")
                            return creds
        self.say("login: no credentials (no usable sign-up; pass --username-env and --password-env)")
        self._unconfirmed_login(candidates[0])
        return None

    def _signup_unused(self, login: DraftOperation) -> None:
        """With a given account, a sign-up route is still worth knowing: written, not tried."""
        if not self.options.signup:
            return
        for signup in self._signup_candidates(login):
            signup.guess, signup.note = True, "found; not tried (init logged in with the given account)"
            self.draft.operations["signup"] = signup
            self.draft.declare("signup", f"{signup.method} {signup.path} answers like a sign-up; not tried",
                               guess=True)
            self.say(f"signup: {signup.method} {signup.path} looks like a sign-up (not tried: an account was given)")
            return

    def _unconfirmed_login(self, op: DraftOperation) -> None:
        self.draft.operations["login"] = op
        op.guess, op.note = True, "not confirmed: init could not log in"

    def _try_login(self, op: DraftOperation, values: Mapping[str, str]) -> Creds | None:
        body: dict[str, Any] | None = self._body(op, values)
        headers: dict[str, str] = {}
        if op.auth == "basic":
            headers["Authorization"] = "Basic " + user_basic_credentials(values.get("username", ""),
                                                                         values.get("password", ""))
            body = None
        elif op.extra.get("grant_type") or self.options.client_id:
            assert body is not None
            self._client_headers("login", headers, body)
        answer = self.try_send(op.method, op.path, body=body, kind=op.body, headers=headers)
        if answer is None or not 200 <= answer.status < 300:
            return None
        creds = self._creds_from(answer, first=True)
        if creds is None:
            return None
        self.login_op = op
        self.draft.operations["login"] = op
        how = "HTTP Basic" if op.auth == "basic" else f"{op.body} body"
        op.note = f"observed: {op.method} {op.path} ({how}) answered {answer.status} with tokens"
        self.say(f"login: {op.method} {op.path} ({how}) answered {answer.status} with tokens")
        self.login_rate = _rate_headers(answer)
        return creds

    def _creds_from(self, answer: Response, *, first: bool = False, previous: Creds | None = None) -> Creds | None:
        data = answer.json()
        creds = Creds(cookies=dict(previous.cookies) if previous else {})
        for cookie in answer.set_cookies():
            if cookie.clears:
                creds.cookies.pop(cookie.name, None)
            else:
                creds.cookies[cookie.name] = cookie.value
        if first:
            access_path, refresh_path = find_token_paths(data)
            jwt_cookies = [name for name, value in creds.cookies.items() if looks_like_jwt(value)]
            if access_path:
                self.delivery, self.access_path, self.refresh_path = "json", access_path, refresh_path
            elif jwt_cookies:
                self.delivery = "cookie"
                refresh_names = [n for n in jwt_cookies if "refresh" in n.lower()
                                 or str(claims_of(creds.cookies[n]).get("type", "")).lower() == "refresh"]
                access_names = [n for n in jwt_cookies if n not in refresh_names]
                if not access_names:
                    return None
                self.access_cookie = access_names[0]
                self.refresh_cookie = refresh_names[0] if refresh_names else ""
                csrf = [n for n in creds.cookies if re.search(r"csrf|xsrf", n, re.I) and n not in jwt_cookies]
                self.csrf_cookie = csrf[0] if csrf else ""
            else:
                return None
            self.session_path = find_session_path(data)
        if self.delivery == "json":
            access = json_path(data, self.access_path)
            if not isinstance(access, str) or not access:
                return None
            creds.access = access
            refresh = json_path(data, self.refresh_path) if self.refresh_path else None
            creds.refresh = refresh if isinstance(refresh, str) else (previous.refresh if previous else "")
        else:
            creds.access = creds.cookies.get(self.access_cookie, "")
            creds.refresh = creds.cookies.get(self.refresh_cookie, "") if self.refresh_cookie else ""
            if not creds.access or (previous is not None and creds.access == previous.access):
                return None
        session = json_path(data, self.session_path) if self.session_path else None
        creds.session_id = str(session) if isinstance(session, (str, int)) else ""
        if not creds.session_id:
            sid = claims_of(creds.access).get("sid")
            creds.session_id = str(sid) if isinstance(sid, (str, int)) else ""
        return creds

    def _fresh_login(self) -> Creds | None:
        if self.login_op is None:
            return None
        return self._try_login(self.login_op, self.credentials)

    def _use_accounts(self) -> None:
        options = self.options
        self.draft.users["source"] = Value("accounts", "no sign-up used: the suite logs in as this account")
        account = {"role": Value("viewer", "the account's role in the contract's terms", guess=True),
                   "username": Value("${" + options.username_env + "}"),
                   "password": Value("${" + options.password_env + "}")}
        if options.tenant:
            account["tenant"] = Value(options.tenant)
        self.draft.accounts.append(account)
        self.draft.environment += [options.username_env, options.password_env]
        self.draft.notes.append("Add more [[users.accounts]] (one per role and tenant): checks that need two users "
                                "take them in turn.")

    def _without_login(self) -> None:
        self.draft.notes.append("init could not log in, so tokens, me and the other routes are guesses.")
        if not self.draft.accounts:  # no --username-env / --password-env: name variables to fill
            self.draft.users["source"] = Value("accounts", "no sign-up found: give an account", guess=True)
            self.draft.accounts.append({"role": Value("viewer", guess=True, note="the account's role"),
                                        "username": Value("${AUTHCONFORM_USERNAME}"),
                                        "password": Value("${AUTHCONFORM_PASSWORD}")})
            self.draft.environment += ["AUTHCONFORM_USERNAME", "AUTHCONFORM_PASSWORD"]
        self.draft.operations.setdefault("me", DraftOperation("GET", "/me", guess=True, note="not confirmed"))
        self.draft.tokens["access_field"] = Value("access_token", "not observed", guess=True)

    # ------------------------------------------------------------------ tokens
    def _learn_tokens(self, creds: Creds) -> None:
        tokens = self.draft.tokens
        if self.delivery == "cookie":
            tokens["delivery"] = Value("cookie", "observed: login set the token in a cookie")
            tokens["access_cookie"] = Value(self.access_cookie, "observed")
            if self.refresh_cookie:
                tokens["refresh_cookie"] = Value(self.refresh_cookie, "observed")
            if self.csrf_cookie:
                tokens["csrf_cookie"] = Value(self.csrf_cookie, "observed")
            self.draft.declare("cookies", "observed: the tokens come back in cookies")
        else:
            tokens["delivery"] = Value("json", "observed: the tokens come back in the JSON body")
            tokens["access_field"] = Value(self.access_path, "observed")
            tokens["refresh_field"] = Value(self.refresh_path, "observed" if self.refresh_path else
                                            "no refresh token in the login answer")
        tokens["session_field"] = Value(self.session_path, "observed" if self.session_path else
                                        "no session id in the login answer (a sid claim is read instead)")
        claims, header = claims_of(creds.access), {}
        if looks_like_jwt(creds.access):
            header = json.loads(b64url_decode(creds.access.split(".")[0]))
        if header.get("alg"):
            tokens["algorithm"] = Value(str(header["alg"]), "observed in the access token's header")
        tokens["issuer"] = Value(str(claims.get("iss", "")), "observed (iss claim)" if "iss" in claims else
                                 "observed: the access token has no iss claim")
        audience = claims.get("aud", "")
        tokens["audience"] = Value(audience[0] if isinstance(audience, list) and audience else str(audience),
                                   "observed (aud claim)" if "aud" in claims else
                                   "observed: the access token has no aud claim")
        lifetime, measured = _lifetime(claims)
        if lifetime:
            tokens["access_ttl"] = Value(lifetime, f"observed on an access token: {measured}")
        refresh_lifetime, measured = _lifetime(claims_of(creds.refresh)) if creds.refresh else (0, "")
        if refresh_lifetime:
            tokens["refresh_ttl"] = Value(refresh_lifetime, f"observed on a refresh token: {measured}")
        tokens["leeway"] = Value(0, "the clock leeway the service allows (0-30 s)", guess=True)
        self._account_role(claims)

    def _account_role(self, claims: dict[str, Any]) -> None:
        """The given account's role as its token states it (init cannot know it otherwise)."""
        role = claims.get("role")
        if not self.draft.accounts or not isinstance(role, str) or not role:
            return
        if role in self.default.roles:
            self.draft.accounts[0]["role"] = Value(role, "observed: the role claim of the account's token")
        else:
            self.draft.accounts[0]["role"] = Value(role, "observed in the token, but not one of the contract's "
                                                   "roles: declare [roles] and [permissions]", guess=True)

    def _write_tokens_section(self) -> None:
        if self.delivery == "json":
            self.draft.tokens["header"] = Value(self.header, "observed: the header the me route took")
            self.draft.tokens["scheme"] = Value(self.scheme, "observed")
        elif self.csrf_header:
            self.draft.tokens["csrf_header"] = Value(self.csrf_header, "observed: a refused write named it")

    def _write_client(self) -> None:
        if not self.options.client_id:
            return
        self.draft.client["id"] = Value(self.options.client_id)
        if self.options.client_secret_env:
            self.draft.client["secret"] = Value("${" + self.options.client_secret_env + "}")
            self.draft.environment.append(self.options.client_secret_env)
        self.draft.client["method"] = Value(self.options.client_method)
        self.draft.client["operations"] = Value(self.client_ops, "observed: the operations init sent them with")

    # ------------------------------------------------------------------ me, public routes
    def _me_candidates(self) -> list[str]:
        paths = []
        if self.api is not None:
            paths = [op.path for op in self.api.find("GET", r"(^|/)(me|whoami|account|profile|user)$") if op.secured]
            paths += [op.path for op in self.api.find("GET", r"(^|/)(me|whoami|account|profile|user)$")]
        return list(dict.fromkeys(paths + self._paths(ME_PATHS, dir=self._dir())))

    def _presentations(self, hints: list[str]) -> list[tuple[str, str]]:
        out = [(header, scheme) for header in hints for scheme in ("", "Bearer")]
        if self.api is not None and self.api.bearer_header() is not None:
            out.insert(0, self.api.bearer_header())  # type: ignore[arg-type]
        return list(dict.fromkeys(out + list(PRESENTATIONS)))

    def _find_me(self, creds: Creds) -> None:
        for tried in self._me_candidates():
            path, anonymous = self.probe_route("GET", tried)
            if anonymous is None or anonymous.status not in (401, 403):
                continue
            if self.delivery == "cookie":
                answer = self.authed("GET", path, creds)
                if answer is not None and 200 <= answer.status < 300:
                    self._found_me(path, answer)
                    return
                continue
            hints = re.findall(r"Missing ([A-Za-z0-9-]+) Header", anonymous.text, re.I)
            for header, scheme in self._presentations(hints):
                answer = self.try_send("GET", path, headers={header: f"{scheme} {creds.access}".strip()})
                if answer is not None and 200 <= answer.status < 300:
                    self.header, self.scheme = header, scheme
                    self._found_me(path, answer)
                    return
        self.say("me: no protected route accepted the token; [operations.me] is a guess")
        self.draft.operations["me"] = DraftOperation("GET", "/me", guess=True, note="no route accepted the token")

    def _found_me(self, path: str, answer: Response) -> None:
        self.draft.operations["me"] = DraftOperation("GET", path, note="observed: refuses no token, accepts the token")
        how = "cookies" if self.delivery == "cookie" else f"{self.header}: {self.scheme} <token>".replace(":  ", ": ")
        self.say(f"me: GET {path} accepts the token ({how})")
        self.api_rate = _rate_headers(answer)
        self.draft.target["ready_path"] = Value(path, "any HTTP answer means the target is up")

    def _find_public_routes(self) -> None:
        for path in JWKS_PATHS:
            answer = self.try_send("GET", path)
            data = answer.json() if answer is not None and answer.status == 200 else None
            if isinstance(data, dict) and isinstance(data.get("keys"), list):
                self.draft.operations["jwks"] = DraftOperation("GET", path, note="observed: a JWKS document")
                self.draft.declare("jwks", f"observed: GET {path} publishes the keys")
                break
        else:
            self.draft.leave_out("jwks", "no JWKS document at the usual paths")
        for path in HEALTH_PATHS:
            answer = self.try_send("GET", path)
            if answer is not None and answer.status == 200:
                self.draft.operations["health"] = DraftOperation("GET", path, note="observed")
                self.draft.target["ready_path"] = Value(path, "observed: answers 200 without a token")
                break

    # ------------------------------------------------------------------ sessions
    def _find_sessions(self, creds: Creds) -> None:
        paths = []
        if self.api is not None:
            paths = [op.path for op in self.api.find("GET", r"/sessions$")]
        me = self.draft.operations.get("me")
        paths += self._paths(SESSIONS_PATHS, me=me.path if me and not me.guess else "", dir=self._dir())
        for path in dict.fromkeys(paths):
            answer = self.authed("GET", path, creds)
            if answer is None or not 200 <= answer.status < 300:
                continue
            if creds.session_id and creds.session_id not in answer.text:
                continue
            self.draft.operations["sessions_list"] = DraftOperation("GET", path, note="observed: lists the session")
            self.say(f"sessions: GET {path} lists the caller's sessions")
            self.sessions_path = path
            return
        self.sessions_path = ""
        self.draft.leave_out("sessions", "no sessions list found")

    def _find_session_delete(self, creds: Creds) -> None:
        if not self.sessions_path:
            return
        path = self.sessions_path + "/{id}"
        if self.api is not None:
            found = [op.path for op in self.api.find("DELETE", r"/sessions/\{[^}]*\}$")]
            path = re.sub(r"\{[^}]*\}", "{id}", found[0]) if found else path
        other = self._fresh_login()
        if other is None or not other.session_id:
            self.draft.operations["session_delete"] = DraftOperation("DELETE", path, guess=True,
                                                                     note="not confirmed")
            self.draft.declare("sessions", "observed: the sessions list; ending one is a guess", guess=True)
            return
        answer = self.authed("DELETE", path.replace("{id}", other.session_id), creds)
        if answer is not None and 200 <= answer.status < 300:
            self.draft.operations["session_delete"] = DraftOperation("DELETE", path, note="observed: ended a session")
            self.draft.declare("sessions", "observed: sessions are listed and ended")
            self.say(f"sessions: DELETE {path} ends one")
        else:
            self.draft.leave_out("sessions", f"the sessions list exists but DELETE {path} did not end a session")

    # ------------------------------------------------------------------ refresh
    def _refresh_candidates(self) -> list[DraftOperation]:
        found: list[DraftOperation] = []
        login = self.login_op.path if self.login_op else ""
        if self.api is not None:
            _token_url, refresh_url = self.api.oauth2_password_urls()
            ops = [op for op in self.api.operations if op.method == "POST" and op.path == refresh_url]
            ops += self.api.find("POST", r"refresh|renew")
            if login and TOKEN_RESOURCE.search(login):  # PUT or PATCH on the tokens resource renews
                ops += [op for op in self.api.operations if op.method in ("PUT", "PATCH") and op.path == login]
            if login and "grant_type" in (self.api.at("POST", login) or openapi.ApiOperation("", "")).properties:
                ops.append(self.api.at("POST", login))  # type: ignore[arg-type]
            for op in dict.fromkeys(ops):
                token_field = op.field_named(openapi.REFRESH_FIELDS)
                extra = {"grant_type": "refresh_token"} if "grant_type" in op.properties else {}
                if token_field:
                    found.append(DraftOperation(op.method, op.path, op.body or "json", {"refresh_token": token_field},
                                                extra, refresh_in="body"))
                else:
                    found += self._refresh_shapes(op.path, op.method)
            if found:
                return found
        for tried in self._paths(REFRESH_PATHS, dir=self._dir(), login=login):
            path, probe = self.probe_route("POST", tried, body={})
            if probe is None or probe.status in ABSENT or probe.status in REDIRECTS:
                continue
            found += self._refresh_shapes(path)
        if login and TOKEN_RESOURCE.search(login):
            found += self._refresh_shapes(login, "PUT")
        return found

    def _refresh_shapes(self, path: str, method: str = "POST") -> list[DraftOperation]:
        if self.delivery == "cookie":
            return [DraftOperation(method, path, refresh_in="cookie")]
        shapes = [DraftOperation(method, path, refresh_in="header")]
        shapes += [DraftOperation(method, path, "json", {"refresh_token": name}, refresh_in="body")
                   for name in openapi.REFRESH_FIELDS]
        shapes.append(DraftOperation(method, path, "form", {"refresh_token": "refresh_token"},
                                     {"grant_type": "refresh_token"}, refresh_in="body"))
        # Both tokens in the body, the access token as proof of the pair (it may have expired).
        shapes.append(DraftOperation(method, path, auth="none", send=["refresh_token", "access_token"]))
        return shapes

    def _present(self, op: DraftOperation, refresh: str, creds: Creds) -> tuple[dict[str, Any], dict[str, str],
                                                                              dict[str, str]]:
        body: dict[str, Any] = dict(op.extra)
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        if op.refresh_in == "header":
            headers[self.header] = f"{self.scheme} {refresh}".strip()
        elif op.refresh_in == "cookie":
            cookies[self.refresh_cookie] = refresh
        elif op.refresh_in == "body":
            body[op.fields.get("refresh_token", "refresh_token")] = refresh
        tokens = {"refresh_token": refresh, "access_token": creds.access, "session_id": creds.session_id}
        for name in op.send:
            body[op.fields.get(name, name)] = tokens[name]
        if op.session_header and creds.session_id:
            headers[op.session_header] = creds.session_id
        return body, headers, cookies

    def _find_refresh(self, creds: Creds) -> Creds:
        if not creds.refresh:
            self.draft.leave_out("refresh", "the login answer carried no refresh token")
            return creds
        for op in self._refresh_candidates():
            body, headers, cookies = self._present(op, creds.refresh, creds)
            if "login" in self.client_ops:  # a confidential client authenticates at every token route
                self._client_headers("refresh", headers, body)
            answer = self.try_send(op.method, op.path, body=body or None, kind=op.body, headers=headers,
                                   cookies=cookies)
            if answer is None or not 200 <= answer.status < 300:
                continue
            fresh = self._creds_from(answer, previous=creds) or self._renewed(answer, op, creds)
            if fresh is None:
                continue
            op.note = f"observed: answered {answer.status} with a new access token"
            self.draft.operations["refresh"] = op
            self.draft.declare("refresh", f"observed: {op.method} {op.path} gave new tokens")
            rotated = "rotates the refresh token" if fresh.refresh and fresh.refresh != creds.refresh else \
                "keeps the refresh token"
            where = f"the {op.refresh_in}" if op.refresh_in else "the body, with the access token"
            self.say(f"refresh: {op.method} {op.path} (refresh token in {where}) works and {rotated}")
            return fresh
        self.draft.leave_out("refresh", "a refresh token came back but no refresh route accepted it")
        return creds

    def _renewed(self, answer: Response, op: DraftOperation, creds: Creds) -> Creds | None:
        """A refresh answer that holds the access token elsewhere than login's (``{"token": ...}``)."""
        if self.delivery != "json":
            return None
        data = answer.json()
        path, _refresh = find_token_paths(data)
        token = json_path(data, path) if path else None
        if not isinstance(token, str) or not token or token == creds.access:
            return None
        op.access_token_path = path
        return Creds(access=token, refresh=creds.refresh, cookies=dict(creds.cookies), session_id=creds.session_id)

    # ------------------------------------------------------------------ logout, logout-all
    def _logout_candidates(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        login = self.login_op.path if self.login_op else ""
        resource = login.rstrip("/") if login and TOKEN_RESOURCE.search(login) else ""
        if self.api is not None:
            for method in ("POST", "DELETE"):
                found += [(method, op.path) for op in self.api.find(method, r"(log-?out|sign-?out|revoke|blacklist)/?$",
                                                                    exclude=r"all")]
            if resource:  # DELETE /tokens, or DELETE /sessions/current: ending the caller's own
                found += [("DELETE", op.path) for op in self.api.operations if op.method == "DELETE"
                          and (op.path.rstrip("/") == resource or re.fullmatch(re.escape(resource) + r"/[a-z_-]+/?",
                                                                               op.path))]
            if found:
                return found
        if resource:
            found.append(("DELETE", login))
        for tried in self._paths(LOGOUT_PATHS, dir=self._dir(), login=login):
            path, probe = self.probe_route("POST", tried, body={})
            if probe is None or probe.status in (404, 501, *REDIRECTS):
                continue
            allowed = probe.headers.get("Allow", "") if probe.status == 405 else "POST"
            for method in ("POST", "DELETE"):
                if method in allowed.upper():
                    found.append((method, path))
        return found

    def _logout_shapes(self, method: str, path: str) -> list[DraftOperation]:
        shapes = [DraftOperation(method, path)]
        documented = self.api.at(method, _shape(path)) if self.api is not None else None
        headers = [name for name in (documented.required_headers if documented else [])
                   if re.search(r"session", name, re.I)]
        if headers:  # first: a request without the header may already spend a single-use token
            shapes.insert(0, DraftOperation(method, path, session_header=headers[0]))
        if self.delivery == "json":
            refresh = self.draft.operations.get("refresh")
            # The refresh token under the name the refresh route takes it by, then the usual one.
            names = [refresh.fields["refresh_token"]] if refresh and "refresh_token" in refresh.fields else []
            for name in dict.fromkeys([*names, "refresh_token"]):
                shapes.append(DraftOperation(method, path, "json", {"refresh_token": name}, refresh_in="body"))
            shapes.append(DraftOperation(method, path, "form", {"refresh_token": "token"},
                                         {"token_type_hint": "refresh_token"}, auth="none", refresh_in="body"))
        return shapes

    def _find_logout(self, creds: Creds) -> None:
        for method, path in self._logout_candidates():
            for op in self._logout_shapes(method, path):
                body, headers, cookies = self._present(op, creds.refresh, creds) if op.refresh_in or \
                    op.session_header else ({}, {}, {})
                if op.auth == "none" and self.options.client_id:
                    self._client_headers("logout", headers, body)
                if op.auth == "none":
                    answer = self.try_send(method, path, body=body or None, kind=op.body, headers=headers)
                else:
                    answer = self.authed(method, path, creds, body=body or None, kind=op.body, headers=headers,
                                         cookies=cookies)
                if answer is None or not 200 <= answer.status < 300:
                    continue
                if op.auth == "none" and "logout" not in self.client_ops and self.options.client_id:
                    self.client_ops.append("logout")
                me = self.draft.operations.get("me")
                ended = me is not None and not me.guess and self._refused(me.path, creds)
                op.note = "observed: " + ("ended the session" if ended else "answered 2xx (the token still works)")
                self.draft.operations["logout"] = op
                self.draft.declare("logout", f"observed: {method} {path} logs out", guess=not ended)
                self.say(f"logout: {method} {path} works" + ("" if ended else " (the token still worked after it)"))
                return
        self.draft.leave_out("logout", "no logout route found")

    def _refused(self, path: str, creds: Creds) -> bool:
        answer = self.authed("GET", path, creds)
        return answer is not None and answer.status in (401, 403)

    def _find_logout_all(self) -> None:
        paths: list[tuple[str, str]] = []
        if self.api is not None:
            paths = [(op.method, op.path) for method in ("POST", "DELETE")
                     for op in self.api.find(method, r"log-?out[-_/]?(all|everywhere)$")]
        else:
            paths = [("POST", path) for path in self._paths(LOGOUT_ALL_PATHS, dir=self._dir())]
        if not paths:
            self.draft.leave_out("logout_all", "no logout-everywhere route found")
            return
        creds = self._fresh_login()
        if creds is None:
            self.draft.leave_out("logout_all", "could not log in again to try logout-everywhere")
            return
        for method, path in paths:
            answer = self.authed(method, path, creds)
            if answer is not None and 200 <= answer.status < 300:
                self.draft.operations["logout_all"] = DraftOperation(method, path, note="observed: answered 2xx")
                self.draft.declare("logout_all", f"observed: {method} {path} logs out everywhere")
                self.say(f"logout-all: {method} {path} works")
                return
        self.draft.leave_out("logout_all", "no logout-everywhere route found")

    # ------------------------------------------------------------------ what only the OpenAPI document shows
    def _from_openapi_only(self) -> None:
        """Routes init does not try (they change or delete the account) but the document names."""
        me = self.draft.operations.get("me")
        if self.api is None:
            for capability, why in (("password_change", "not tried (it would change the password)"),
                                    ("delete_account", "not tried (it would delete the account)"),
                                    ("user_admin", "no OpenAPI document to find user administration in")):
                self.draft.leave_out(capability, why + "; describe the operation and switch it on")
            return
        change = self._password_change(me.path if me else "")
        if change is not None:
            self.draft.operations["me_update"] = change
            self.draft.declare("password_change", f"from the OpenAPI document ({change.method} {change.path}); "
                               "not tried", guess=True)
        else:
            self.draft.leave_out("password_change", "the OpenAPI document shows no password change")
        if me is not None and self.api.at("DELETE", me.path) is not None:
            self.draft.operations["me_delete"] = DraftOperation("DELETE", me.path, guess=True,
                                                                note="from the OpenAPI document; not tried")
            self.draft.declare("delete_account", "from the OpenAPI document; not tried", guess=True)
        else:
            self.draft.leave_out("delete_account", "the OpenAPI document shows no account deletion")
        for capability in ("user_admin", "documents", "audit"):
            names = [n for n, c in OPERATION_CAPABILITY.items() if c == capability]
            matched = {n: self.api.at(self.default.operations[n].method, _shape(self.default.operations[n].path))
                       for n in names}
            if all(matched.values()):
                for name, op in matched.items():
                    assert op is not None
                    bundled = self.default.operations[name]
                    self.draft.operations[name] = DraftOperation(
                        op.method, re.sub(r"\{[^}]*\}", "{id}", op.path), bundled.body, dict(bundled.fields),
                        guess=True, note="matches the bundled reference's route; not tried")
                self.draft.declare(capability, "routes match the bundled reference's; not tried", guess=True)
            else:
                self.draft.leave_out(capability, "the OpenAPI document shows no such routes")

    def _password_change(self, me_path: str) -> DraftOperation | None:
        assert self.api is not None
        candidates = [op for op in self.api.operations if op.method in ("PATCH", "PUT", "POST")
                      and (op.path == me_path or re.search(r"password$", op.path))]
        for op in candidates:
            current = op.field_named(openapi.CURRENT_PASSWORD_FIELDS)
            new = op.field_named(openapi.NEW_PASSWORD_FIELDS)
            if current and new and current != new:
                return DraftOperation(op.method, op.path, op.body or "json",
                                      {"current_password": current, "new_password": new},
                                      guess=True, note="from the OpenAPI document; not tried")
        return None

    def _roles_and_tenants(self, creds: Creds) -> None:
        claims = claims_of(creds.access)
        login = self.draft.operations.get("login")
        if (login and "tenant" in login.fields) or "tid" in claims or "tenant" in claims:
            self.draft.declare("tenants", "observed: login takes a tenant / the token names one")
        else:
            self.draft.leave_out("tenants", "login takes no tenant and the token names none")
        role = claims.get("role")
        if isinstance(role, str) and role in self.default.roles and "user_admin" in self.draft.capabilities:
            self.draft.declare("roles", f"the token's role claim ({role}) is one of the contract's roles; review "
                               "[roles] and [permissions]", guess=True)
        else:
            self.draft.leave_out("roles", "no role claim from the contract's roles, or no user administration")
        for capability, why in (("session_limit", "not observable; declare it with [sessions] max_sessions"),
                                ("idle_timeout", "not observable; declare it with [sessions] idle_timeout"),
                                ("absolute_timeout", "not observable; declare it with [sessions] absolute_timeout")):
            self.draft.leave_out(capability, why)
        sessions = self.default.sessions
        self.draft.sessions = {
            "max_sessions": Value(sessions.max_sessions, "not observable", guess=True),
            "idle_timeout": Value(sessions.idle_timeout, "not observable", guess=True),
            "absolute_timeout": Value(sessions.absolute_timeout, "not observable", guess=True),
        }

    def _rate_limits(self) -> None:
        limits = self.default.rate_limits
        rates = self.draft.rate_limits
        if self.login_rate is not None:
            limit, reset = self.login_rate
            rates["login_account_limit"] = Value(limit, "observed: RateLimit-Limit on a login answer (the tighter "
                                                        "of the per-account and per-address limits)")
            rates["login_ip_limit"] = Value(limits.login_ip_limit, "not observable: the per-address login limit",
                                            guess=True)
            rates["login_window"] = Value(reset, "observed: RateLimit-Reset on a first login")
            self.draft.declare("rate_limit_login", "observed: login answers carry RateLimit headers")
        else:
            rates["login_account_limit"] = Value(limits.login_account_limit, "not observable", guess=True)
            rates["login_ip_limit"] = Value(limits.login_ip_limit, "not observable", guess=True)
            rates["login_window"] = Value(limits.login_window, "not observable", guess=True)
            self.draft.leave_out("rate_limit_login", "no RateLimit headers on login; if logins are limited, switch "
                                 "this on with the real [rate_limits] numbers")
        if self.api_rate is not None:
            limit, reset = self.api_rate
            rates["api_limit"] = Value(limit, "observed: RateLimit-Limit on a me answer")
            rates["api_window"] = Value(reset, "observed: RateLimit-Reset on a user's first request")
            self.draft.declare("rate_limit_api", "observed: API answers carry RateLimit headers")
        else:
            rates["api_limit"] = Value(limits.api_limit, "not observable", guess=True)
            rates["api_window"] = Value(limits.api_window, "not observable", guess=True)
            self.draft.leave_out("rate_limit_api", "no RateLimit headers on API answers")
        rates["trusted_proxies"] = Value(0, "proxies whose X-Forwarded-For the service trusts", guess=True)


def _rate_headers(answer: Response) -> tuple[int, int] | None:
    limit, reset = answer.headers.get("RateLimit-Limit", ""), answer.headers.get("RateLimit-Reset", "")
    if limit.strip().isdigit() and reset.strip().isdigit() and int(limit) > 0 and int(reset) > 0:
        return int(limit), int(reset)
    return None


def _lifetime(claims: dict[str, Any]) -> tuple[int, str]:
    """A token's lifetime in seconds, and how it was measured (0 when it cannot be)."""
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)):
        return 0, ""
    for start in ("iat", "nbf"):
        value = claims.get(start)
        if isinstance(value, (int, float)) and exp > value:
            return int(exp - value), f"exp - {start}"
    left = exp - time.time()  # no iat: measured from now, just after the login that issued it
    if left <= 0:
        return 0, ""
    minutes = round(left / 60) * 60  # exp was rounded down when the token was issued, a moment ago
    if minutes and abs(minutes - left) <= LIFETIME_SLACK:
        return minutes, "exp minus the time of login, to the minute (it has no iat)"
    return round(left), "exp minus the time of login (it has no iat)"


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{id}", path)


