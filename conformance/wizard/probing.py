"""What the discovery steps of ``authconform init`` share: the target, what is known of it so
far, and the two ways of talking to it.

A step that looks for a route sends raw requests (``send``, ``probe_route``): nothing of the
contract is known yet. A step that uses an operation the way a client would (log in, refresh,
log out, call ``me`` with the token) goes through ``conformance.api.Api``, the translator the
checks use, over a profile made of what init has learned so far plus the candidate it tries
(``call``, ``authed``). So a draft describes a target in the terms the suite will speak to it:
a shape of request the Api cannot send is a shape init cannot confirm.

Requests go through ``HttpTarget`` (timeouts, no redirects, nothing sent off the target), and
no secret is ever printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from conformance.api import Api, Principal, Tokens, claims_of
from conformance.profile import (
    DEFAULT_PROFILE,
    OPERATION_CAPABILITY,
    ClientSection,
    Operation,
    Profile,
    TokensSection,
    load,
)
from conformance.targets.base import Response
from conformance.targets.http import HttpTarget
from conformance.verdict import TargetUnreachable
from conformance.wizard.draft import Draft, DraftOperation

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.wizard.openapi import ApiDocument

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
ABSENT = (404, 405, 501)
REDIRECTS = (301, 302, 307, 308)
CSRF_HEADERS = ("X-CSRF-Token", "X-CSRFToken", "X-XSRF-TOKEN", "X-CSRF")


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


@dataclass
class TokenShape:
    """Where a login answer carries the tokens, as the first one showed (``discover_tokens``)."""

    delivery: str = "json"
    access_path: str = ""
    refresh_path: str = ""
    session_path: str = ""
    access_cookie: str = ""
    refresh_cookie: str = ""
    csrf_cookie: str = ""


class _Unrecorded:
    """init keeps no evidence and prints no token: nothing to redact."""

    def add(self, *values: str) -> None:
        pass


class _Channel:
    """What ``Api`` asks of a check context (a profile, a redactor, ``send``), over init's target."""

    def __init__(self, http: HttpTarget, profile: Profile) -> None:
        self.http = http
        self.profile = profile
        self.redactor = _Unrecorded()

    def pace(self, operation: str, auth: Any, username: str = "") -> None:
        """init sends a handful of requests, one after another: nothing to pace."""

    def send(self, method: str, path: str, *, note: str = "", headers: Mapping[str, str] | None = None,
             params: Mapping[str, str] | None = None, json_body: Any = None, form: Mapping[str, str] | None = None,
             cookies: Mapping[str, str] | None = None, worker: int = 0) -> Response:
        return self.http.request(method, path, headers=headers, params=params, json_body=json_body, form=form,
                                 cookies=cookies)


def operation_of(op: DraftOperation) -> Operation:
    """A drafted operation as the profile will hold it."""
    return Operation.model_validate({
        "method": op.method, "path": op.path, "body": op.body, "auth": op.auth, "refresh_in": op.refresh_in,
        "send": list(op.send), "fields": dict(op.fields), "extra": dict(op.extra),
        "access_token_path": op.access_token_path, "session_header": op.session_header})


def with_sid(tokens: Tokens) -> Tokens:
    """Where the answer named no session, the access token's ``sid`` claim names it."""
    if not tokens.session_id:
        claims = claims_of(tokens.access)
        sid = claims.get("sid") if isinstance(claims, dict) else None
        tokens.session_id = str(sid) if isinstance(sid, (str, int)) else ""
    return tokens


