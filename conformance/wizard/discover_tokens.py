"""Token inspection for ``authconform init``: where a login answer carries the tokens, what they
say (algorithm, issuer, audience, lifetimes, the account's role), and how the target wants the
access token presented (the ``me`` route that accepts it, and in which header).

Where the tokens are is the one thing init must guess from a first answer (any field that holds
a JWT, or a JWT cookie); once it knows, the tokens of every later answer are read by
``Api.tokens_from``, as the suite reads them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from typing import Any

from conformance.api import Tokens, claims_of, json_path
from conformance.minting import b64url_decode
from conformance.targets.base import Response
from conformance.wizard.draft import DraftOperation, Value
from conformance.wizard.probing import ProbeContext, TokenShape, rate_headers, with_sid

ACCESS_KEYS = ("access_token", "accessToken", "access", "token", "jwt", "id_token", "auth_token", "authToken")
SESSION_KEYS = ("session_id", "sessionId", "sid", "session.id", "session.session_id")
ME_PATHS = ("{dir}/me", "/me", "/users/me", "/api/me", "/api/users/me", "/auth/me", "/api/auth/me", "/user",
            "/api/user", "/account", "/api/account", "/whoami", "/api/whoami", "/profile", "/api/profile",
            "/api/v1/me", "/api/v1/users/me")
# How an access token may travel, tried after what the OpenAPI document or an error message says.
PRESENTATIONS = (("Authorization", "Bearer"), ("Authorization", "JWT"), ("Authorization", "Token"),
                 ("X-Access-Token", ""), ("X-Auth-Token", ""), ("X-API-Token", ""), ("Authorization", ""))
LIFETIME_SLACK = 5  # seconds between a token's issue and init reading it, at most, when it has no iat


def looks_like_jwt(value: Any) -> bool:
    if not isinstance(value, str) or value.count(".") != 2:
        return False
    try:
        header = json.loads(b64url_decode(value.split(".")[0]))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a token ({} when it is not a JWT whose payload is an object)."""
    claims = claims_of(token)
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
        claims = token_claims(value)
        kind = str(claims.get("type", claims.get("token_type", ""))).lower()
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


def shape_of_answer(ctx: ProbeContext, name: str, op: DraftOperation, answer: Response) -> TokenShape | None:
    """Where a (first) login answer carries the tokens: JSON fields, else JWT cookies."""
    data = answer.json()
    access_path, refresh_path = find_token_paths(data)
    shape = TokenShape(session_path=find_session_path(data))
    if access_path:
        shape.access_path, shape.refresh_path = access_path, refresh_path
        return shape
    shape.delivery = "cookie"
    cookies = ctx.api(name, op, shape=shape).tokens_from(answer, operation=name).cookies  # the cookies it set
    jwt_cookies = [cookie for cookie, value in cookies.items() if looks_like_jwt(value)]
    refresh_names = [n for n in jwt_cookies if "refresh" in n.lower()
                     or str(token_claims(cookies[n]).get("type", "")).lower() == "refresh"]
    access_names = [n for n in jwt_cookies if n not in refresh_names]
    if not access_names:
        return None
    csrf = [n for n in cookies if re.search(r"csrf|xsrf", n, re.I) and n not in jwt_cookies]
    shape.access_cookie = access_names[0]
    shape.refresh_cookie = refresh_names[0] if refresh_names else ""
    shape.csrf_cookie = csrf[0] if csrf else ""
    return shape


def first_tokens(ctx: ProbeContext, name: str, op: DraftOperation, answer: Response) -> Tokens | None:
    """The tokens of a login answer, learning where they are from it (None: it carries none)."""
    shape = shape_of_answer(ctx, name, op, answer)
    if shape is None:
        return None
    ctx.shape = shape
    tokens = ctx.api(name, op).tokens_from(answer, operation=name)
    return with_sid(tokens) if tokens.access else None


def renewed_tokens(ctx: ProbeContext, name: str, op: DraftOperation, answer: Response,
                   previous: Tokens) -> Tokens | None:
    """The tokens of a renewal (a refresh) answer: a new access token where login's answer had it,
    or, where the answer holds it elsewhere (``{"token": ...}``), there (the operation then says
    where, in ``access_token_path``). None when the answer carries no new access token."""
    fresh = ctx.api(name, op).tokens_from(answer, previous, operation=name)
    if ctx.shape.delivery == "cookie":
        return with_sid(fresh) if fresh.access and fresh.access != previous.access else None
    if fresh.access:
        return with_sid(fresh)
    path, _refresh = find_token_paths(answer.json())
    token = json_path(answer.json(), path) if path else None
    if not isinstance(token, str) or not token or token == previous.access:
        return None
    op.access_token_path = path
    return with_sid(ctx.api(name, op).tokens_from(answer, previous, operation=name))


