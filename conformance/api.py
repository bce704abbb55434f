"""The contract's operations (login, refresh, logout, ...) spoken in the target's own dialect.

The profile says, per operation, the method, path, body format and field names, and how tokens
come back (JSON fields or cookies) and go (a header with a scheme, or cookies plus a CSRF header,
HTTP Basic with the user's own credentials, tokens in the body, a session id in a header). A path's
{placeholders} are filled from the user or the object the call is about. Checks speak in contract
terms; this module translates, and refuses to call an operation the profile does not declare.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from conformance.minting import split
from conformance.profile import MARKER, Resource
from conformance.targets.base import Response
from conformance.verdict import ControlFailed, NotApplicable

if TYPE_CHECKING:
    from conformance.context import CheckContext

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Operations that create an object the suite later names in paths: the Api remembers what it sent.
CREATING = {"signup": "user", "user_create": "user", "document_create": "document"}
# Contract fields of the user that go in an HTTP Basic header instead of the body (auth = "basic").
BASIC_FIELDS = ("username", "password")


@dataclass
class Principal:
    """A user the suite created or was given; the password is registered with the redactor."""

    username: str
    password: str
    tenant: str
    role: str
    user_id: str = ""
    email: str = ""

    def placeholder(self, name: str) -> str:
        """The value of ``{name}`` in a route about this user ("" when unknown)."""
        values = {"username": self.username, "id": self.user_id, "user_id": self.user_id, "tenant": self.tenant,
                  "email": self.email or (self.username if "@" in self.username else ""), "role": self.role}
        return values.get(name, "")


@dataclass
class Tokens:
    """What a login or refresh gave back."""

    access: str = ""
    refresh: str = ""
    session_id: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    response: Response | None = None
    refresh_kept: bool = False  # the answer carried no refresh token; the previous one is kept
    user: Principal | None = None  # who logged in: fills {username} etc. in the routes these tokens call

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


def user_basic_credentials(username: str, password: str) -> str:
    """A user's own HTTP Basic credentials (RFC 7617: user-id ":" password, UTF-8)."""
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a JWT without verifying it ({} when it is not one)."""
    try:
        return split(token)[1]
    except (ValueError, TypeError):
        return {}


class Api:
    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.profile = ctx.profile
        self.known: dict[str, dict[str, str]] = {}  # object id -> what the suite sent and was answered
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
        user: Principal | None = None,
        carry: Tokens | None = None,
    ) -> Response:
        """Call ``operation`` as the profile describes it. ``auth`` authenticates the call (when the
        operation takes the access token); ``carry`` are tokens the operation sends otherwise (in its
        body, a session header); ``user`` and ``ids`` fill the path's {placeholders}."""
        if not self.profile.offers(operation):
            raise NotApplicable(f"operation {operation} is not declared in the profile")
        op = self.profile.operation(operation)
        carried = carry if carry is not None else auth if isinstance(auth, Tokens) else None
        path = self._fill(operation, op.path, ids or {}, user or (carried.user if carried else None))
        request_headers = dict(headers or {})
        request_cookies = dict(cookies or {})
        body = dict(body) if body is not None else None
        login_name = str((body or {}).get("username", ""))  # whose login budget a login spends
        if auth is not None and op.auth == "access":
            self._authenticate(op.method, auth, request_headers, request_cookies, csrf)
        if op.auth == "basic" and body is not None:
            body = self._basic(body, request_headers)
        if isinstance(auth, Tokens) and op.refresh_in and auth.refresh:
            body = self._present_refresh(op.refresh_in, auth.refresh, request_headers, request_cookies, body)
        if carried is not None:
            body = self._carry(op.send, op.session_header, carried, request_headers, body)
        client = self.profile.client
        if client.id and operation in client.operations:
            if client.method == "basic":
                request_headers["Authorization"] = "Basic " + basic_credentials(client.id, client.secret)
            else:
                body = {**(body or {}), "client_id": client.id,
                        **({"client_secret": client.secret} if client.secret else {})}
        payload: dict[str, Any] | None = None
        if body or op.extra or (body is not None and op.auth != "basic"):
            payload = dict(op.extra)
            for name, value in (body or {}).items():
                payload[op.fields.get(name, name)] = value
        kwargs: dict[str, Any] = {}
        if payload is not None:
            if op.body == "form":
                kwargs["form"] = {k: str(v) for k, v in payload.items()}
            else:
                kwargs["json_body"] = payload
        self.ctx.pace(operation, auth if auth is not None else carried, login_name)
        response = self.ctx.send(op.method, path, headers=request_headers, params=params,
                                 cookies=request_cookies, worker=worker, note=note or operation, **kwargs)
        if operation in CREATING and 200 <= response.status < 300:
            self._remember(operation, response, body or {})
        return response

    # -------------------------------------------------------------- resources of the target's own API
    def resource(
        self,
        resource: Resource,
        verb: str,
        *,
        auth: Tokens | str | None,
        object_id: str = "",
        marker: str = "",
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        note: str = "",
    ) -> Response:
        """Call one operation of a declared resource (``verb``: create, read, update, delete, list).
        ``object_id`` fills {id}; ``marker`` replaces "{marker}" in the body template (a fresh text
        when empty); ``body`` adds fields over the template."""
        op = resource.operation(verb)
        if not op.offered:
            raise NotApplicable(f"resource {resource.name} has no {verb} operation")
        user = auth.user if isinstance(auth, Tokens) else None
        path = op.path
        for name in op.placeholders():
            value = object_id if name == "id" else (user.placeholder(name) if user is not None else "")
            if not value:
                raise ControlFailed(f"resource {resource.name} {verb} ({op.path}) needs {{{name}}}, which the "
                                    "suite does not know for this call")
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        request_headers = dict(headers or {})
        request_cookies: dict[str, str] = {}
        if auth is not None:
            self._authenticate(op.method, auth, request_headers, request_cookies, True)
        payload = self.resource_body(resource, verb, marker)
        payload.update(body or {})
        kwargs: dict[str, Any] = {}
        if payload or op.method in ("POST", "PUT", "PATCH"):
            if op.form == "form":
                kwargs["form"] = {k: str(v) for k, v in payload.items()}
            else:
                kwargs["json_body"] = payload
        return self.ctx.send(op.method, path, headers=request_headers, params=params, cookies=request_cookies,
                             note=note or f"{resource.name} {verb}", **kwargs)

    def resource_body(self, resource: Resource, verb: str, marker: str = "") -> dict[str, Any]:
        """The operation's body template with "{marker}" replaced (by a fresh text when ``marker`` is empty)."""
        marker = marker or "authconform-" + secrets.token_hex(8)
        return {name: value.replace(MARKER, marker) if isinstance(value, str) else value
                for name, value in resource.operation(verb).body.items()}

    def created_id(self, resource: Resource, response: Response, sent: dict[str, Any]) -> str:
        """The id of the object a create answered: the sent id_sent field, else the answer at
        id_path, else (an older profile's id_field) the value sent under that name."""
        create = resource.create
        if create.id_sent:
            value = sent.get(create.id_sent)
            return str(value) if value is not None else ""
        value = json_path(response.json(), create.id_path)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
        value = sent.get(create.id_path)
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""

    def resource_rows(self, resource: Resource, response: Response) -> list[Any]:
        """The rows of a list answer: at the list's rows path, else the answer or its first list."""
        data = response.json()
        if resource.list.rows:
            data = json_path(data, resource.list.rows)
        if isinstance(data, dict):
            data = next((value for value in data.values() if isinstance(value, list)), [])
        return data if isinstance(data, list) else []

    def resource_row_ids(self, resource: Resource, response: Response) -> set[str]:
        ids = set()
        for row in self.resource_rows(resource, response):
            value = row.get(resource.id_field) if isinstance(row, dict) else None
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                ids.add(str(value))
        return ids

    # -------------------------------------------------------------- what the suite knows of objects
    def object_id(self, operation: str, response: Response, sent: dict[str, Any] | None = None) -> str:
        """The id of the object an answer is about: the operation's id_field in the answer (or one
        level down, ``{"user": {...}}`` first), else the value the client sent under that field."""
        field_name = self.profile.operations[operation].id_field if operation in self.profile.operations else "id"
        data = response.json()
        if isinstance(data, dict):
            kind = data.get(CREATING.get(operation, ""))  # {"user": {...}} before the top, as signup answers
            nested = [v for v in data.values() if isinstance(v, dict) and v is not kind]
            for candidate in (*([kind] if isinstance(kind, dict) else []), data, *nested):
                value = candidate.get(field_name)
                if isinstance(value, (str, int)) and not isinstance(value, bool):
                    return str(value)
        if sent is not None and sent.get(field_name) is not None:
            return str(sent[field_name])
        return ""

    def row_id(self, operation: str, row: Any) -> str:
        """The id of one row of a listing answered by ``operation`` (its id_field)."""
        field_name = self.profile.operations[operation].id_field if operation in self.profile.operations else "id"
        value = row.get(field_name) if isinstance(row, dict) else None
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""

    def _remember(self, operation: str, response: Response, sent: dict[str, Any]) -> None:
        object_id = self.object_id(operation, response, sent)
        if not object_id:
            return
        data = response.json()
        answer = data.get(CREATING[operation], data) if isinstance(data, dict) else {}
        known = {k: str(v) for k, v in (answer if isinstance(answer, dict) else {}).items()
                 if isinstance(v, (str, int)) and not isinstance(v, bool)}
        known.update({k: str(v) for k, v in sent.items() if k != "password" and isinstance(v, (str, int))})
        if "email" not in known and "@" in known.get("username", ""):
            known["email"] = known["username"]  # a user named by an e-mail address
        known["id"] = object_id
        self.known[object_id] = known

    def _fill(self, operation: str, path: str, ids: dict[str, str], user: Principal | None) -> str:
        """Fill each {placeholder}: from ``ids``, else from what the suite knows of the object ids["id"]
        names (a user or an object it created), else from ``user``. An unknown one is an error: a
        literal {name} must never go out."""
        known = self.known.get(str(ids.get("id", "")), {})
        for name in self.profile.operation(operation).placeholders():
            if name in ids:  # what the check names, as it names it
                value = str(ids[name])
            else:
                value = known.get(name) or (user.placeholder(name) if user is not None else "")
            if not value and name not in ids:
                raise ControlFailed(f"operation {operation} ({path}) needs {{{name}}}, which the suite does not "
                                    "know for this call")
            path = path.replace("{" + name + "}", str(value))
        return path

    def _basic(self, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """auth = "basic": the user's username and password leave the body for an HTTP Basic header."""
        username, password = (str(body.get(name, "")) for name in BASIC_FIELDS)
        credentials = user_basic_credentials(username, password)
        self.ctx.redactor.add(credentials)
        headers["Authorization"] = f"Basic {credentials}"
        return {k: v for k, v in body.items() if k not in BASIC_FIELDS}

    def _carry(self, send: Sequence[str], session_header: str, tokens: Tokens, headers: dict[str, str],
               body: dict[str, Any] | None) -> dict[str, Any] | None:
        """The tokens an operation also sends (``send`` in its body, ``session_header``)."""
        values = {"access_token": tokens.access, "refresh_token": tokens.refresh, "session_id": tokens.session_id}
        extra = {name: values[name] for name in send if values.get(name)}
        if extra:
            body = {**(body or {}), **extra}
        if session_header and tokens.session_id:
            headers[session_header] = tokens.session_id
        return body

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

    def claim(self, token: str, which: str) -> str:
        """The ``which`` ("subject", "role" or "tenant") claim of a token, under the profile's name for it."""
        spec = self.profile.tokens
        name = {"subject": spec.subject_claim, "role": spec.role_claim, "tenant": spec.tenant_claim}[which]
        value = claims_of(token).get(name)
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""

    def bearer(self, token: str) -> dict[str, str]:
        """The header that presents ``token`` the way the target expects an access token."""
        tokens = self.profile.tokens
        return {tokens.header: f"{tokens.scheme} {token}".strip()}

    # -------------------------------------------------------------- token extraction
    def tokens_from(self, response: Response, previous: Tokens | None = None, *, operation: str = "") -> Tokens:
        """The tokens of a login answer (or, with ``previous``, of a refresh answer), read at the
        operation's own JSON paths, else the profile-wide ones."""
        spec = self.profile.tokens
        operation = operation or ("refresh" if previous is not None else "login")
        data = response.json()
        result = Tokens(response=response)
        if previous is not None:
            result.cookies = dict(previous.cookies)
            result.session_id = previous.session_id
            result.user = previous.user
        if spec.delivery == "cookie":
            for cookie in response.set_cookies():
                if cookie.clears:
                    result.cookies.pop(cookie.name, None)
                else:
                    result.cookies[cookie.name] = cookie.value
            result.access = result.cookies.get(spec.access_cookie, "")
            result.refresh = result.cookies.get(spec.refresh_cookie, "")
        else:
            access = json_path(data, self.profile.access_path(operation))
            refresh = json_path(data, self.profile.refresh_path(operation))
            result.access = access if isinstance(access, str) else ""
            result.refresh = refresh if isinstance(refresh, str) else ""
            if not result.refresh and previous is not None and result.access:
                # A refresh answer without a refresh token: the client keeps using the one it has.
                result.refresh, result.refresh_kept = previous.refresh, bool(previous.refresh)
        session_path = self.profile.session_path(operation)
        session = json_path(data, session_path) if session_path else None
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
        tokens.user = principal
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
        self.ctx.sleep(seconds, "a limiter window to pass")
        return True

    def refresh_response(self, tokens: Tokens | str, *, worker: int = 0) -> Response:
        spec = self.profile.tokens
        refresh = tokens if isinstance(tokens, str) else tokens.refresh
        if not self.profile.offers("refresh"):
            raise NotApplicable("operation refresh is not declared in the profile")
        where = self.profile.operation("refresh").refresh_in
        if not where:
            where = "cookie" if spec.delivery == "cookie" and not isinstance(tokens, str) else "body"
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        op = self.profile.operation("refresh") if self.profile.offers("refresh") else None
        if op is not None and not op.refresh_in and "refresh_token" in op.send:
            where = ""  # the body carries it, as send says
        body = self._present_refresh(where, refresh, headers, cookies, None) if where else None
        carry = tokens if isinstance(tokens, Tokens) else Tokens(refresh=tokens)
        return self.call("refresh", body=body, headers=headers, cookies=cookies, worker=worker, carry=carry)

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
