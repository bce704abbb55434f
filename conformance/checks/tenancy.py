"""Contract section 5: tenant isolation and object access. Tenant A owns a document with a unique
marker in its title; users of tenant B (and other users of A) try to reach it every way a real
API has been fooled: by id, through headers, query and body parameters, and list filters."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from conformance.api import Principal, Tokens
from conformance.checks._support import (
    acts_as,
    claims_of,
    gained_route,
    login,
    missing_id,
    ok,
    other_tenant,
    role_field,
    rows,
    users_per_role,
)
from conformance.context import CheckContext
from conformance.registry import Level, Severity, check
from conformance.targets.base import Response
from conformance.verdict import NotApplicable

TEN_REFS = ("ASVS 4.2.1", "ASVS 4.1.2", "API1:2023")
SPOOF_HEADERS = ("X-Tenant-ID", "X-Tenant", "X-Org-ID")


@dataclass
class Doc:
    id: str
    marker: str  # unique text in the title: finding it in an answer means the document leaked


@dataclass
class Member:
    user: Principal
    tokens: Tokens


def _member(ctx: CheckContext, role: str, tenant: str | None = None) -> Member:
    user = ctx.users.create(role, tenant=tenant)
    return Member(user, login(ctx, user))


def _create_doc(ctx: CheckContext, owner: Member, body: dict[str, Any] | None = None) -> Doc:
    marker = "authconform-" + secrets.token_hex(8)
    response = ctx.api.call("document_create", auth=owner.tokens, note=f"{owner.user.role} creates a document",
                            body={"title": marker, "body": "tenant isolation probe", **(body or {})})
    ctx.control(ok(response.status), f"a {owner.user.role} creating a document answered {response.status}")
    doc_id = ctx.api.object_id("document_create", response, {"title": marker})
    ctx.control(bool(doc_id), "the document creation answer holds no id")
    return Doc(doc_id, marker)


def _get(ctx: CheckContext, tokens: Tokens | None, doc_id: str, note: str, **kwargs: Any) -> Response:
    return ctx.api.call("document_get", auth=tokens, ids={"id": doc_id}, note=note, **kwargs)


def _update(ctx: CheckContext, tokens: Tokens | None, doc_id: str, note: str, **kwargs: Any) -> Response:
    body = {"title": "overwritten-" + secrets.token_hex(4), "body": "overwritten", **kwargs.pop("body", {})}
    return ctx.api.call("document_update", auth=tokens, ids={"id": doc_id}, body=body, note=note, **kwargs)


def _delete(ctx: CheckContext, tokens: Tokens | None, doc_id: str, note: str, **kwargs: Any) -> Response:
    return ctx.api.call("document_delete", auth=tokens, ids={"id": doc_id}, note=note, **kwargs)


def _list(ctx: CheckContext, tokens: Tokens | None, note: str, **kwargs: Any) -> Response:
    return ctx.api.call("documents_list", auth=tokens, note=note, **kwargs)


def _intact(ctx: CheckContext, owner: Member, doc: Doc) -> bool:
    """The owner still reads the document with its original title."""
    response = _get(ctx, owner.tokens, doc.id, "owner reads the document afterwards")
    return ok(response.status) and doc.marker in response.text


def _tenant_values(member: Member) -> list[str]:
    """Ways a client could name a tenant: its name and the token's tid claim."""
    values = [member.user.tenant, str(claims_of(member.tokens.access).get("tid", ""))]
    return [v for i, v in enumerate(values) if v and v not in values[:i]]


def _user_values(member: Member) -> list[str]:
    values = [member.user.user_id, str(claims_of(member.tokens.access).get("sub", ""))]
    return [v for i, v in enumerate(values) if v and v not in values[:i]]


def _shape(response: Response) -> tuple[int, tuple[str, ...], str]:
    """What a client can compare between two answers: status, body keys and error code."""
    data = response.json()
    if isinstance(data, dict):
        error = data.get("error")
        return response.status, tuple(sorted(data)), error if isinstance(error, str) else ""
    return response.status, (type(data).__name__,), ""


