"""Contract section 8: cookie mode. Token cookies carry HttpOnly, Secure and SameSite; the refresh
cookie only travels to the refresh operation; cookie-authenticated writes need the CSRF header
(double submit); logout clears the token cookies."""

from __future__ import annotations

import secrets

from conformance.api import Tokens
from conformance.context import CheckContext
from conformance.registry import Severity, check
from conformance.targets.base import Response, SetCookie

# Operations that may legitimately receive the refresh cookie besides refresh itself.
REFRESH_COOKIE_PEERS = frozenset({"refresh", "logout", "logout_all"})


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _login(ctx: CheckContext, role: str = "viewer") -> tuple[Response, Tokens]:
    user = ctx.users.create(role)
    response = ctx.api.login_response(user)
    tokens = ctx.api.tokens_from(response)
    ctx.control(_ok(response.status) and tokens.ok,
                f"login of a valid {role} answered {response.status} without token cookies")
    ctx.baseline(tokens)
    return response, tokens


def _token_cookie_names(ctx: CheckContext) -> list[str]:
    names = [ctx.profile.tokens.access_cookie]
    if ctx.profile.declares("refresh"):
        names.append(ctx.profile.tokens.refresh_cookie)
    return names


def _default_path(request_path: str) -> str:
    """RFC 6265 §5.1.4 default-path: the request path up to, not including, its last slash."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[:request_path.rfind("/")]


def _cookie_path(cookie: SetCookie, request_path: str) -> str:
    return cookie.path if cookie.path.startswith("/") else _default_path(request_path)


def _path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4: would a cookie with ``cookie_path`` be sent to ``request_path``?"""
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


@check(
    "COOK-FLAGS",
    controls=("valid-token", "no-token", "liveness"),
    title="log in (and refresh) and read the attributes of the token cookies",
    rule="token cookies are HttpOnly, Secure, and SameSite=Lax or Strict",
    severity=Severity.HIGH,
    references=("RFC 6265 §4.1.2.5", "RFC 6265 §4.1.2.6", "ASVS 3.4.1", "ASVS 3.4.2", "ASVS 3.4.3"),
    needs=("cookies",),
)
def cookie_flags(ctx: CheckContext) -> None:
    login, tokens = _login(ctx)
    answers = [("login", login)]
    if ctx.profile.declares("refresh"):
        refreshed = ctx.api.refresh_response(tokens)
        ctx.control(_ok(refreshed.status), f"refresh with a fresh refresh cookie answered {refreshed.status}")
        answers.append(("refresh", refreshed))
    problems: list[str] = []
    for operation, response in answers:
        for name in _token_cookie_names(ctx):
            cookie = response.cookie(name)
            if cookie is None or cookie.clears:
                ctx.control(operation != "login", f"login set no {name} cookie")
                continue
            missing = [flag for flag, present in (("HttpOnly", cookie.http_only), ("Secure", cookie.secure))
                       if not present]
            if missing:
                problems.append(f"{name} cookie from {operation} lacks {' and '.join(missing)}")
            if cookie.same_site.lower() not in ("lax", "strict"):
                shown = cookie.same_site or "no SameSite attribute"
                problems.append(f"{name} cookie from {operation} has {shown}, not SameSite=Lax or Strict")
    ctx.details["problems"] = problems
    ctx.expect(not problems, "; ".join(problems))


@check(
    "COOK-REFRESH-PATH",
    controls=("valid-token", "no-token", "liveness"),
    title="log in and read the Path of the refresh cookie against every operation's path",
    rule="the refresh cookie is path-restricted to the refresh endpoint",
    severity=Severity.MEDIUM,
    references=("RFC 6265 §4.1.2.4", "ASVS 3.4.5", "RFC 9700 §4.14"),
    needs=("cookies", "refresh"),
)
def refresh_cookie_path(ctx: CheckContext) -> None:
    login, _tokens = _login(ctx)
    name = ctx.profile.tokens.refresh_cookie
    cookie = login.cookie(name)
    ctx.control(cookie is not None and not cookie.clears, f"login set no {name} cookie")
    assert cookie is not None
    login_path = ctx.profile.operation("login").path
    path = _cookie_path(cookie, login_path)
    refresh_path = ctx.profile.operation("refresh").path
    ctx.details["refresh_cookie_path"] = path
    ctx.expect(_path_matches(refresh_path, path),
               f"the refresh cookie's Path {path} does not cover the refresh route {refresh_path}, "
               "so refreshing cannot work")
    exposed = sorted({op.path for op_name, op in ctx.profile.operations.items()
                      if op_name not in REFRESH_COOKIE_PEERS and ctx.profile.offers(op_name)
                      and _path_matches(op.path.split("{")[0], path)})
    ctx.details["other_routes_receiving_it"] = exposed
    ctx.expect(not exposed, f"the refresh cookie has Path={path}, so browsers send it to other routes too "
                            f"({', '.join(exposed[:4])})")


