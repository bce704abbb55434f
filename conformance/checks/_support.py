"""Small helpers shared by the role, session, tenancy and rate-limit checks.

Nothing here judges a target; these only speak the contract's operations in a way that copes
with the target's declared limits (a login limit, an API limit) and with the usual answer shapes.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from conformance import operations_catalog
from conformance.api import Principal, Tokens
from conformance.context import CheckContext
from conformance.minting import split
from conformance.operations_catalog import CatalogOperation, Request
from conformance.profile import Route
from conformance.targets.base import Response
from conformance.verdict import CannotJudge, NotApplicable


def ok(status: int) -> bool:
    return 200 <= status < 300


def pass_time(ctx: CheckContext, seconds: float, why: str, *, bound: float | None = None) -> None:
    """Let ``seconds`` pass on the target: the clock in-process, else a wait bounded by max_wait
    (or by ``bound``, for a wait the target's own declared period bounds, such as a TOTP step).
    Every wait of a check goes through here (one place a scheduler can overlap them)."""
    if ctx.target.clock is not None:
        ctx.clock.advance(seconds)
        return
    may_wait(ctx, seconds, why, bound=bound)
    ctx.sleep(seconds, why)


def may_wait(ctx: CheckContext, seconds: float, why: str, *, bound: float | None = None) -> None:
    """Not applicable when ``seconds`` of real waiting is more than target.max_wait (or ``bound``) allows."""
    if ctx.target.clock is not None:
        return
    if bound is not None:
        if seconds > bound:
            raise NotApplicable(f"{why} needs {seconds:g} s to pass, more than the {bound:g} s it is bounded by")
        return
    limit = ctx.profile.target.max_wait
    if seconds > limit:
        raise NotApplicable(f"{why} needs {seconds:g} s to pass, more than target.max_wait "
                            f"({limit:g} s) allows without a controllable clock")


def fresh_login_window(ctx: CheckContext) -> None:
    """Start from fresh login-limiter windows (earlier logins of this check or others used them): a
    client address nobody used where the check can change its own and its users are its own
    (sign-up), else a real wait for the window to pass."""
    if ctx.profile.declares("rate_limit_login"):
        if ctx.profile.users.source != "accounts" and ctx.fresh_address():
            return
        try:
            pass_time(ctx, ctx.profile.rate_limits.login_window + 1, "starting in a fresh login window")
        except NotApplicable as exc:  # a check that needs an unspent budget and cannot get one
            raise CannotJudge(f"cannot start from an unspent login budget: {exc}") from None


def login(ctx: CheckContext, user: Principal, *, worker: int = 0, extra: dict[str, Any] | None = None,
          headers: dict[str, str] | None = None) -> Tokens:
    """A successful login (a negative control); when the login limiter answers 429, the login
    window is let pass once and the login retried, so a check may log one account in often."""
    response = ctx.api.login_response(user, worker=worker, extra=extra, headers=headers)
    if response.status == 429 and ctx.profile.declares("rate_limit_login"):
        pass_time(ctx, ctx.profile.rate_limits.login_window + 1, "logging in past the login limit")
        response = ctx.api.login_response(user, worker=worker, extra=extra, headers=headers)
    tokens = ctx.api.tokens_from(response)
    ctx.control(ok(response.status) and tokens.ok,
                f"login of a valid {user.role} answered {response.status} without tokens")
    return tokens


def claims_of(token: str) -> dict[str, Any]:
    try:
        return split(token)[1]
    except (ValueError, TypeError):
        return {}


def session_id(tokens: Tokens) -> str:
    """The session id of a login: from the answer, else the access token's ``sid`` claim."""
    if tokens.session_id:
        return tokens.session_id
    sid = claims_of(tokens.access).get("sid")
    return str(sid) if isinstance(sid, (str, int)) else ""


def rows(listing: Any) -> list[Any]:
    """The rows of a list answer: a bare list, or the first list inside an object."""
    if isinstance(listing, list):
        return listing
    if isinstance(listing, dict):
        for value in listing.values():
            if isinstance(value, list):
                return value
    return []


def missing_id(existing: str) -> str:
    """An id of the same form as ``existing`` that names no object."""
    if existing.isdigit():
        return str(int(existing) + 987_654_321)
    try:
        uuid.UUID(existing)
        fresh = uuid.uuid4()
        return str(fresh) if "-" in existing else fresh.hex
    except ValueError:
        return secrets.token_hex(max(8, len(existing) // 2))[: max(len(existing), 16)]


def role_field(response: Response) -> str:
    """The role a ``me`` answer states (``role`` at the top or under ``user``), or ""."""
    data = response.json()
    if isinstance(data, dict):
        nested = data.get("user")
        user: dict[str, Any] = nested if isinstance(nested, dict) else data
        if isinstance(user.get("role"), str):
            return str(user["role"])
    return ""


def role_above(ctx: CheckContext, role: str) -> str:
    """The next role up the hierarchy, or "" at the top."""
    ordered = ctx.profile.roles_by_level()
    index = ordered.index(role)
    return ordered[index + 1] if index + 1 < len(ordered) else ""


def route_body(ctx: CheckContext, operation: str) -> dict[str, Any] | None:
    """A valid body for an operation that needs one (so only the permission decides the answer)."""
    if operation in ("document_create", "document_update"):
        return {"title": "authconform " + secrets.token_hex(4), "body": "written by the suite"}
    if operation == "user_create":
        return {"username": ctx.users.username("u-"), "password": ctx.users.password(),
                "role": ctx.profile.roles_by_level()[0]}
    return None


def route_for(ctx: CheckContext, permissions: set[str]) -> Route | None:
    """A declared route (without ids) needing one of ``permissions``; reads are preferred."""
    candidates = [route for route in ctx.profile.routes
                  if route.permission in permissions and ctx.profile.offers(route.operation)
                  and "{" not in ctx.profile.operation(route.operation).path]
    candidates.sort(key=lambda route: ctx.profile.operation(route.operation).method != "GET")
    return candidates[0] if candidates else None


def call_route(ctx: CheckContext, operation: str, auth: Tokens | str | None, note: str) -> Response:
    return ctx.api.call(operation, auth=auth, body=route_body(ctx, operation), note=note)


def gained_route(ctx: CheckContext, below: str, above: str) -> Route | None:
    """A route the role ``above`` may use and ``below`` may not (evidence of a promotion)."""
    perms = ctx.profile.permissions
    return route_for(ctx, set(perms.get(above, [])) - set(perms.get(below, [])))


def acts_as(ctx: CheckContext, tokens: Tokens | str, below: str, above: str, note: str) -> bool:
    """Does a user who should hold ``below`` use a right only ``above`` has, or does the server
    state ``above`` as their role? Either is evidence they hold ``above``."""
    route = gained_route(ctx, below, above)
    if route is not None and ok(call_route(ctx, route.operation, tokens, f"{note}: {route.operation}").status):
        return True
    me = ctx.api.me(tokens, note=f"{note}: role the server states")
    return role_field(me) == above


def find_user_id(ctx: CheckContext, admin_tokens: Tokens, user: Principal) -> str:
    """The user's id: known from its creation, else looked up in the admin's users list."""
    if user.user_id:
        return user.user_id
    listing = ctx.api.call("users_list", auth=admin_tokens, note="find the user's id")
    for row in rows(listing.json()):
        if isinstance(row, dict) and row.get("username") == user.username and ctx.api.row_id("users_list", row):
            user.user_id = ctx.api.row_id("users_list", row)
            return user.user_id
    raise NotApplicable(f"the id of user {user.username} is not known (not in the creation answer nor "
                        "in the users list)")


def other_tenant(ctx: CheckContext, than: str) -> str:
    """A tenant other than ``than``: a fresh one with sign-up, else one of the declared accounts'."""
    if ctx.profile.users.source != "accounts":
        return "t-" + secrets.token_hex(4)
    for account in ctx.profile.users.accounts:
        if account.tenant and account.tenant != than:
            return account.tenant
    raise NotApplicable("needs accounts in a second tenant in [[users.accounts]]")


def users_per_role(ctx: CheckContext, roles: list[str], tenant: str | None = None) -> dict[str, Principal]:
    """A user for each role the suite can get (sign-up, provisioning or a declared account); the
    roles it cannot get are listed in ``ctx.details["roles_not_tested"]``."""
    users: dict[str, Principal] = {}
    for role in roles:
        try:
            users[role] = ctx.users.create(role, tenant=tenant)
        except NotApplicable:
            ctx.details.setdefault("roles_not_tested", []).append(role)
    return users


def add_user(ctx: CheckContext, admin_tokens: Tokens, tenant: str, role: str) -> Principal:
    """A user of ``role`` created by the tenant admin behind ``admin_tokens`` (a control)."""
    principal = Principal(ctx.users.username("u-"), ctx.users.password(), tenant, role)
    response = ctx.api.call("user_create", auth=admin_tokens, note=f"admin creates a {role}",
                            body={"username": principal.username, "password": principal.password, "role": role})
    ctx.control(ok(response.status), f"the tenant admin creating a {role} answered {response.status}")
    principal.user_id = ctx.api.object_id("user_create", response, {"username": principal.username})
    return principal


def listed_session_ids(listing: Any) -> set[str]:
    """Every value under an id-like key anywhere in a sessions listing."""
    found: set[str] = set()
    if isinstance(listing, dict):
        for key, value in listing.items():
            if key.lower() in ("id", "session_id", "sid", "sessionid") and isinstance(value, (str, int)):
                found.add(str(value))
            else:
                found |= listed_session_ids(value)
    elif isinstance(listing, list):
        for item in listing:
            found |= listed_session_ids(item)
    return found


def catalog_request(ctx: CheckContext, op: CatalogOperation, ids: dict[str, str] | None = None) -> Request:
    """A valid request for a catalog operation: the suite's own body for a profile route, Schemathesis'
    positive data for an operation of the OpenAPI document."""
    body = route_body(ctx, op.name) if op.source == "profile" else None
    return operations_catalog.request_for(ctx, op, ids=ids, body=body)


def top_session(ctx: CheckContext) -> tuple[str, Tokens]:
    """A user of the highest role the suite can get, logged in, with the standard controls run: its
    token is refused nowhere for its role, so a refusal of a forgery of it is about the forgery."""
    roles = ctx.profile.roles_by_level() or ["viewer"]
    for role in reversed(roles):
        try:
            user = ctx.users.create(role)
        except NotApplicable:
            continue
        tokens = login(ctx, user)
        tokens.user = user
        ctx.baseline(tokens)
        return role, tokens
    raise NotApplicable("the suite can get a user of none of the profile's roles (see [[users.accounts]])")


def own_user(ctx: CheckContext, role: str, besides: Principal | None) -> Principal | None:
    """A fresh user of ``role`` (or a fresh tenant admin) that a probe may log out or delete, other than
    ``besides``; None when the users are pre-provisioned accounts, which the suite never spends."""
    if ctx.profile.users.source == "accounts":
        return None
    try:
        return ctx.users.create(role, distinct_from=besides)
    except NotApplicable:
        pass
    if ctx.profile.declares("signup"):
        fresh = ctx.users.tenant_admin()
        if besides is None or fresh.username != besides.username:
            return fresh
    return None