@check(
    "TEN-OBJECT-ACCESS",
    controls=("valid-token", "no-token", "liveness"),
    title="an editor's document: read and changed by its owner and the tenant admin, not by another editor",
    rule="a user reads and changes their own resources; an admin any in their tenant; other users none",
    severity=Severity.HIGH,
    references=TEN_REFS,
    needs=("tenants", "documents"),
)
def object_access(ctx: CheckContext) -> None:
    owner = _member(ctx, "editor")
    ctx.baseline(owner.tokens)
    peer = _member(ctx, "editor")
    admin = _member(ctx, "admin")
    doc = _create_doc(ctx, owner)
    read = _get(ctx, owner.tokens, doc.id, "owner reads own document")
    ctx.expect(ok(read.status), f"the owner could not read their own document ({read.status})")
    changed = _update(ctx, owner.tokens, doc.id, "owner updates own document", body={"title": doc.marker})
    ctx.expect(ok(changed.status), f"the owner could not update their own document ({changed.status})")
    absent = missing_id(doc.id)
    reached = []
    for verb, call in (("read", _get), ("update", _update), ("delete", _delete)):
        missing = _shape(call(ctx, peer.tokens, absent, f"another editor tries to {verb} a missing id"))
        foreign = _shape(call(ctx, peer.tokens, doc.id, f"another editor tries to {verb} it"))
        if ok(foreign[0]) or foreign != missing:
            reached.append(f"{verb}: {foreign[0]} (a missing id: {missing[0]})")
    ctx.expect(not reached, "another editor of the tenant was not answered as for a missing document: "
                            + ", ".join(reached))
    ctx.expect(_intact(ctx, owner, doc), "another editor changed or deleted someone else's document")
    for verb, call in (("read", _get), ("update", _update), ("delete", _delete)):
        status = call(ctx, admin.tokens, doc.id, f"tenant admin {verb}s it").status
        ctx.expect(ok(status), f"the tenant admin could not {verb} a document of their tenant ({status})")


@dataclass(frozen=True)
class Probe:
    """One role of tenant B doing one thing to tenant A's document and to a missing id."""

    role: str
    verb: str
    foreign: tuple[int, tuple[str, ...], str]
    missing: tuple[int, tuple[str, ...], str]


def _foreign_and_missing(ctx: CheckContext) -> tuple[Member, Doc, list[Probe]]:
    """Every role of a second tenant reads, updates and deletes tenant A's document and a missing
    id; the shapes of the two answers side by side."""
    owner = _member(ctx, "editor")
    ctx.baseline(owner.tokens)
    doc = _create_doc(ctx, owner)
    absent = missing_id(doc.id)
    tenant_b = other_tenant(ctx, owner.user.tenant)
    foreign_users = users_per_role(ctx, ctx.profile.roles_by_level(), tenant_b)
    if not foreign_users:
        raise NotApplicable(f"the suite can get no user of a second tenant ({tenant_b})")
    probes = []
    for role, user in foreign_users.items():
        member = Member(user, login(ctx, user))
        for verb, call in (("read", _get), ("update", _update), ("delete", _delete)):
            missing = _shape(call(ctx, member.tokens, absent, f"tenant-B {role} {verb}s a missing id"))
            foreign = _shape(call(ctx, member.tokens, doc.id, f"tenant-B {role} {verb}s A's document"))
            ctx.control(missing[0] != 429 and foreign[0] != 429, "the rate limiter answered 429")
            probes.append(Probe(role, verb, foreign, missing))
    return owner, doc, probes


@check(
    "TEN-CROSS-TENANT-404",
    controls=("valid-token", "no-token", "liveness"),
    title="every role of tenant B reads, updates and deletes tenant A's document and a missing id",
    rule="a cross-tenant object answers with the status of a missing one (404), so ids do not leak",
    severity=Severity.CRITICAL,
    references=TEN_REFS + ("ASVS 4.2.2",),
    needs=("tenants", "documents"),
)
def cross_tenant_404(ctx: CheckContext) -> None:
    owner, doc, probes = _foreign_and_missing(ctx)
    differences = [f"{p.role} {p.verb}: {p.foreign[0]} vs missing {p.missing[0]}"
                   for p in probes if p.foreign[0] != p.missing[0]]
    ctx.expect(not differences, "tenant A's document answers unlike a missing one: " + "; ".join(differences))
    ctx.expect(_intact(ctx, owner, doc), "tenant B changed or deleted tenant A's document")


