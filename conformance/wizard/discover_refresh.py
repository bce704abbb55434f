"""Refresh for ``authconform init``: the routes that look like a renewal (the OpenAPI document's
OAuth2 refresh URL, refresh/renew paths, PUT on a tokens resource, the token endpoint with a
refresh grant; else the usual paths), each tried with the refresh token where people send it
(a header, a body field of one of the usual names, a form grant, a cookie, or both tokens in
the body). Each try is ``Api.refresh_response``; the renewed tokens are read by ``Api.tokens_from``."""

from __future__ import annotations

from conformance.api import Tokens
from conformance.targets.base import Response
from conformance.wizard import openapi
from conformance.wizard.discover_login import TOKEN_RESOURCE
from conformance.wizard.discover_tokens import renewed_tokens
from conformance.wizard.draft import DraftOperation
from conformance.wizard.probing import ABSENT, REDIRECTS, ProbeContext, attempt

REFRESH_PATHS = ("{dir}/refresh", "{dir}/token/refresh", "{login}/refresh", "{login}/renew", "/refresh",
                 "/auth/refresh", "/token/refresh", "/api/refresh", "/api/token/refresh", "/api/auth/refresh",
                 "/auth/token/refresh", "/oauth/token")


def refresh_candidates(ctx: ProbeContext) -> list[DraftOperation]:
    found: list[DraftOperation] = []
    login = ctx.login_op.path if ctx.login_op else ""
    document = ctx.document
    if document is not None:
        _token_url, refresh_url = document.oauth2_password_urls()
        ops = [op for op in document.operations if op.method == "POST" and op.path == refresh_url]
        ops += document.find("POST", r"refresh|renew")
        if login and TOKEN_RESOURCE.search(login):  # PUT or PATCH on the tokens resource renews
            ops += [op for op in document.operations if op.method in ("PUT", "PATCH") and op.path == login]
        token_endpoint = document.at("POST", login) if login else None
        if token_endpoint is not None and "grant_type" in token_endpoint.properties:
            ops.append(token_endpoint)
        for op in dict.fromkeys(ops):
            token_field = op.field_named(openapi.REFRESH_FIELDS)
            extra = {"grant_type": "refresh_token"} if "grant_type" in op.properties else {}
            if token_field:
                found.append(DraftOperation(op.method, op.path, op.body or "json", {"refresh_token": token_field},
                                            extra, refresh_in="body"))
            else:
                found += refresh_shapes(ctx, op.path, op.method)
        if found:
            return found
    for tried in ctx.paths(REFRESH_PATHS, dir=ctx.directory(), login=login):
        path, probe = ctx.probe_route("POST", tried, body={})
        if probe is None or probe.status in ABSENT or probe.status in REDIRECTS:
            continue
        found += refresh_shapes(ctx, path)
    if login and TOKEN_RESOURCE.search(login):
        found += refresh_shapes(ctx, login, "PUT")
    return found


def refresh_shapes(ctx: ProbeContext, path: str, method: str = "POST") -> list[DraftOperation]:
    """The ways a refresh route may take the refresh token, most usual first."""
    if ctx.shape.delivery == "cookie":
        return [DraftOperation(method, path, refresh_in="cookie")]
    shapes = [DraftOperation(method, path, refresh_in="header")]
    shapes += [DraftOperation(method, path, "json", {"refresh_token": name}, refresh_in="body")
               for name in openapi.REFRESH_FIELDS]
    shapes.append(DraftOperation(method, path, "form", {"refresh_token": "refresh_token"},
                                 {"grant_type": "refresh_token"}, refresh_in="body"))
    # Both tokens in the body, the access token as proof of the pair (it may have expired).
    shapes.append(DraftOperation(method, path, auth="none", send=["refresh_token", "access_token"]))
    return shapes


def _refresh(ctx: ProbeContext, op: DraftOperation, tokens: Tokens, *, client: bool) -> Response | None:
    """``Api.refresh_response`` through ``op`` (None when the target did not answer)."""
    return attempt(lambda: ctx.api("refresh", op, client=client).refresh_response(tokens))


def find_refresh(ctx: ProbeContext, tokens: Tokens) -> Tokens:
    """The refresh route, tried with the login's refresh token; the renewed tokens (or the login's
    when none worked)."""
    if not tokens.refresh:
        ctx.draft.leave_out("refresh", "the login answer carried no refresh token")
        return tokens
    client = "login" in ctx.client_ops  # a confidential client authenticates at every token route
    for op in refresh_candidates(ctx):
        answer = _refresh(ctx, op, tokens, client=client)
        if answer is None or not 200 <= answer.status < 300:
            continue
        fresh = renewed_tokens(ctx, "refresh", op, answer, tokens)
        if fresh is None:
            continue
        op.note = f"observed: answered {answer.status} with a new access token"
        ctx.draft.operations["refresh"] = op
        ctx.draft.declare("refresh", f"observed: {op.method} {op.path} gave new tokens")
        rotated = "rotates the refresh token" if fresh.refresh and fresh.refresh != tokens.refresh else \
            "keeps the refresh token"
        where = f"the {op.refresh_in}" if op.refresh_in else "the body, with the access token"
        ctx.say(f"refresh: {op.method} {op.path} (refresh token in {where}) works and {rotated}")
        return fresh
    ctx.draft.leave_out("refresh", "a refresh token came back but no refresh route accepted it")
    return tokens
