"""The rest of what ``authconform init`` declares: published keys and a health route, the
sessions list and ending one session, what only the OpenAPI document shows (routes init does not
try because they change or delete the account, user administration, documents, audit), roles
and tenants as the token states them, the rate limits the answers' headers state, and the OAuth2
client it was given."""

from __future__ import annotations

import re

from conformance.api import Tokens
from conformance.profile import OPERATION_CAPABILITY
from conformance.wizard import openapi
from conformance.wizard.discover_login import fresh_login
from conformance.wizard.discover_tokens import token_claims
from conformance.wizard.draft import DraftOperation, Value
from conformance.wizard.probing import ProbeContext, shape_of

SESSIONS_PATHS = ("{me}/sessions", "{dir}/sessions", "/sessions", "/auth/sessions", "/api/sessions",
                  "/account/sessions", "/me/sessions", "/users/me/sessions", "/api/auth/sessions")
JWKS_PATHS = ("/.well-known/jwks.json", "/jwks.json", "/.well-known/jwks", "/oauth/jwks", "/api/jwks.json")
HEALTH_PATHS = ("/healthz", "/health", "/api/health", "/status", "/ping", "/livez")


# ------------------------------------------------------------------ public routes
def find_public_routes(ctx: ProbeContext) -> None:
    for path in JWKS_PATHS:
        answer = ctx.try_send("GET", path)
        data = answer.json() if answer is not None and answer.status == 200 else None
        if isinstance(data, dict) and isinstance(data.get("keys"), list):
            ctx.draft.operations["jwks"] = DraftOperation("GET", path, note="observed: a JWKS document")
            ctx.draft.declare("jwks", f"observed: GET {path} publishes the keys")
            break
    else:
        ctx.draft.leave_out("jwks", "no JWKS document at the usual paths")
    for path in HEALTH_PATHS:
        answer = ctx.try_send("GET", path)
        if answer is not None and answer.status == 200:
            ctx.draft.operations["health"] = DraftOperation("GET", path, note="observed")
            ctx.draft.target["ready_path"] = Value(path, "observed: answers 200 without a token")
            break


# ------------------------------------------------------------------ sessions
def find_sessions(ctx: ProbeContext, tokens: Tokens) -> None:
    paths = []
    if ctx.document is not None:
        paths = [op.path for op in ctx.document.find("GET", r"/sessions$")]
    me = ctx.draft.operations.get("me")
    paths += ctx.paths(SESSIONS_PATHS, me=me.path if me and not me.guess else "", dir=ctx.directory())
    for path in dict.fromkeys(paths):
        answer = ctx.authed("sessions_list", DraftOperation("GET", path), tokens)
        if answer is None or not 200 <= answer.status < 300:
            continue
        if tokens.session_id and tokens.session_id not in answer.text:
            continue
        ctx.draft.operations["sessions_list"] = DraftOperation("GET", path, note="observed: lists the session")
        ctx.say(f"sessions: GET {path} lists the caller's sessions")
        ctx.sessions_path = path
        return
    ctx.sessions_path = ""
    ctx.draft.leave_out("sessions", "no sessions list found")


def find_session_delete(ctx: ProbeContext, tokens: Tokens) -> None:
    """Ending one session: a second login's, from the first."""
    if not ctx.sessions_path:
        return
    path = ctx.sessions_path + "/{id}"
    if ctx.document is not None:
        found = [op.path for op in ctx.document.find("DELETE", r"/sessions/\{[^}]*\}$")]
        path = shape_of(found[0]) if found else path
    other = fresh_login(ctx)
    if other is None or not other.session_id:
        ctx.draft.operations["session_delete"] = DraftOperation("DELETE", path, guess=True, note="not confirmed")
        ctx.draft.declare("sessions", "observed: the sessions list; ending one is a guess", guess=True)
        return
    answer = ctx.authed("session_delete", DraftOperation("DELETE", path), tokens, ids={"id": other.session_id})
    if answer is not None and 200 <= answer.status < 300:
        ctx.draft.operations["session_delete"] = DraftOperation("DELETE", path, note="observed: ended a session")
        ctx.draft.declare("sessions", "observed: sessions are listed and ended")
        ctx.say(f"sessions: DELETE {path} ends one")
    else:
        ctx.draft.leave_out("sessions", f"the sessions list exists but DELETE {path} did not end a session")


# ------------------------------------------------------------------ what only the OpenAPI document shows
def from_openapi_only(ctx: ProbeContext) -> None:
    """Routes init does not try (they change or delete the account) but the document names."""
    me = ctx.draft.operations.get("me")
    document = ctx.document
    if document is None:
        for capability, why in (("password_change", "not tried (it would change the password)"),
                                ("delete_account", "not tried (it would delete the account)"),
                                ("user_admin", "no OpenAPI document to find user administration in")):
            ctx.draft.leave_out(capability, why + "; describe the operation and switch it on")
        return
    change = _password_change(document, me.path if me else "")
    if change is not None:
        ctx.draft.operations["me_update"] = change
        ctx.draft.declare("password_change", f"from the OpenAPI document ({change.method} {change.path}); "
                          "not tried", guess=True)
    else:
        ctx.draft.leave_out("password_change", "the OpenAPI document shows no password change")
    if me is not None and document.at("DELETE", me.path) is not None:
        ctx.draft.operations["me_delete"] = DraftOperation("DELETE", me.path, guess=True,
                                                           note="from the OpenAPI document; not tried")
        ctx.draft.declare("delete_account", "from the OpenAPI document; not tried", guess=True)
    else:
        ctx.draft.leave_out("delete_account", "the OpenAPI document shows no account deletion")
    bundled = ctx.default.operations
    for capability in ("user_admin", "documents", "audit"):
        names = [n for n, c in OPERATION_CAPABILITY.items() if c == capability]
        matched = {n: document.at(bundled[n].method, shape_of(bundled[n].path)) for n in names}
        if all(matched.values()):
            for name, op in matched.items():
                assert op is not None
                ctx.draft.operations[name] = DraftOperation(
                    op.method, shape_of(op.path), bundled[name].body, dict(bundled[name].fields),
                    guess=True, note="matches the bundled reference's route; not tried")
            ctx.draft.declare(capability, "routes match the bundled reference's; not tried", guess=True)
        else:
            ctx.draft.leave_out(capability, "the OpenAPI document shows no such routes")