@check(
    "TEN-CROSS-TENANT-BODY",
    # The status is the MUST (TEN-CROSS-TENANT-404); a body that tells the two apart leaks less
    # plainly, and the contract's "exactly like" asks it of the body as a SHOULD.
    level=Level.SHOULD,
    controls=("valid-token", "no-token", "liveness"),
    title="every role of tenant B asks for tenant A's document and a missing id; compare the bodies",
    rule="a cross-tenant object SHOULD answer with the body of a missing one (the same fields and error code)",
    severity=Severity.MEDIUM,
    references=TEN_REFS + ("ASVS 4.2.2",),
    needs=("tenants", "documents"),
)
def cross_tenant_body(ctx: CheckContext) -> None:
    _owner, _doc, probes = _foreign_and_missing(ctx)
    differences = [f"{p.role} {p.verb}: {list(p.foreign[1])} {p.foreign[2]!r} vs missing {list(p.missing[1])} "
                   f"{p.missing[2]!r}" for p in probes if p.foreign[1:] != p.missing[1:]]
    ctx.expect(not differences, "tenant A's document answers with another body than a missing one: "
               + "; ".join(differences))


@check(
    "TEN-SUPERADMIN-CONFINED",
    controls=("valid-token", "no-token", "liveness"),
    title="a superadmin of tenant B reads, lists, updates and deletes tenant A's document",
    rule="nobody, superadmin included, reaches another tenant's resources",
    severity=Severity.CRITICAL,
    references=TEN_REFS,
    needs=("tenants", "documents"),
)
def superadmin_confined(ctx: CheckContext) -> None:
    top = ctx.profile.roles_by_level()[-1]
    owner = _member(ctx, "editor")
    ctx.baseline(owner.tokens)
    doc = _create_doc(ctx, owner)
    tenant_b = _provisioned_tenant(ctx, top, owner.user.tenant) or other_tenant(ctx, owner.user.tenant)
    boss = _member(ctx, top, tenant_b)
    own = _create_doc(ctx, boss)
    listing = _list(ctx, boss.tokens, f"tenant-B {top} lists documents")
    ctx.control(ok(listing.status) and own.marker in listing.text,
                f"the tenant-B {top}'s list ({listing.status}) does not show their own tenant's document")
    ctx.expect(doc.marker not in listing.text and doc.id not in _ids(listing),
               f"the {top} of tenant B sees tenant A's document in the list")
    reached = []
    for verb, call in (("read", _get), ("update", _update), ("delete", _delete)):
        status = call(ctx, boss.tokens, doc.id, f"tenant-B {top} {verb}s A's document").status
        if ok(status):
            reached.append(f"{verb} ({status})")
    ctx.expect(not reached, f"the {top} of tenant B reached tenant A's document: " + ", ".join(reached))


def _provisioned_tenant(ctx: CheckContext, role: str, than: str) -> str | None:
    """Where a role nobody can sign up for (a superadmin) lives, when the target cannot provision
    one on demand: the tenant of its pre-provisioned account."""
    if "provision" in ctx.target.abilities:
        return None
    for account in ctx.profile.users.accounts:
        if account.role == role and account.tenant and account.tenant != than:
            return account.tenant
    return None


def _ids(response: Response) -> set[str]:
    return {str(row["id"]) for row in rows(response.json()) if isinstance(row, dict) and "id" in row}


