"""Contract section 3: roles and permissions. Each check tries to get a right a user should not
have (a route above their permissions, a forged role claim, a role change they may not make) and
proves, by using the right afterwards, that they did not get it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from conformance import operations_catalog
from conformance.answers import Answer
from conformance.api import Principal, Tokens
from conformance.checks._support import (
    acts_as,
    add_user,
    call_route,
    catalog_request,
    claims_of,
    find_user_id,
    gained_route,
    login,
    ok,
    other_tenant,
    role_above,
    role_field,
    users_per_role,
)
from conformance.context import CheckContext
from conformance.minting import forge, split
from conformance.operations_catalog import CatalogOperation, Request
from conformance.registry import Severity, check
from conformance.targets.base import Response
from conformance.verdict import NotApplicable

ROLE_REFS = ("ASVS 4.1.3", "ASVS 4.2.1", "API5:2023")


def _admin(ctx: CheckContext) -> tuple[Principal, Tokens]:
    """The tenant admin, logged in, with the standard controls run on its token."""
    admin = ctx.users.create("admin")
    tokens = login(ctx, admin)
    ctx.baseline(tokens)
    return admin, tokens


def _a(role: str) -> str:
    return ("an " if role[:1].lower() in "aeiou" else "a ") + role


def _set_role(ctx: CheckContext, actor: Tokens, user_id: str, role: object, note: str) -> int:
    response = ctx.api.call("user_role", auth=actor, ids={"id": user_id}, body={"role": role}, note=note)
    return response.status


def _expected(ctx: CheckContext, role: str, permission: str) -> str:
    granted = permission == "" or permission in ctx.profile.permissions.get(role, [])
    return "2xx" if granted else "403"


def _matches(expected: str, status: int) -> bool:
    return ok(status) if expected == "2xx" else status == int(expected)


@check(
    "ROLE-MATRIX",
    controls=("valid-token", "liveness"),
    title="call every declared route (every operation of the OpenAPI document, when the profile names one) "
          "anonymously and as each role; compare with the permission table",
    rule="every protected route answers 401 without a token, 403 below its permission, 2xx at and above",
    severity=Severity.HIGH,
    references=("RFC 6750 §3.1", "ASVS 4.1.1", "ASVS 4.1.3", "API5:2023"),
    needs=("roles", "user_admin"),
)
def role_matrix(ctx: CheckContext) -> None:
    # One user per role and one call per route each: the per-user API limit is never approached.
    asked = ctx.profile.roles_by_level()
    users = users_per_role(ctx, asked)
    roles = list(users)
    if len(roles) < 2:
        raise NotApplicable("the suite can get users of fewer than two roles (see [[users.accounts]])")
    ctx.cover(len(roles), len(asked), "roles", [role for role in asked if role not in users])
    sessions = {role: login(ctx, user) for role, user in users.items()}
    # Only the valid-token control: the anonymous answer is a cell of the matrix itself.
    me = ctx.api.me(sessions[roles[0]], note="control: valid token")
    ctx.record_control("valid-token", ok(me.status), f"a valid access token answered {me.status}")
    ctx.control(ok(me.status), f"a valid access token was refused ({me.status})")
    for role in roles:
        ctx.keep_alive(sessions[role], f"the {role}'s access token")
    matrix: dict[str, dict[str, int]] = {}
    wrong: list[str] = []
    skipped: list[str] = []
    if ctx.profile.openapi.document:
        _matrix_from_catalog(ctx, sessions, roles, matrix, wrong)
    for route in ctx.profile.routes if not ctx.profile.openapi.document else ():
        if not ctx.profile.offers(route.operation):
            continue
        if "{" in ctx.profile.operation(route.operation).path:
            skipped.append(route.operation)  # needs an object id; the tenancy checks cover those
            continue
        row = matrix.setdefault(route.operation, {})
        row["anonymous"] = call_route(ctx, route.operation, None, f"{route.operation} without a token").status
        if row["anonymous"] != 401:
            wrong.append(f"{route.operation} anonymous: {row['anonymous']}, want 401")
        for role in roles:
            status = call_route(ctx, route.operation, sessions[role], f"{route.operation} as {role}").status
            row[role] = status
            expected = _expected(ctx, role, route.permission)
            if not _matches(expected, status):
                wrong.append(f"{route.operation} as {role}: {status}, want {expected}")
    ctx.details["role_matrix"] = matrix
    if skipped:
        ctx.details["skipped_routes"] = skipped
    limited = [f"{op}/{who}" for op, row in matrix.items() for who, status in row.items() if status == 429]
    ctx.control(not limited, f"the rate limiter answered 429 for {', '.join(limited)}; the matrix cannot "
                             "be judged (run with a fresh window)")
    ctx.expect(not wrong, "wrong answers in the role x route matrix: " + "; ".join(wrong))


@check(
    "ROLE-CLAIM-TAMPER",
    controls=("valid-token", "no-token", "minted-twin", "liveness"),
    title="re-sign a viewer's token with the top role (and keep the original signature on a copy)",
    rule="the role in a token is never trusted over the server's record: a forged role grants nothing",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §3.1", "ASVS 4.1.2", "ASVS 3.5.3", "API5:2023"),
    needs=("roles", "minting"),
)
def claim_tamper(ctx: CheckContext) -> None:
    minter = ctx.require_minter()
    roles = ctx.profile.roles_by_level()
    low, top = roles[0], roles[-1]
    tokens = login(ctx, ctx.users.create(low))
    ctx.baseline(tokens)
    header, claims, signature = split(tokens.access)
    twin = minter.mint(claims)
    ctx.redactor.add(twin)
    held = ctx.api.accepted(twin, note="control: the real claims minted with the profile's key")
    ctx.record_control("minted-twin", held, "a token minted with the profile's key and the real claims "
                                            + ("was accepted" if held else "was refused"))
    ctx.control(held, "a token minted with the profile's signing key and the real token's claims was refused "
                      "(is [signing] the target's real key and algorithm?)")
    raised = {**claims, "role": top}
    resigned = minter.mint(raised)
    same_signature = forge(header, raised, signature)
    ctx.redactor.add(resigned, same_signature)
    forbidden = [route for route in ctx.profile.routes
                 if route.permission and route.permission not in ctx.profile.permissions.get(low, [])
                 and ctx.profile.offers(route.operation) and "{" not in ctx.profile.operation(route.operation).path]
    if not forbidden:
        raise NotApplicable(f"no declared route is closed to the lowest role ({low})")
    granted = []
    for route in forbidden:
        control = call_route(ctx, route.operation, tokens, f"{route.operation} as the real {low}")
        ctx.control(control.status == 403, f"{route.operation} as a {low} answered {control.status}, not 403")
        for label, forged in (("re-signed", resigned), ("original signature", same_signature)):
            status = call_route(ctx, route.operation, forged, f"{route.operation}, role {top} ({label})").status
            if ok(status):
                granted.append(f"{route.operation} ({label} token answered {status})")
    ctx.expect(not granted, f"{_a(low)}'s token with role \"{top}\" written into it was granted: "
                            + "; ".join(granted))


@check(
    "ROLE-NO-SELF-CHANGE",
    controls=("valid-token", "no-token", "liveness"),
    title="raise one's own role through the role route (as admin and as editor) and through me_update",
    rule="nobody changes their own role",
    severity=Severity.CRITICAL,
    references=ROLE_REFS + ("API3:2023",),
    needs=("roles", "user_admin"),
)
def no_self_change(ctx: CheckContext) -> None:
    admin, admin_tokens = _admin(ctx)
    changed: list[str] = []
    actors: list[tuple[Principal, Tokens]] = []
    if role_above(ctx, admin.role):
        admin.user_id = find_user_id(ctx, admin_tokens, admin)
        actors.append((admin, admin_tokens))
    editor_role = "editor" if "editor" in ctx.profile.roles else ctx.profile.roles_by_level()[0]
    editor = ctx.users.create(editor_role)
    editor.user_id = find_user_id(ctx, admin_tokens, editor)
    actors.append((editor, login(ctx, editor)))
    for actor, tokens in actors:
        wanted = role_above(ctx, actor.role)
        status = _set_role(ctx, tokens, actor.user_id, wanted, f"{actor.role} sets own role to {wanted}")
        if ok(status) or acts_as(ctx, tokens, actor.role, wanted, f"{actor.role} after the self-change"):
            changed.append(f"{_a(actor.role)} made themselves {wanted} via user_role (answer {status})")
    if ctx.profile.declares("password_change"):
        # A second user of the same role, so this path is judged on its own.
        user = ctx.users.create(editor_role)
        tokens = login(ctx, user)
        wanted = role_above(ctx, user.role)
        response = ctx.api.call("me_update", auth=tokens, note=f"me_update with role {wanted}",
                                body={"current_password": user.password, "role": wanted})
        # Any answer is allowed here, as long as the role did not change (a 2xx may have been taken
        # as a password change that ended the session: log in again to look).
        after = tokens if not ok(response.status) else login(ctx, user)
        if acts_as(ctx, after, user.role, wanted, f"{user.role} after me_update with a role field"):
            changed.append(f"{_a(user.role)} became {wanted} by sending a role field to me_update "
                           f"(answer {response.status})")
    ctx.expect(not changed, "; ".join(changed))


@check(
    "ROLE-NO-GRANT-ABOVE",
    controls=("valid-token", "no-token", "liveness"),
    title="as admin, promote another admin to the role above, and create a user with that role",
    rule="an actor never grants a role above their own",
    severity=Severity.CRITICAL,
    references=ROLE_REFS,
    needs=("roles", "user_admin"),
)
def no_grant_above(ctx: CheckContext) -> None:
    admin, admin_tokens = _admin(ctx)
    above = role_above(ctx, admin.role)
    if not above:
        raise NotApplicable(f"no role above {admin.role} in the profile's [roles]")
    peer = add_user(ctx, admin_tokens, admin.tenant, admin.role)
    peer.user_id = find_user_id(ctx, admin_tokens, peer)
    granted: list[str] = []
    status = _set_role(ctx, admin_tokens, peer.user_id, above, f"{admin.role} grants {above}")
    peer_tokens = login(ctx, peer)
    if ok(status) or acts_as(ctx, peer_tokens, admin.role, above, f"the {admin.role} after the grant"):
        granted.append(f"the role change to {above} answered {status} and took effect")
    created = ctx.api.call("user_create", auth=admin_tokens, note=f"{admin.role} creates a {above}",
                           body={"username": f"{peer.username}x", "password": ctx.users.password(),
                                 "role": above})
    if ok(created.status):
        granted.append(f"creating a user with role {above} answered {created.status}")
    ctx.expect(not granted, f"{_a(admin.role)} granted the role above their own: " + "; ".join(granted))


@check(
    "ROLE-ONE-LEVEL",
    controls=("valid-token", "no-token", "liveness"),
    title="promote a viewer two levels in one change (refused), then one level (allowed)",
    rule="a promotion rises at most one level per change",
    severity=Severity.HIGH,
    references=ROLE_REFS,
    needs=("roles", "user_admin"),
)
def one_level(ctx: CheckContext) -> None:
    admin, admin_tokens = _admin(ctx)
    low = ctx.profile.roles_by_level()[0]
    one_up = role_above(ctx, low)
    two_up = role_above(ctx, one_up) if one_up else ""
    if not two_up or ctx.profile.role_level(two_up) > ctx.profile.role_level(admin.role):
        raise NotApplicable("needs three roles the admin may grant to test a two-level promotion")
    user = ctx.users.create(low)
    user.user_id = find_user_id(ctx, admin_tokens, user)
    tokens = login(ctx, user)
    status = _set_role(ctx, admin_tokens, user.user_id, two_up, f"{low} -> {two_up} in one change")
    jumped = ok(status) or acts_as(ctx, tokens, low, two_up, f"the {low} after the two-level change")
    control = _set_role(ctx, admin_tokens, user.user_id, one_up, f"{low} -> {one_up} (one level)")
    ctx.control(jumped or ok(control), f"a one-level promotion {low} -> {one_up} answered {control}")
    ctx.expect(not jumped, f"{_a(low)} was promoted straight to {two_up} (answer {status})")


@check(
    "ROLE-MANAGE-USERS-ONLY",
    controls=("valid-token", "no-token", "liveness"),
    title="as each role without manage_users: list users, create a user, change a user's role",
    rule="only an actor with manage_users lists, creates or re-roles users",
    severity=Severity.HIGH,
    references=ROLE_REFS,
    needs=("roles", "user_admin"),
)
def manage_users_only(ctx: CheckContext) -> None:
    admin, admin_tokens = _admin(ctx)
    ordered = ctx.profile.roles_by_level()
    low = ordered[0]
    target = ctx.users.create(low)
    target.user_id = find_user_id(ctx, admin_tokens, target)
    actors = [role for role in ordered
              if "manage_users" not in ctx.profile.permissions.get(role, [])]
    if not actors:
        raise NotApplicable("every declared role has manage_users")
    allowed: list[str] = []
    for role in actors:
        tokens = login(ctx, ctx.users.create(role))
        for operation in ("users_list", "user_create"):
            status = call_route(ctx, operation, tokens, f"{operation} as {role}").status
            if ok(status):
                allowed.append(f"{operation} as {role} answered {status}")
        status = _set_role(ctx, tokens, target.user_id, role_above(ctx, low), f"role change as {role}")
        if ok(status):
            allowed.append(f"user_role as {role} answered {status}")
    target_tokens = login(ctx, target)
    if acts_as(ctx, target_tokens, low, role_above(ctx, low), f"the {low} after the attempts"):
        allowed.append(f"the {low}'s role was changed by a user without manage_users")
    ctx.expect(not allowed, "user administration without manage_users: " + "; ".join(allowed))


@check(
    "ROLE-NO-CROSS-TENANT",
    controls=("valid-token", "no-token", "liveness"),
    title="as the admin of tenant A, change the role of a user of tenant B",
    rule="role changes never cross tenants (a foreign user answers like a missing one)",
    severity=Severity.CRITICAL,
    references=ROLE_REFS + ("API1:2023",),
    needs=("roles", "user_admin", "tenants"),
)
def no_cross_tenant(ctx: CheckContext) -> None:
    admin, admin_tokens = _admin(ctx)
    low = ctx.profile.roles_by_level()[0]
    up = role_above(ctx, low)
    foreign = ctx.users.create(low, tenant=other_tenant(ctx, admin.tenant))
    ctx.control(foreign.tenant != admin.tenant, "the second user is in the admin's own tenant")
    if not foreign.user_id:
        raise NotApplicable(f"the id of the tenant-B user {foreign.username} is not known")
    status = _set_role(ctx, admin_tokens, foreign.user_id, up, f"tenant-A admin re-roles a tenant-B {low}")
    ctx.details["answer"] = status
    ctx.details["preferred"] = 404
    foreign_tokens = login(ctx, foreign)
    took = acts_as(ctx, foreign_tokens, low, up, f"the tenant-B {low} afterwards")
    ctx.expect(not ok(status) and not took,
               f"the admin of one tenant changed the role of another tenant's user (answer {status}"
               f"{', and the change took effect' if took else ''})")
    ctx.expect(status < 500, f"a cross-tenant role change answered {status}")


@check(
    "ROLE-UNKNOWN-REJECTED",
    controls=("valid-token", "no-token", "liveness"),
    title='set a user\'s role to "root", "", 99 and "ADMIN"; create a user with role "root"',
    rule="unknown roles are rejected with 4xx",
    severity=Severity.MEDIUM,
    references=("ASVS 5.1.3", "ASVS 4.1.3", "API3:2023"),
    needs=("roles", "user_admin"),
)
def unknown_rejected(ctx: CheckContext) -> None:
    admin, admin_tokens = _admin(ctx)
    user = ctx.users.create(ctx.profile.roles_by_level()[0])
    user.user_id = find_user_id(ctx, admin_tokens, user)
    bad: list[str] = []
    candidates: list[object] = ["root", "", 99]
    if "ADMIN" not in ctx.profile.roles:
        candidates.append("ADMIN")
    for value in candidates:
        status = _set_role(ctx, admin_tokens, user.user_id, value, f"role {value!r}")
        if not ctx.rejected(ctx.last_response):  # type: ignore[arg-type]
            bad.append(f"role change to {value!r} answered {status}")
    created = ctx.api.call("user_create", auth=admin_tokens, note='create a user with role "root"',
                           body={"username": f"{user.username}r", "password": ctx.users.password(),
                                 "role": "root"})
    if not ctx.rejected(created):
        bad.append(f"creating a user with role 'root' answered {created.status}")
    ctx.expect(not bad, "unknown roles not rejected with 4xx: " + "; ".join(bad))


@check(
    "ROLE-DEMOTION-IMMEDIATE",
    controls=("valid-token", "no-token", "liveness"),
    title="demote a logged-in editor to viewer; write again with the editor's existing token",
    rule="a demotion takes effect on the next request, whatever role the token states",
    severity=Severity.HIGH,
    references=("ASVS 4.1.2", "ASVS 3.3.1", "API5:2023"),
    needs=("roles", "user_admin"),
)
def demotion_immediate(ctx: CheckContext) -> None:
    _admin_user, admin_tokens = _admin(ctx)
    low = ctx.profile.roles_by_level()[0]
    high = role_above(ctx, low)
    route = gained_route(ctx, low, high) if high else None
    if route is None:
        raise NotApplicable(f"no declared route separates {high or 'the second role'} from {low}")
    user = ctx.users.create(high)
    user.user_id = find_user_id(ctx, admin_tokens, user)
    tokens = login(ctx, user)
    before = call_route(ctx, route.operation, tokens, f"{route.operation} as {high} (control)")
    ctx.control(ok(before.status), f"{route.operation} as a {high} answered {before.status}")
    status = _set_role(ctx, admin_tokens, user.user_id, low, f"demote {high} -> {low}")
    ctx.control(ok(status), f"the tenant admin demoting a {high} to {low} answered {status}")
    after = call_route(ctx, route.operation, tokens, f"{route.operation} with the token of before")
    ctx.expect(not ok(after.status), f"after the demotion to {low} the existing token still may "
                                     f"{route.operation} (answer {after.status})")
    ctx.details["token_role"] = claims_of(tokens.access).get("role", "")


@check(
    "ROLE-SIGNUP-NO-SUPERADMIN",
    controls=("valid-token", "no-token", "liveness"),
    title="sign up with a role field naming the top role; log in and use a right only the top role has",
    rule="no open route makes a superadmin: a sign-up that asks for the top role is refused or ignored",
    severity=Severity.CRITICAL,
    references=("ASVS 4.1.3", "ASVS 5.1.2", "API3:2023", "API5:2023"),
    needs=("signup", "roles"),
)
def signup_no_superadmin(ctx: CheckContext) -> None:
    ordered = ctx.profile.roles_by_level()
    if len(ordered) < 2:
        raise NotApplicable("the profile's [roles] has one role only, so there is no top role to ask for")
    top, below = ordered[-1], ordered[-2]
    plain = _sign_up(ctx, "plain-", below, {})
    ctx.control(ok(plain.status), f"a plain sign-up of a fresh user answered {plain.status}")
    plain_tokens = login(ctx, plain.principal)
    ctx.baseline(plain_tokens)
    observable = (gained_route(ctx, below, top) is not None or bool(role_field(ctx.api.me(plain_tokens)))
                  or "role" in claims_of(plain_tokens.access))
    if not observable:
        raise NotApplicable(f"nothing tells {_a(top)} from {_a(below)}: no declared route needs a right only "
                            f"{top} has, and neither the me answer nor the token states a role")
    ctx.control(not acts_as(ctx, plain_tokens, below, top, "control: a plain sign-up"),
                f"a plain sign-up already acts as {top}, so asking for it cannot be judged")
    asking = _sign_up(ctx, "top-", top, {"role": top})
    ctx.details["signup_asking_status"] = asking.status
    evidence: list[str] = []
    if ok(asking.status) and role_field(asking.response) == top:
        evidence.append(f"the sign-up answer states role {top}")
    answer = ctx.api.login_response(asking.principal, retry_limited=True)
    tokens = ctx.api.tokens_from(answer)
    if ok(answer.status) and tokens.ok:
        if claims_of(tokens.access).get("role") == top:
            evidence.append(f"the access token's role claim is {top}")
        if acts_as(ctx, tokens, below, top, f"the user who asked for {top}"):
            evidence.append(f"the user uses a right only {top} has, or the server states {top} as their role")
    ctx.expect(not evidence, f"a sign-up asking for role {top} made {_a(top)}: " + "; ".join(evidence))


@dataclass(frozen=True)
class _SignUp:
    principal: Principal
    response: Response

    @property
    def status(self) -> int:
        return self.response.status


def _sign_up(ctx: CheckContext, prefix: str, role: str, extra: dict[str, str]) -> _SignUp:
    """A sign-up of a fresh user (in a fresh tenant where there are tenants), with ``extra`` fields."""
    principal = Principal(ctx.users.username(prefix), ctx.users.password(), "t-" + secrets.token_hex(4), role)
    body = {"username": principal.username, "password": principal.password, **extra}
    if ctx.profile.declares("tenants"):
        body["tenant"] = principal.tenant
    return _SignUp(principal, ctx.api.call("signup", body=body, note=f"sign-up {' '.join(extra) or 'plain'}"))


# ------------------------------------------------------------------ every operation (issue 20 §2)
def _matrix_from_catalog(ctx: CheckContext, sessions: dict[str, Tokens], roles: list[str],
                         matrix: dict[str, dict[str, int]], wrong: list[str]) -> None:
    """ROLE-MATRIX over the operations of the OpenAPI document: anonymous 401 on every secured one, a
    role below its minimum refused (403, or a declared refusal other than 401), a role at or above not
    refused on reads. A state-changing operation is judged for its refusals only (and only where
    [safety] mutate allows it): its success would change the target, and its 403 may be about the body."""
    catalog = operations_catalog.catalog(ctx)
    mutate = operations_catalog.mutation_allowed(ctx)
    protected = [op for op in catalog.protected() if op.safe or mutate]
    chosen, sampled_out = operations_catalog.sample(protected, ctx.profile.limits.operations)
    not_judged: dict[str, str] = {op.label: "state-changing, and [safety] mutate is off"
                                  for op in catalog.protected() if op not in protected}
    not_judged.update({op.label: "left out of the sample" for op in sampled_out})
    refusal = [status for status in ctx.profile.target.refusal_statuses if status != 401]
    for op in chosen:
        request = catalog_request(ctx, op)
        row = matrix.setdefault(op.label, {})
        row["anonymous"] = operations_catalog.send(ctx, request, None, f"{op.label} without a token").status
        if row["anonymous"] != 401:
            wrong.append(f"{op.label} anonymous: {row['anonymous']}, want 401")
        for role in roles:
            below = ctx.profile.role_level(role) < ctx.profile.role_level(op.min_role)
            if not below and not op.safe:
                continue  # the call would do what it says; its refusals are what is judged here
            status = operations_catalog.send(ctx, request, sessions[role].access, f"{op.label} as {role}").status
            row[role] = status
            if status >= 500 or status == 429 or (status == 404 and op.parameters):
                continue  # says nothing about the role (a missing object answers the same to everyone)
            if below and status not in refusal:
                wrong.append(f"{op.label} as {role}: {status}, want {' or '.join(map(str, refusal))} "
                             f"(its minimum role is {op.min_role})")
            elif not below and ctx.answer(ctx.last_response) is Answer.REFUSED:  # type: ignore[arg-type]
                wrong.append(f"{op.label} as {role}: {status}, a refusal at or above its minimum role {op.min_role}")
    ctx.details["operations"] = {"source": catalog.source, "judged": len(chosen), "not_judged": not_judged}
    roles_whole = ctx.coverage is None or ctx.coverage["judged"] == ctx.coverage["asked"]
    if roles_whole and (sampled_out or len(protected) < len(catalog.protected())):
        ctx.cover(len(chosen), len(catalog.protected()), "protected operations", list(not_judged))


def _declared_methods(ctx: CheckContext, catalog: operations_catalog.Catalog) -> dict[str, set[str]]:
    """path -> the methods the target declares on it (every described operation of a profile)."""
    found: dict[str, set[str]] = {}
    if ctx.profile.openapi.document:
        for op in catalog.operations:
            found.setdefault(op.path, set()).add(op.method)
    else:
        for described in ctx.profile.operations.values():
            found.setdefault(described.path, set()).add(described.method)
    return found


def _guarded_reads(ctx: CheckContext) -> tuple[operations_catalog.Catalog, list[CatalogOperation],
                                                list[CatalogOperation]]:
    """The catalog, its protected GET operations without path parameters (sampled), and those left out."""
    catalog = operations_catalog.catalog(ctx)
    reads = [op for op in catalog.protected() if op.method == "GET" and not op.parameters]
    if not reads:
        raise NotApplicable(f"{catalog.source} has no protected GET operation without path parameters")
    chosen, left_out = operations_catalog.sample(reads, ctx.profile.limits.operations)
    return catalog, chosen, left_out


def _probe_guard(ctx: CheckContext, kind: str, probes: dict[CatalogOperation, list[tuple[str, Request]]]) -> None:
    """Each probe (a variant of a guarded read) as anonymous and as the lowest role where that role is
    below the operation's minimum: neither may be accepted. The operation itself, asked the same way,
    must refuse them first (else ROLE-MATRIX's rule is broken, not this one)."""
    low = ctx.profile.roles_by_level()[0]
    tokens = login(ctx, ctx.users.create(low))
    ctx.baseline(tokens)
    reached: list[str] = []
    judged: list[str] = []
    not_judged: dict[str, str] = {}
    for op, variants in probes.items():
        request = catalog_request(ctx, op)
        callers: dict[str, str | None] = {"anonymous": None}
        if ctx.profile.role_level(low) < ctx.profile.role_level(op.min_role):
            callers[low] = tokens.access
        for who, token in list(callers.items()):
            control = operations_catalog.send(ctx, request, token, f"{op.label} as {who} (control)")
            if ctx.answer(control) is not Answer.REFUSED:
                del callers[who]
                not_judged[f"{op.label} as {who}"] = f"the operation itself answered {control.status}"
        if not callers or not variants:
            continue
        judged.append(op.label)
        for label, variant in variants:
            for who, token in callers.items():
                response = operations_catalog.send(ctx, variant, token, f"{variant.method} {variant.path} as {who}")
                if ok(response.status):
                    ctx.decisive()
                    reached.append(f"{variant.method} {variant.path} ({label}) as {who}: {response.status}")
    ctx.details[kind] = {"judged": judged, "not_judged": not_judged}
    if not judged:
        raise NotApplicable("no guarded read refused the anonymous caller or the lowest role: "
                            + "; ".join(f"{k}: {v}" for k, v in list(not_judged.items())[:4]))
    ctx.expect(not reached, "the guard of a protected route was bypassed: " + "; ".join(reached))


@check(
    "ROLE-METHOD-SWITCH",
    controls=("valid-token", "no-token", "liveness"),
    title="send PUT, PATCH, DELETE and POST to the path of every protected GET route that does not declare "
          "them, anonymously and as the lowest role",
    rule="a route's guard covers every method it answers: a method it does not declare is refused or "
         "unknown (401, 403, 404, 405), never served to a caller its declared method refuses",
    severity=Severity.HIGH,
    references=("ASVS 4.1.1", "ASVS 4.1.3", "ASVS 13.1.1", "API5:2023"),
)
def method_switch(ctx: CheckContext) -> None:
    if not operations_catalog.mutation_allowed(ctx):
        raise NotApplicable("[safety] mutate is off, and PUT, PATCH or DELETE on a route are state-changing "
                            "probes (set [safety] mutate = true for a test deployment)")
    catalog, chosen, left_out = _guarded_reads(ctx)
    declared = _declared_methods(ctx, catalog)
    probes = {}
    for op in chosen:
        base = catalog_request(ctx, op)
        switched = [method for method in operations_catalog.UNSAFE_METHODS if method not in declared.get(op.path, ())]
        probes[op] = [(f"{method} instead of GET", base.varied(method=method)) for method in switched]
    if left_out:
        ctx.cover(len(chosen), len(chosen) + len(left_out), "guarded reads", [op.label for op in left_out])
    _probe_guard(ctx, "method_switch", probes)


def path_variants(path: str, known: set[str]) -> list[tuple[str, str]]:
    """Spellings of ``path`` a guard comparing strings may miss: the trailing slash toggled, each
    segment capitalised, all upper case (none that the target declares itself)."""
    toggled = path[:-1] if path.endswith("/") and path != "/" else path + "/"
    capitalised = "/".join(part[:1].upper() + part[1:] for part in path.split("/"))
    found = [("trailing slash" if toggled.endswith("/") else "no trailing slash", toggled),
             ("segments capitalised", capitalised), ("upper case", path.upper())]
    seen: set[str] = {path}
    kept = []
    for label, variant in found:
        if variant not in seen and variant not in known:
            seen.add(variant)
            kept.append((label, variant))
    return kept


@check(
    "ROLE-PATH-VARIANT",
    controls=("valid-token", "no-token", "liveness"),
    title="call every protected GET route with its path's trailing slash toggled, capitalised and upper "
          "case, anonymously and as the lowest role",
    rule="a route's guard holds for every spelling of its path the router accepts: a trailing-slash or "
         "letter-case variant is refused or unknown, never served to a caller the route refuses",
    severity=Severity.HIGH,
    references=("ASVS 4.1.1", "ASVS 4.1.3", "CWE-178", "API5:2023"),
)
def path_variant(ctx: CheckContext) -> None:
    catalog, chosen, left_out = _guarded_reads(ctx)
    known = catalog.paths() | {op.path for op in ctx.profile.operations.values()}
    probes = {}
    for op in chosen:
        base = catalog_request(ctx, op)
        probes[op] = [(label, base.varied(path=variant)) for label, variant in path_variants(base.path, known)]
    if left_out:
        ctx.cover(len(chosen), len(chosen) + len(left_out), "guarded reads", [op.label for op in left_out])
    _probe_guard(ctx, "path_variants", probes)