# ------------------------------------------------------------------ what the tokens say
def learn_tokens(ctx: ProbeContext, tokens: Tokens) -> None:
    written = ctx.draft.tokens
    shape = ctx.shape
    if shape.delivery == "cookie":
        written["delivery"] = Value("cookie", "observed: login set the token in a cookie")
        written["access_cookie"] = Value(shape.access_cookie, "observed")
        if shape.refresh_cookie:
            written["refresh_cookie"] = Value(shape.refresh_cookie, "observed")
        if shape.csrf_cookie:
            written["csrf_cookie"] = Value(shape.csrf_cookie, "observed")
        ctx.draft.declare("cookies", "observed: the tokens come back in cookies")
    else:
        written["delivery"] = Value("json", "observed: the tokens come back in the JSON body")
        written["access_field"] = Value(shape.access_path, "observed")
        written["refresh_field"] = Value(shape.refresh_path, "observed" if shape.refresh_path else
                                         "no refresh token in the login answer")
    written["session_field"] = Value(shape.session_path, "observed" if shape.session_path else
                                     "no session id in the login answer (a sid claim is read instead)")
    claims, header = token_claims(tokens.access), {}
    if looks_like_jwt(tokens.access):
        header = json.loads(b64url_decode(tokens.access.split(".")[0]))
    if header.get("alg"):
        written["algorithm"] = Value(str(header["alg"]), "observed in the access token's header")
    written["issuer"] = Value(str(claims.get("iss", "")), "observed (iss claim)" if "iss" in claims else
                              "observed: the access token has no iss claim")
    audience = claims.get("aud", "")
    written["audience"] = Value(audience[0] if isinstance(audience, list) and audience else str(audience),
                                "observed (aud claim)" if "aud" in claims else
                                "observed: the access token has no aud claim")
    lifetime, measured = lifetime_of(claims)
    if lifetime:
        written["access_ttl"] = Value(lifetime, f"observed on an access token: {measured}")
    refresh_lifetime, measured = lifetime_of(token_claims(tokens.refresh)) if tokens.refresh else (0, "")
    if refresh_lifetime:
        written["refresh_ttl"] = Value(refresh_lifetime, f"observed on a refresh token: {measured}")
    written["leeway"] = Value(0, "the clock leeway the service allows (0-30 s)", guess=True)
    _account_role(ctx, claims)


def _account_role(ctx: ProbeContext, claims: dict[str, Any]) -> None:
    """The given account's role as its token states it (init cannot know it otherwise)."""
    role = claims.get("role")
    if not ctx.draft.accounts or not isinstance(role, str) or not role:
        return
    if role in ctx.default.roles:
        ctx.draft.accounts[0]["role"] = Value(role, "observed: the role claim of the account's token")
    else:
        ctx.draft.accounts[0]["role"] = Value(role, "observed in the token, but not one of the contract's "
                                              "roles: declare [roles] and [permissions]", guess=True)


def lifetime_of(claims: dict[str, Any]) -> tuple[int, str]:
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


def write_tokens_section(ctx: ProbeContext) -> None:
    """How the access token is presented, as the ``me`` route and the writes showed."""
    if ctx.shape.delivery == "json":
        ctx.draft.tokens["header"] = Value(ctx.header, "observed: the header the me route took")
        ctx.draft.tokens["scheme"] = Value(ctx.scheme, "observed")
    elif ctx.csrf_header:
        ctx.draft.tokens["csrf_header"] = Value(ctx.csrf_header, "observed: a refused write named it")


# ------------------------------------------------------------------ how the token is presented: me
def _me_candidates(ctx: ProbeContext) -> list[str]:
    paths = []
    if ctx.document is not None:
        pattern = r"(^|/)(me|whoami|account|profile|user)$"
        paths = [op.path for op in ctx.document.find("GET", pattern) if op.secured]
        paths += [op.path for op in ctx.document.find("GET", pattern)]
    return list(dict.fromkeys(paths + ctx.paths(ME_PATHS, dir=ctx.directory())))


def _presentations(ctx: ProbeContext, hints: list[str]) -> list[tuple[str, str]]:
    out = [(header, scheme) for header in hints for scheme in ("", "Bearer")]
    documented = ctx.document.bearer_header() if ctx.document is not None else None
    if documented is not None:
        out.insert(0, documented)
    return list(dict.fromkeys(out + list(PRESENTATIONS)))


def find_me(ctx: ProbeContext, tokens: Tokens) -> None:
    """A route that refuses no token and accepts the login's: ``me``, and how it takes the token."""
    for tried in _me_candidates(ctx):
        path, anonymous = ctx.probe_route("GET", tried)
        if anonymous is None or anonymous.status not in (401, 403):
            continue
        me = DraftOperation("GET", path)
        if ctx.shape.delivery == "cookie":
            answer = ctx.authed("me", me, tokens)
            if answer is not None and 200 <= answer.status < 300:
                _found_me(ctx, path, answer)
                return
            continue
        hints = re.findall(r"Missing ([A-Za-z0-9-]+) Header", anonymous.text, re.I)
        for header, scheme in _presentations(ctx, hints):
            answer = ctx.call("me", me, auth=tokens.access, header=header, scheme=scheme)
            if answer is not None and 200 <= answer.status < 300:
                ctx.header, ctx.scheme = header, scheme
                _found_me(ctx, path, answer)
                return
    ctx.say("me: no protected route accepted the token; [operations.me] is a guess")
    ctx.draft.operations["me"] = DraftOperation("GET", "/me", guess=True, note="no route accepted the token")


def _found_me(ctx: ProbeContext, path: str, answer: Response) -> None:
    ctx.draft.operations["me"] = DraftOperation("GET", path, note="observed: refuses no token, accepts the token")
    how = "cookies" if ctx.shape.delivery == "cookie" else f"{ctx.header}: {ctx.scheme} <token>".replace(":  ", ": ")
    ctx.say(f"me: GET {path} accepts the token ({how})")
    ctx.api_rate = rate_headers(answer)
    ctx.draft.target["ready_path"] = Value(path, "any HTTP answer means the target is up")