def _write_operation(ctx: CheckContext) -> tuple[str, str, dict[str, str]]:
    """A harmless state-changing operation the user can do: (operation, role, body)."""
    if ctx.profile.offers("document_create"):
        for role in ctx.profile.roles_by_level():
            if "write" in ctx.profile.permissions.get(role, []):
                return "document_create", role, {"title": "csrf probe", "body": "written by authconform"}
    return "logout", (ctx.profile.roles_by_level() or ["viewer"])[0], {}


@check(
    "COOK-CSRF",
    controls=("valid-token", "no-token", "liveness"),
    title="make a cookie-authenticated write without the CSRF header, with a wrong one, and with the right one",
    rule="state-changing requests authenticated by cookies need the CSRF token (double submit)",
    severity=Severity.HIGH,
    references=("ASVS 4.2.2", "ASVS 3.5.1", "API2:2023"),
    needs=("cookies",),
)
def csrf(ctx: CheckContext) -> None:
    operation, role, body = _write_operation(ctx)
    _response, tokens = _login(ctx, role)
    header = ctx.profile.tokens.csrf_header
    without = ctx.api.call(operation, auth=tokens, csrf=False, body=body or None,
                           note="cookie-authenticated write without the CSRF header")
    forged = ctx.api.call(operation, auth=tokens, csrf=False, body=body or None,
                          headers={header: secrets.token_urlsafe(16)},
                          note="cookie-authenticated write with a wrong CSRF header")
    ctx.details["statuses"] = {"without_header": without.status, "wrong_header": forged.status}
    ctx.expect(without.status in (401, 403),
               f"a cookie-authenticated {operation} without the CSRF header answered {without.status}")
    ctx.expect(forged.status in (401, 403),
               f"a cookie-authenticated {operation} with a wrong CSRF header answered {forged.status}")
    with_header = ctx.api.call(operation, auth=tokens, body=body or None,
                               note="control: the same write with the CSRF header")
    ctx.control(_ok(with_header.status),
                f"the {operation} with the right CSRF header answered {with_header.status}")


@check(
    "COOK-LOGOUT-CLEARS",
    controls=("valid-token", "no-token", "liveness"),
    ends_credential=True,
    title="log out and read the Set-Cookie lines of the answer",
    rule="logout clears the token cookies",
    severity=Severity.MEDIUM,
    references=("ASVS 3.3.1", "RFC 6265 §3.1"),
    needs=("cookies", "logout"),
)
def logout_clears(ctx: CheckContext) -> None:
    login, tokens = _login(ctx)
    login_path = ctx.profile.operation("login").path
    set_paths = {}
    for name in _token_cookie_names(ctx):
        cookie = login.cookie(name)
        ctx.control(cookie is not None, f"login set no {name} cookie")
        assert cookie is not None
        set_paths[name] = _cookie_path(cookie, login_path)
    response = ctx.api.call("logout", auth=tokens, note="logout")
    ctx.control(_ok(response.status), f"logout with valid cookies answered {response.status}")
    logout_path = ctx.profile.operation("logout").path
    problems = []
    for name, path in set_paths.items():
        clearing = [c for c in response.set_cookies() if c.name == name and c.clears]
        if not clearing:
            problems.append(f"logout does not clear the {name} cookie")
        elif not any(_cookie_path(c, logout_path) == path for c in clearing):
            problems.append(f"logout clears the {name} cookie on another Path than it was set on ({path}), "
                            "so browsers keep it")
    ctx.expect(not problems, "; ".join(problems))