@check(
    "TEN-HEADER-SPOOF",
    controls=("valid-token", "no-token", "liveness"),
    title="send X-Tenant-ID / X-User-ID / X-Tenant / X-Org-ID naming tenant A, without a token and with B's",
    rule="the tenant and user come from the verified token; client headers never authenticate or switch tenant",
    severity=Severity.CRITICAL,
    references=TEN_REFS + ("API2:2023",),
    needs=("tenants", "documents"),
)
def header_spoof(ctx: CheckContext) -> None:
    owner = _member(ctx, "editor")
    ctx.baseline(owner.tokens)
    doc = _create_doc(ctx, owner)
    # B's admin: a role that sees every document of its own tenant, so a switched tenant shows.
    intruder = _member(ctx, "admin", other_tenant(ctx, owner.user.tenant))
    problems: list[str] = []
    for tenant in _tenant_values(owner):
        for user_id in _user_values(owner) or [""]:
            headers = {name: tenant for name in SPOOF_HEADERS}
            if user_id:
                headers["X-User-ID"] = user_id
            for note, response in (
                ("me", ctx.api.call("me", headers=headers, note="no token, identity headers")),
                ("list", _list(ctx, None, "no token, identity headers", headers=headers)),
                ("get", _get(ctx, None, doc.id, "no token, identity headers", headers=headers)),
            ):
                if response.status != 401:
                    problems.append(f"without a token, {note} answered {response.status} (want 401)")
        headers = {name: tenant for name in SPOOF_HEADERS}
        listing = _list(ctx, intruder.tokens, f"B's token, tenant headers {tenant!r}", headers=headers)
        if doc.marker in listing.text:
            problems.append("B's list showed A's document")
        for verb, call in (("read", _get), ("update", _update)):
            status = call(ctx, intruder.tokens, doc.id, f"B's token {verb}s, tenant headers", headers=headers).status
            if ok(status):
                problems.append(f"B could {verb} A's document ({status})")
    ctx.expect(not problems, "identity or tenant taken from client headers: " + "; ".join(sorted(set(problems))))
    ctx.expect(_intact(ctx, owner, doc), "tenant A's document was changed through spoofed headers")


SPOOF_PARAMS = ("tenant", "tenant_id", "tid")


@check(
    "TEN-PARAM-SPOOF",
    controls=("valid-token", "no-token", "liveness"),
    title="with B's token, name tenant A in query parameters and body fields (tenant, tenant_id, tid)",
    rule="the tenant comes from the verified token, never from a parameter the client sends",
    severity=Severity.CRITICAL,
    references=TEN_REFS + ("API3:2023",),
    needs=("tenants", "documents"),
)
def param_spoof(ctx: CheckContext) -> None:
    owner = _member(ctx, "editor")
    ctx.baseline(owner.tokens)
    admin_a = _member(ctx, "admin")
    doc = _create_doc(ctx, owner)
    # B's admin: a role that sees every document of its own tenant, so a switched tenant shows.
    intruder = _member(ctx, "admin", other_tenant(ctx, owner.user.tenant))
    problems: list[str] = []
    for tenant in _tenant_values(owner):
        for name in SPOOF_PARAMS:
            params = {name: tenant}
            if doc.marker in _list(ctx, intruder.tokens, f"B lists with ?{name}=A", params=params).text:
                problems.append(f"?{name}= showed A's document in B's list")
            if ok(_get(ctx, intruder.tokens, doc.id, f"B reads with ?{name}=A", params=params).status):
                problems.append(f"?{name}= let B read A's document")
        fields = {name: tenant for name in SPOOF_PARAMS}
        if ok(_update(ctx, intruder.tokens, doc.id, "B updates with tenant fields", body=fields).status):
            problems.append("tenant fields in the body let B update A's document")
        planted = _create_doc(ctx, intruder, fields)
        if planted.marker in _list(ctx, admin_a.tokens, "A's admin lists documents").text:
            problems.append("tenant fields in the body let B create a document in tenant A")
    ctx.expect(not problems, "a tenant named by the client was honoured: " + "; ".join(sorted(set(problems))))
    ctx.expect(_intact(ctx, owner, doc), "tenant A's document was changed through tenant parameters")