def _password_change(document: openapi.ApiDocument, me_path: str) -> DraftOperation | None:
    candidates = [op for op in document.operations if op.method in ("PATCH", "PUT", "POST")
                  and (op.path == me_path or re.search(r"password$", op.path))]
    for op in candidates:
        current = op.field_named(openapi.CURRENT_PASSWORD_FIELDS)
        new = op.field_named(openapi.NEW_PASSWORD_FIELDS)
        if current and new and current != new:
            return DraftOperation(op.method, op.path, op.body or "json",
                                  {"current_password": current, "new_password": new},
                                  guess=True, note="from the OpenAPI document; not tried")
    return None


# ------------------------------------------------------------------ roles, tenants, session limits
def roles_and_tenants(ctx: ProbeContext, tokens: Tokens) -> None:
    claims = token_claims(tokens.access)
    login = ctx.draft.operations.get("login")
    if (login and "tenant" in login.fields) or "tid" in claims or "tenant" in claims:
        ctx.draft.declare("tenants", "observed: login takes a tenant / the token names one")
    else:
        ctx.draft.leave_out("tenants", "login takes no tenant and the token names none")
    role = claims.get("role")
    if isinstance(role, str) and role in ctx.default.roles and "user_admin" in ctx.draft.capabilities:
        ctx.draft.declare("roles", f"the token's role claim ({role}) is one of the contract's roles; review "
                          "[roles] and [permissions]", guess=True)
    else:
        ctx.draft.leave_out("roles", "no role claim from the contract's roles, or no user administration")
    for capability, why in (("session_limit", "not observable; declare it with [sessions] max_sessions"),
                            ("idle_timeout", "not observable; declare it with [sessions] idle_timeout"),
                            ("absolute_timeout", "not observable; declare it with [sessions] absolute_timeout")):
        ctx.draft.leave_out(capability, why)
    sessions = ctx.default.sessions
    ctx.draft.sessions = {
        "max_sessions": Value(sessions.max_sessions, "not observable", guess=True),
        "idle_timeout": Value(sessions.idle_timeout, "not observable", guess=True),
        "absolute_timeout": Value(sessions.absolute_timeout, "not observable", guess=True),
    }


# ------------------------------------------------------------------ rate limits
def rate_limits(ctx: ProbeContext) -> None:
    limits = ctx.default.rate_limits
    rates = ctx.draft.rate_limits
    if ctx.login_rate is not None:
        limit, reset = ctx.login_rate
        rates["login_account_limit"] = Value(limit, "observed: RateLimit-Limit on a login answer (the tighter "
                                                    "of the per-account and per-address limits)")
        rates["login_ip_limit"] = Value(limits.login_ip_limit, "not observable: the per-address login limit",
                                        guess=True)
        rates["login_window"] = Value(reset, "observed: RateLimit-Reset on a first login")
        ctx.draft.declare("rate_limit_login", "observed: login answers carry RateLimit headers")
    else:
        rates["login_account_limit"] = Value(limits.login_account_limit, "not observable", guess=True)
        rates["login_ip_limit"] = Value(limits.login_ip_limit, "not observable", guess=True)
        rates["login_window"] = Value(limits.login_window, "not observable", guess=True)
        ctx.draft.leave_out("rate_limit_login", "no RateLimit headers on login; if logins are limited, switch "
                            "this on with the real [rate_limits] numbers")
    if ctx.api_rate is not None:
        limit, reset = ctx.api_rate
        rates["api_limit"] = Value(limit, "observed: RateLimit-Limit on a me answer")
        rates["api_window"] = Value(reset, "observed: RateLimit-Reset on a user's first request")
        ctx.draft.declare("rate_limit_api", "observed: API answers carry RateLimit headers")
    else:
        rates["api_limit"] = Value(limits.api_limit, "not observable", guess=True)
        rates["api_window"] = Value(limits.api_window, "not observable", guess=True)
        ctx.draft.leave_out("rate_limit_api", "no RateLimit headers on API answers")
    rates["trusted_proxies"] = Value(0, "proxies whose X-Forwarded-For the service trusts", guess=True)


def write_client(ctx: ProbeContext) -> None:
    options = ctx.options
    if not options.client_id:
        return
    ctx.draft.client["id"] = Value(options.client_id)
    if options.client_secret_env:
        ctx.draft.client["secret"] = Value("${" + options.client_secret_env + "}")
        ctx.draft.environment.append(options.client_secret_env)
    ctx.draft.client["method"] = Value(options.client_method)
    ctx.draft.client["operations"] = Value(ctx.client_ops, "observed: the operations init sent them with")