class ProbeContext:
    """The target, the draft being written, and what the steps have learned so far."""

    def __init__(self, options: Options, say: Callable[[str], None]) -> None:
        self.options = options
        self.say = say
        self.http = HttpTarget(options.target, connect_timeout=3.0, read_timeout=10.0)
        self.draft = Draft(base_url=self.http.base_url)
        self.document: ApiDocument | None = None
        self.default = load(DEFAULT_PROFILE)
        self.shape = TokenShape()
        self.header, self.scheme = "Authorization", "Bearer"
        self.csrf_header = ""
        self.login_op: DraftOperation | None = None
        self.account: Principal | None = None  # the account init logged in as
        self.client_secret = options.environ.get(options.client_secret_env, "") if options.client_secret_env else ""
        self.client_ops: list[str] = []  # operations init sent the client credentials with
        self.login_rate: tuple[int, int] | None = None
        self.api_rate: tuple[int, int] | None = None
        self.sessions_path = ""
        self.email_signups: set[str] = set()  # sign-up paths whose username is an e-mail address

    # ------------------------------------------------------------------ raw requests (finding routes)
    def send(self, method: str, path: str, *, body: Mapping[str, Any] | None = None, kind: str = "json",
             headers: Mapping[str, str] | None = None, cookies: Mapping[str, str] | None = None) -> Response:
        json_body = dict(body) if body is not None and kind == "json" else None
        form = {k: str(v) for k, v in body.items()} if body is not None and kind == "form" else None
        return self.http.request(method, path, headers=headers, json_body=json_body, form=form, cookies=cookies)

    def try_send(self, method: str, path: str, **kwargs: Any) -> Response | None:
        return attempt(lambda: self.send(method, path, **kwargs))

    def probe_route(self, method: str, path: str, **kwargs: Any) -> tuple[str, Response | None]:
        """Send to ``path``; where the target redirects to the same path with a trailing slash
        (Django's APPEND_SLASH), send again there. The path that answered, and its answer."""
        answer = self.try_send(method, path, **kwargs)
        if answer is not None and answer.status in REDIRECTS and not path.endswith("/"):
            location = urlsplit(answer.headers.get("Location", "")).path
            if location == path + "/":
                return location, self.try_send(method, location, **kwargs)
        return path, answer

    def paths(self, templates: Iterable[str], **values: str) -> list[str]:
        """The templates with their {names} filled; one whose value is unknown is left out."""
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

    def directory(self) -> str:
        """The directory of the login route (``/api`` for ``/api/login``)."""
        return self.login_op.path.rsplit("/", 1)[0] if self.login_op is not None else ""

    # ------------------------------------------------------------------ operations, through the Api
    def profile(self, operations: Mapping[str, DraftOperation], *, client: bool = False,
                header: str | None = None, scheme: str | None = None, csrf_header: str | None = None,
                shape: TokenShape | None = None) -> Profile:
        """A profile of what is known so far (or of ``shape``), with ``operations`` described (and
        their capabilities declared); with ``client``, they send the client credentials."""
        shape = self.shape if shape is None else shape
        capabilities = {OPERATION_CAPABILITY.get(name, "") for name in operations} - {""}
        if any("tenant" in op.fields for op in operations.values()):
            capabilities.add("tenants")  # the Api then sends the user's tenant, under the field's name
        tokens = TokensSection(delivery="cookie" if shape.delivery == "cookie" else "json",
                               access_field=shape.access_path, refresh_field=shape.refresh_path,
                               session_field=shape.session_path, header=self.header if header is None else header,
                               scheme=self.scheme if scheme is None else scheme, access_cookie=shape.access_cookie,
                               refresh_cookie=shape.refresh_cookie, csrf_cookie=shape.csrf_cookie,
                               csrf_header=self.csrf_header if csrf_header is None else csrf_header)
        client_section = ClientSection.model_validate({
            "id": self.options.client_id, "secret": self.client_secret, "method": self.options.client_method,
            "operations": list(operations) if client and self.options.client_id else []})
        return Profile(name="init", capabilities=sorted(capabilities), tokens=tokens, client=client_section,
                       operations={name: operation_of(op) for name, op in operations.items()})

    def api(self, name: str, op: DraftOperation, *, client: bool = False, header: str | None = None,
            scheme: str | None = None, csrf_header: str | None = None, shape: TokenShape | None = None) -> Api:
        """The Api over a profile that describes ``op`` as operation ``name`` (see ``profile``);
        the client credentials it sends are noted for the draft's ``[client] operations``."""
        if client and self.options.client_id and name not in self.client_ops:
            self.client_ops.append(name)
        profile = self.profile({name: op}, client=client, header=header, scheme=scheme, csrf_header=csrf_header,
                               shape=shape)
        return Api(cast("CheckContext", _Channel(self.http, profile)))  # Api uses profile, redactor, send

    def call(self, name: str, op: DraftOperation, *, client: bool = False, header: str | None = None,
             scheme: str | None = None, csrf_header: str | None = None, **kwargs: Any) -> Response | None:
        """``Api.call`` of ``op`` as operation ``name``, the token presented with ``header`` and
        ``scheme`` where given (None when the target did not answer)."""
        csrf = bool(self.csrf_header if csrf_header is None else csrf_header)
        return attempt(lambda: self.api(name, op, client=client, header=header, scheme=scheme,
                                        csrf_header=csrf_header).call(name, csrf=csrf, **kwargs))

    def authed(self, name: str, op: DraftOperation, tokens: Tokens, *, client: bool = False,
               **kwargs: Any) -> Response | None:
        """``op`` called with the login's credentials; finds the CSRF header the first time a
        write with cookies is refused."""
        answer = self.call(name, op, auth=tokens, client=client, **kwargs)
        shape = self.shape
        if (answer is not None and answer.status == 403 and shape.delivery == "cookie" and not self.csrf_header
                and op.auth == "access" and op.method in STATE_CHANGING and shape.csrf_cookie in tokens.cookies):
            for candidate in self._csrf_candidates(answer):
                retry = self.call(name, op, auth=tokens, client=client, csrf_header=candidate, **kwargs)
                if retry is not None and retry.status != 403:
                    self.csrf_header = candidate
                    self.say(f"csrf: the {shape.csrf_cookie} cookie is echoed in {candidate}")
                    return retry
        return answer

    def _csrf_candidates(self, refusal: Response) -> list[str]:
        hinted = re.findall(r"\b(X-[A-Za-z0-9-]+)", refusal.text)
        parts = [p for p in re.split(r"[_\-]", self.shape.csrf_cookie) if p]
        derived = ["X-" + "-".join(p.upper() if p.lower() in ("csrf", "xsrf") else p.capitalize() for p in parts)]
        derived.append("X-" + "-".join(p.upper() for p in parts))
        return list(dict.fromkeys([*hinted, *derived, *CSRF_HEADERS]))


def attempt(send: Callable[[], Response]) -> Response | None:
    """The answer, or None when the target did not answer (or the request could not be sent)."""
    try:
        return send()
    except (TargetUnreachable, ValueError):
        return None


def rate_headers(answer: Response) -> tuple[int, int] | None:
    """(limit, reset) of an answer's RateLimit-Limit and RateLimit-Reset headers, when it has both."""
    limit, reset = answer.headers.get("RateLimit-Limit", ""), answer.headers.get("RateLimit-Reset", "")
    if limit.strip().isdigit() and reset.strip().isdigit() and int(limit) > 0 and int(reset) > 0:
        return int(limit), int(reset)
    return None


def shape_of(path: str) -> str:
    """A path with every parameter written {id}."""
    return re.sub(r"\{[^}]*\}", "{id}", path)