@check(
    "TEN-LIST-FILTER",
    controls=("valid-token", "no-token", "liveness"),
    title="list documents as B with ?tenant=, ?tenant_id=, ?tid=, ?all=true, ?owner_id= naming A",
    rule="listing endpoints return only the caller's tenant's rows, whatever the query parameters say",
    severity=Severity.HIGH,
    references=TEN_REFS,
    needs=("tenants", "documents"),
)
def list_filter(ctx: CheckContext) -> None:
    owner = _member(ctx, "editor")
    ctx.baseline(owner.tokens)
    doc = _create_doc(ctx, owner)
    admin_b = _member(ctx, "admin", other_tenant(ctx, owner.user.tenant))
    own = _create_doc(ctx, admin_b)
    plain = _list(ctx, admin_b.tokens, "B's admin lists documents")
    ctx.control(ok(plain.status) and own.marker in plain.text,
                f"B's admin's list ({plain.status}) does not show B's own document")
    tricks: list[dict[str, str]] = [{"all": "true"}, {"all": "1"}]
    for tenant in _tenant_values(owner):
        tricks += [{name: tenant} for name in SPOOF_PARAMS]
    for user_id in _user_values(owner):
        tricks += [{"owner_id": user_id}, {"user_id": user_id}]
    leaked = []
    for params in tricks:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        response = _list(ctx, admin_b.tokens, f"B's admin lists with ?{query}", params=params)
        if doc.marker in response.text:
            leaked.append(f"?{query}")
    ctx.expect(not leaked, "tenant A's document appeared in tenant B's list with " + ", ".join(leaked))
    admin_a = _list(ctx, login(ctx, ctx.users.create("admin")), "A's admin lists documents")
    ctx.expect(own.marker not in admin_a.text, "tenant B's document appeared in tenant A's list")


@check(
    "TEN-SIGNUP-NEW-TENANT",
    controls=("valid-token", "no-token", "liveness"),
    title="sign up a fresh tenant; sign up again naming that tenant (another user, then the admin's own name) "
          "and log in to it",
    rule="sign-up creates a new tenant with the caller as its admin; a sign-up naming an existing tenant is "
         "refused (409) and grants nothing in it",
    severity=Severity.CRITICAL,
    references=("ASVS 4.1.3", "API1:2023", "API5:2023"),
    needs=("signup", "tenants"),
)
def signup_new_tenant(ctx: CheckContext) -> None:
    tenant = "t-" + secrets.token_hex(4)
    founder = Principal(ctx.users.username("founder-"), ctx.users.password(), tenant, "admin")
    created = ctx.api.signup(founder)
    ctx.control(ok(created.status), f"a sign-up naming a fresh tenant answered {created.status}")
    founder_tokens = login(ctx, founder)
    ctx.baseline(founder_tokens)
    wrong: list[str] = []
    roles = ctx.profile.roles_by_level() if ctx.profile.declares("roles") else []
    if "admin" in roles and roles.index("admin") > 0:
        below = roles[roles.index("admin") - 1]
        if gained_route(ctx, below, "admin") is None and not role_field(ctx.api.me(founder_tokens)):
            ctx.details["admin_not_observed"] = "no declared route needs a right only admin has"
        elif not acts_as(ctx, founder_tokens, below, "admin", "the caller of the sign-up"):
            wrong.append("the caller of a sign-up is not the admin of the new tenant")
    statuses: dict[str, int] = {}
    intruders = (("another user", Principal(ctx.users.username("joiner-"), ctx.users.password(), tenant, "admin")),
                 ("the admin's own username", Principal(founder.username, ctx.users.password(), tenant, "admin")))
    for label, intruder in intruders:
        response = ctx.api.signup(intruder)
        statuses[label] = response.status
        if not ctx.rejected(response):
            wrong.append(f"a sign-up of {label} naming the existing tenant answered {response.status} instead "
                         "of a 4xx refusal")
        elif response.status != 409:
            ctx.details.setdefault("refused_not_409", []).append(label)
        answer = ctx.api.login_response(intruder, retry_limited=True)
        if ctx.api.logged_in(answer):
            wrong.append(f"after a sign-up of {label} naming the existing tenant, that caller logs in to it")
    ctx.details["statuses"] = statuses
    ctx.expect(ctx.api.logged_in(ctx.api.login_response(founder, retry_limited=True)),
               "the tenant's first admin no longer logs in with their password after the second sign-ups")
    ctx.expect(not wrong, "; ".join(wrong))
