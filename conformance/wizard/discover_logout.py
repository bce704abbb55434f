"""Logout and logout-everywhere for ``authconform init``: the routes that look like them (in the
OpenAPI document, DELETE on a tokens resource, else the usual paths), each tried in the shapes
people use (the access token alone, a session header the document requires, the refresh token
in the body, an RFC 7009 revocation form), through ``Api.call``. A logout is observed when the
token stops working on ``me`` afterwards; one that answers 2xx but leaves it working is written
as a guess."""

from __future__ import annotations

import re

from conformance.api import Tokens
from conformance.wizard.discover_login import TOKEN_RESOURCE, fresh_login
from conformance.wizard.draft import DraftOperation
from conformance.wizard.probing import REDIRECTS, ProbeContext, shape_of

LOGOUT_PATHS = ("{dir}/logout", "/logout", "/auth/logout", "/api/logout", "/api/auth/logout", "/signout",
                "/auth/signout", "{login}/revoke", "/token/revoke", "/revoke", "/oauth/revoke", "/api/token/revoke",
                "{login}/blacklist", "{dir}/token/blacklist")
LOGOUT_ALL_PATHS = ("{dir}/logout-all", "{dir}/logout_all", "/logout-all", "/auth/logout-all", "/api/logout-all",
                    "/api/auth/logout-all", "/logout/all", "/auth/logout/all", "/logout_all", "/auth/logout_all")


def logout_candidates(ctx: ProbeContext) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    login = ctx.login_op.path if ctx.login_op else ""
    resource = login.rstrip("/") if login and TOKEN_RESOURCE.search(login) else ""
    if ctx.document is not None:
        for method in ("POST", "DELETE"):
            found += [(method, op.path) for op in ctx.document.find(method, r"(log-?out|sign-?out|revoke|blacklist)/?$",
                                                                    exclude=r"all")]
        if resource:  # DELETE /tokens, or DELETE /sessions/current: ending the caller's own
            found += [("DELETE", op.path) for op in ctx.document.operations if op.method == "DELETE"
                      and (op.path.rstrip("/") == resource or re.fullmatch(re.escape(resource) + r"/[a-z_-]+/?",
                                                                           op.path))]
        if found:
            return found
    if resource:
        found.append(("DELETE", login))
    for tried in ctx.paths(LOGOUT_PATHS, dir=ctx.directory(), login=login):
        path, probe = ctx.probe_route("POST", tried, body={})
        if probe is None or probe.status in (404, 501, *REDIRECTS):
            continue
        allowed = probe.headers.get("Allow", "") if probe.status == 405 else "POST"
        for method in ("POST", "DELETE"):
            if method in allowed.upper():
                found.append((method, path))
    return found


def logout_shapes(ctx: ProbeContext, method: str, path: str) -> list[DraftOperation]:
    """The ways a logout route may want the caller named, most usual first."""
    shapes = [DraftOperation(method, path)]
    documented = ctx.document.at(method, shape_of(path)) if ctx.document is not None else None
    headers = [name for name in (documented.required_headers if documented else [])
               if re.search(r"session", name, re.I)]
    if headers:  # first: a request without the header may already spend a single-use token
        shapes.insert(0, DraftOperation(method, path, session_header=headers[0]))
    if ctx.shape.delivery == "json":
        refresh = ctx.draft.operations.get("refresh")
        # The refresh token under the name the refresh route takes it by, then the usual one.
        names = [refresh.fields["refresh_token"]] if refresh and "refresh_token" in refresh.fields else []
        for name in dict.fromkeys([*names, "refresh_token"]):
            shapes.append(DraftOperation(method, path, "json", {"refresh_token": name}, refresh_in="body"))
        shapes.append(DraftOperation(method, path, "form", {"refresh_token": "token"},
                                     {"token_type_hint": "refresh_token"}, auth="none", refresh_in="body"))
    return shapes


def find_logout(ctx: ProbeContext, tokens: Tokens) -> None:
    for method, path in logout_candidates(ctx):
        for op in logout_shapes(ctx, method, path):
            # A revocation endpoint (auth = "none") authenticates the client instead of the user.
            answer = ctx.authed("logout", op, tokens, client=op.auth == "none")
            if answer is None or not 200 <= answer.status < 300:
                continue
            me = ctx.draft.operations.get("me")
            ended = me is not None and not me.guess and _refused(ctx, me, tokens)
            op.note = "observed: " + ("ended the session" if ended else "answered 2xx (the token still works)")
            ctx.draft.operations["logout"] = op
            ctx.draft.declare("logout", f"observed: {method} {path} logs out", guess=not ended)
            ctx.say(f"logout: {method} {path} works" + ("" if ended else " (the token still worked after it)"))
            return
    ctx.draft.leave_out("logout", "no logout route found")


def _refused(ctx: ProbeContext, me: DraftOperation, tokens: Tokens) -> bool:
    answer = ctx.authed("me", me, tokens)
    return answer is not None and answer.status in (401, 403)


def find_logout_all(ctx: ProbeContext) -> None:
    paths: list[tuple[str, str]] = []
    if ctx.document is not None:
        paths = [(op.method, op.path) for method in ("POST", "DELETE")
                 for op in ctx.document.find(method, r"log-?out[-_/]?(all|everywhere)$")]
    else:
        paths = [("POST", path) for path in ctx.paths(LOGOUT_ALL_PATHS, dir=ctx.directory())]
    if not paths:
        ctx.draft.leave_out("logout_all", "no logout-everywhere route found")
        return
    tokens = fresh_login(ctx)
    if tokens is None:
        ctx.draft.leave_out("logout_all", "could not log in again to try logout-everywhere")
        return
    for method, path in paths:
        answer = ctx.authed("logout_all", DraftOperation(method, path), tokens)
        if answer is not None and 200 <= answer.status < 300:
            ctx.draft.operations["logout_all"] = DraftOperation(method, path, note="observed: answered 2xx")
            ctx.draft.declare("logout_all", f"observed: {method} {path} logs out everywhere")
            ctx.say(f"logout-all: {method} {path} works")
            return
    ctx.draft.leave_out("logout_all", "no logout-everywhere route found")
