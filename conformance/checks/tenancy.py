"""Contract section 5: tenant isolation and object access, for every resource the profile declares
([[resources]]; an older profile's document operations are the resource "documents"). A user owns
an object with a unique marker in it; other users of the tenant, users of another tenant (or, where
the service has no tenants, unrelated users) try to reach it every way a real API has been fooled:
by id, by a guessed neighbouring id, by an id moved into the query or the body, through headers,
query and body parameters, and list filters. Each check judges each resource and names it; one
that cannot be judged makes the verdict partial."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
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
    users_per_role,
)
from conformance.context import CheckContext
from conformance.profile import Resource
from conformance.registry import Level, Severity, check
from conformance.targets.base import Response
from conformance.verdict import CannotJudge, ControlFailed, NotApplicable

TEN_REFS = ("ASVS 4.2.1", "ASVS 4.1.2", "API1:2023")
SPOOF_HEADERS = ("X-Tenant-ID", "X-Tenant", "X-Org-ID")
SPOOF_PARAMS = ("tenant", "tenant_id", "tid")
# The verbs by which one object is reached, with its id in the path.
BY_ID = ("read", "update", "delete")
# Where a service has been fooled into taking the id from elsewhere than the path.
ID_PARAMS = ("id",)


@dataclass
class Obj:
    resource: Resource
    id: str
    marker: str  # unique text in the object: finding it in an answer means the object leaked


@dataclass
class Member:
    user: Principal
    tokens: Tokens


@dataclass
class Cast:
    """The users of one check, created once and shared by the resources it judges."""

    ctx: CheckContext
    made: dict[tuple[str, str], Member] = field(default_factory=dict)

    def get(self, role: str, tenant: str | None = None, *, key: str = "", other_than: Member | None = None) -> Member:
        """A user of ``role`` (in ``tenant``), the same for the same ``key``; with ``other_than``,
        never that user (one pre-provisioned account cannot be both owner and intruder)."""
        slot = (role, key or (tenant or ""))
        if slot not in self.made:
            self.made[slot] = _member(self.ctx, role, tenant, other_than.user if other_than else None)
        return self.made[slot]


def _member(ctx: CheckContext, role: str, tenant: str | None = None, other_than: Principal | None = None) -> Member:
    user = ctx.users.create(role, tenant=tenant, distinct_from=other_than)
    return Member(user, login(ctx, user))


def _owner_role(resource: Resource) -> str:
    """Who creates the resource's objects: its owner_role, else the contract's editor (the suite
    maps it onto the profile's own roles)."""
    return resource.owner_role or "editor"


def _resources(ctx: CheckContext) -> list[Resource]:
    resources = ctx.profile.resource_list()
    if not resources:
        raise NotApplicable("the profile declares no [[resources]] (and no document operations)")
    return resources


def _create(ctx: CheckContext, resource: Resource, owner: Member, extra: dict[str, Any] | None = None) -> Obj:
    marker = "authconform-" + secrets.token_hex(8)
    sent = {**ctx.api.resource_body(resource, "create", marker), **(extra or {})}
    response = ctx.api.resource(resource, "create", auth=owner.tokens, marker=marker, body=extra,
                                note=f"{owner.user.role} creates a {resource.name} object")
    ctx.control(ok(response.status), f"a {owner.user.role} creating a {resource.name} object answered "
                                     f"{response.status}")
    object_id = ctx.api.created_id(resource, response, sent)
    ctx.control(bool(object_id), f"the {resource.name} creation answer holds no id (create.id_path "
                                 f"{resource.create.id_path!r})")
    return Obj(resource, object_id, marker)


def _call(ctx: CheckContext, verb: str, who: Tokens | None, obj: Obj, object_id: str, note: str,
          **kwargs: Any) -> Response:
    """``verb`` (read, update, delete) on ``object_id`` of ``obj``'s resource; an update writes a fresh marker."""
    return ctx.api.resource(obj.resource, verb, auth=who, object_id=object_id,
                            note=f"{obj.resource.name}: {note}", **kwargs)


def _list(ctx: CheckContext, resource: Resource, who: Tokens | None, note: str, **kwargs: Any) -> Response:
    return ctx.api.resource(resource, "list", auth=who, note=f"{resource.name}: {note}", **kwargs)


def _intact(ctx: CheckContext, owner: Member, obj: Obj) -> bool:
    """The owner still reads the object with its original marker."""
    response = _call(ctx, "read", owner.tokens, obj, obj.id, "owner reads it afterwards")
    return ok(response.status) and obj.marker in response.text


def _verbs(resource: Resource) -> list[str]:
    return [verb for verb in BY_ID if resource.offers(verb)]


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


def _unlike_missing(ctx: CheckContext, verb: str, who: Member, obj: Obj, object_id: str, label: str,
                    compare: str = "all") -> str:
    """Reach ``object_id`` (not the caller's) and a missing id of the same form by ``verb``: "" when
    the two answer alike, else what differed. ``compare`` says what must be alike: "all" (status,
    body keys, error code), "status", or "body" (keys and error code). An answer that says nothing
    (rate-limited, a crash) cannot be judged."""
    missing = _call(ctx, verb, who.tokens, obj, missing_id(object_id), f"{label} {verb}s a missing id")
    foreign = _call(ctx, verb, who.tokens, obj, object_id, f"{label} {verb}s it")
    for response in (missing, foreign):
        if ctx.answer(response).value in ("rate-limited", "crashed"):
            raise CannotJudge(f"{label} {verb}: the target answered {response.status}, which says nothing")
    alike = {"all": _shape(foreign) == _shape(missing), "status": foreign.status == missing.status,
             "body": _shape(foreign)[1:] == _shape(missing)[1:]}[compare]
    if ok(foreign.status) or not alike:
        ctx.decisive()
        keys = list(_shape(foreign)[1])
        return f"{label} {verb}: {foreign.status} {keys} (a missing id: {missing.status} {list(_shape(missing)[1])})"
    return ""


def judge_each(ctx: CheckContext, resources: list[Resource], judge: Callable[[Resource], list[str]]) -> None:
    """Run ``judge`` for each resource: the problems it finds fail the check, each named by its
    resource; a resource it cannot judge is said in the coverage (partial), and when none could be
    judged the first reason ends the check."""
    problems: list[str] = []
    skipped: list[str] = []
    first: Exception | None = None
    judged: list[str] = []
    each: dict[str, str] = {}
    for resource in resources:
        try:
            found = judge(resource)
        except (NotApplicable, CannotJudge, ControlFailed) as exc:
            skipped.append(f"{resource.name} ({exc.reason})")
            each[resource.name] = f"not judged: {exc.reason}"
            first = first or exc
            continue
        judged.append(resource.name)
        each[resource.name] = "fail" if found else "pass"
        problems += [f"{resource.name}: {problem}" for problem in found]
    ctx.details["resources"] = {"judged": judged, "not_judged": skipped, "each": each}
    if not judged and first is not None:
        raise first
    ctx.expect(not problems, "; ".join(problems))
    if skipped:
        ctx.cover(len(judged), len(resources), "resources", skipped)


def _admin_applies(ctx: CheckContext) -> bool:
    """Is there a tenant admin to judge? Only with roles: without them every user is alike."""
    return ctx.profile.declares("roles")


@check(
    "TEN-OBJECT-ACCESS",
    controls=("valid-token", "no-token", "liveness"),
    title="each resource's object: read and changed by its owner (and the tenant admin where the rule says), "
          "not by another user",
    rule="a user reads and changes their own resources; an admin any in their tenant where the resource's rule "
         "says so; other users none (a foreign object answers like a missing one)",
    severity=Severity.HIGH,
    references=TEN_REFS,
    needs=("documents",),
)
def object_access(ctx: CheckContext) -> None:
    resources = _resources(ctx)
    cast = Cast(ctx)
    ctx.baseline(cast.get(_owner_role(resources[0]), key="owner").tokens)

    def judge(resource: Resource) -> list[str]:
        owner = cast.get(_owner_role(resource), key="owner")
        peer = cast.get(_owner_role(resource), key="peer", other_than=owner)
        obj = _create(ctx, resource, owner)
        problems: list[str] = []
        read = _call(ctx, "read", owner.tokens, obj, obj.id, "owner reads own object")
        if not ok(read.status):
            problems.append(f"the owner could not read their own object ({read.status})")
        if resource.offers("update"):
            changed = _call(ctx, "update", owner.tokens, obj, obj.id, "owner updates own object", marker=obj.marker)
            if not ok(changed.status):
                problems.append(f"the owner could not update their own object ({changed.status})")
        if resource.offers("list"):
            listing = _list(ctx, resource, owner.tokens, "owner lists")
            if ok(listing.status) and obj.marker not in listing.text:
                problems.append("the owner's list does not show their own object")
        peer_reads = resource.ownership == "tenant-read"
        for verb in _verbs(resource):
            if peer_reads and verb == "read":
                status = _call(ctx, verb, peer.tokens, obj, obj.id, "another user of the tenant reads it").status
                if not ok(status):
                    problems.append(f"another user of the tenant could not read it ({status}; ownership "
                                    "tenant-read)")
            elif peer_reads:
                response = _call(ctx, verb, peer.tokens, obj, obj.id, f"another user {verb}s it")
                if ok(response.status):
                    problems.append(f"another user of the tenant could {verb} it ({response.status})")
            else:
                found = _unlike_missing(ctx, verb, peer, obj, obj.id, "another user")
                if found:
                    problems.append(found)
        if resource.offers("list"):
            listing = _list(ctx, resource, peer.tokens, "another user lists")
            if peer_reads != (obj.marker in listing.text) and ok(listing.status):
                problems.append("another user's list " + ("does not show" if peer_reads else "shows")
                                + " the object")
        if not _intact(ctx, owner, obj):
            problems.append("another user changed or deleted someone else's object")
            return problems
        if _admin_applies(ctx):
            admin = cast.get("admin", key="admin")
            problems += _judge_admin(ctx, resource, admin, obj, owner)
        return problems

    judge_each(ctx, resources, judge)


def _judge_admin(ctx: CheckContext, resource: Resource, admin: Member, obj: Obj, owner: Member) -> list[str]:
    """The tenant admin: reaches the object where the rule says (owner-admin, tenant-read), else
    is answered as for a missing one (owner)."""
    problems = []
    if resource.ownership == "owner":
        for verb in _verbs(resource):
            found = _unlike_missing(ctx, verb, admin, obj, obj.id, "the tenant admin")
            if found:
                problems.append(found + " (ownership owner: the object is its writer's alone)")
        if not _intact(ctx, owner, obj):
            problems.append("the tenant admin changed or deleted a user's own object")
        return problems
    for verb in _verbs(resource):
        status = _call(ctx, verb, admin.tokens, obj, obj.id, f"tenant admin {verb}s it").status
        if not ok(status):
            problems.append(f"the tenant admin could not {verb} an object of their tenant ({status})")
    return problems


def _cross_tenant(ctx: CheckContext, compare: str) -> None:
    """Every role of tenant B reads, updates, deletes and lists tenant A's object of each resource
    and a missing id; ``compare`` says what of the two answers must be alike."""
    resources = _resources(ctx)
    cast = Cast(ctx)
    first = cast.get(_owner_role(resources[0]), key="owner")
    ctx.baseline(first.tokens)
    tenant_b = other_tenant(ctx, first.user.tenant)
    foreign_users = users_per_role(ctx, ctx.profile.roles_by_level(), tenant_b)
    if not foreign_users:
        raise NotApplicable(f"the suite can get no user of a second tenant ({tenant_b})")
    members = {role: Member(user, login(ctx, user)) for role, user in foreign_users.items()}

    def judge(resource: Resource) -> list[str]:
        owner = cast.get(_owner_role(resource), key="owner")
        obj = _create(ctx, resource, owner)
        differences: list[str] = []
        for role, member in members.items():
            for verb in _verbs(resource):
                found = _unlike_missing(ctx, verb, member, obj, obj.id, f"tenant-B {role}", compare)
                if found:
                    differences.append(found)
            if resource.offers("list") and obj.marker in _list(ctx, resource, member.tokens,
                                                               f"tenant-B {role} lists").text:
                differences.append(f"tenant-B {role}'s list shows it")
        if differences:
            what = "with another body than" if compare == "body" else "unlike"
            differences = [f"tenant A's object answers {what} a missing one: " + "; ".join(differences)]
        if not _intact(ctx, owner, obj):
            differences.append("tenant B changed or deleted tenant A's object")
        return differences

    judge_each(ctx, resources, judge)


@check(
    "TEN-CROSS-TENANT-404",
    controls=("valid-token", "no-token", "liveness"),
    title="every role of tenant B reads, updates and deletes tenant A's object of each resource, and a missing id",
    rule="a cross-tenant object answers with the status of a missing one (404), so ids do not leak",
    severity=Severity.CRITICAL,
    references=TEN_REFS + ("ASVS 4.2.2",),
    needs=("tenants", "documents"),
)
def cross_tenant_404(ctx: CheckContext) -> None:
    _cross_tenant(ctx, "status")


@check(
    "TEN-CROSS-TENANT-BODY",
    # The status is the MUST (TEN-CROSS-TENANT-404); a body that tells the two apart leaks less
    # plainly, and the contract's "exactly like" asks it of the body as a SHOULD.
    level=Level.SHOULD,
    controls=("valid-token", "no-token", "liveness"),
    title="every role of tenant B asks for tenant A's object of each resource and a missing id; compare the bodies",
    rule="a cross-tenant object SHOULD answer with the body of a missing one (the same fields and error code)",
    severity=Severity.MEDIUM,
    references=TEN_REFS + ("ASVS 4.2.2",),
    needs=("tenants", "documents"),
)
def cross_tenant_body(ctx: CheckContext) -> None:
    _cross_tenant(ctx, "body")


@check(
    "TEN-SUPERADMIN-CONFINED",
    controls=("valid-token", "no-token", "liveness"),
    title="a superadmin of tenant B reads, lists, updates and deletes tenant A's object of each resource",
    rule="nobody, superadmin included, reaches another tenant's resources",
    severity=Severity.CRITICAL,
    references=TEN_REFS,
    needs=("tenants", "documents"),
)
def superadmin_confined(ctx: CheckContext) -> None:
    resources = _resources(ctx)
    top = ctx.profile.roles_by_level()[-1]
    cast = Cast(ctx)
    first = cast.get(_owner_role(resources[0]), key="owner")
    ctx.baseline(first.tokens)
    tenant_b = _provisioned_tenant(ctx, top, first.user.tenant) or other_tenant(ctx, first.user.tenant)
    boss = cast.get(top, tenant_b)

    def judge(resource: Resource) -> list[str]:
        owner = cast.get(_owner_role(resource), key="owner")
        obj = _create(ctx, resource, owner)
        reached = []
        if resource.offers("list"):
            own = _create(ctx, resource, boss)
            listing = _list(ctx, resource, boss.tokens, f"tenant-B {top} lists")
            ctx.control(ok(listing.status) and own.marker in listing.text,
                        f"the tenant-B {top}'s {resource.name} list ({listing.status}) does not show their own object")
            if obj.marker in listing.text or obj.id in ctx.api.resource_row_ids(resource, listing):
                reached.append("list")
        for verb in _verbs(resource):
            status = _call(ctx, verb, boss.tokens, obj, obj.id, f"tenant-B {top} {verb}s A's object").status
            if ok(status):
                ctx.decisive()
                reached.append(f"{verb} ({status})")
        return [f"the {top} of tenant B reached tenant A's object: " + ", ".join(reached)] if reached else []

    judge_each(ctx, resources, judge)


def _provisioned_tenant(ctx: CheckContext, role: str, than: str) -> str | None:
    """Where a role nobody can sign up for (a superadmin) lives, when the target cannot provision
    one on demand: the tenant of its pre-provisioned account."""
    if "provision" in ctx.target.abilities:
        return None
    for account in ctx.profile.users.accounts:
        if account.role == role and account.tenant and account.tenant != than:
            return account.tenant
    return None


@check(
    "TEN-HEADER-SPOOF",
    controls=("valid-token", "no-token", "liveness"),
    title="send X-Tenant-ID / X-User-ID / X-Tenant / X-Org-ID naming tenant A, without a token and with B's, "
          "on each resource",
    rule="the tenant and user come from the verified token; client headers never authenticate or switch tenant",
    severity=Severity.CRITICAL,
    references=TEN_REFS + ("API2:2023",),
    needs=("tenants", "documents"),
)
def header_spoof(ctx: CheckContext) -> None:
    resources = _resources(ctx)
    cast = Cast(ctx)
    owner = cast.get(_owner_role(resources[0]), key="owner")
    ctx.baseline(owner.tokens)
    # B's admin: a role that sees every object of its own tenant, so a switched tenant shows.
    intruder = cast.get("admin", other_tenant(ctx, owner.user.tenant))
    spoofs = []
    for tenant in _tenant_values(owner):
        for user_id in _user_values(owner) or [""]:
            headers = {name: tenant for name in SPOOF_HEADERS}
            if user_id:
                headers["X-User-ID"] = user_id
            spoofs.append(headers)
    me_problems = []
    for headers in spoofs:
        status = ctx.api.call("me", headers=headers, note="no token, identity headers").status
        if status != 401:
            me_problems.append(f"without a token, me answered {status} (want 401)")

    def judge(resource: Resource) -> list[str]:
        obj = _create(ctx, resource, cast.get(_owner_role(resource), key="owner"))
        problems: list[str] = []
        for headers in spoofs:
            probes = [("get", _call(ctx, "read", None, obj, obj.id, "no token, identity headers", headers=headers))]
            if resource.offers("list"):
                probes.append(("list", _list(ctx, resource, None, "no token, identity headers", headers=headers)))
            for note, response in probes:
                if response.status != 401:
                    problems.append(f"without a token, {note} answered {response.status} (want 401)")
        for tenant in _tenant_values(owner):
            headers = {name: tenant for name in SPOOF_HEADERS}
            if resource.offers("list") and obj.marker in _list(ctx, resource, intruder.tokens,
                                                               f"B's token, tenant headers {tenant!r}",
                                                               headers=headers).text:
                problems.append("B's list showed A's object")
            for verb in (v for v in ("read", "update") if resource.offers(v)):
                status = _call(ctx, verb, intruder.tokens, obj, obj.id, f"B's token {verb}s, tenant headers",
                               headers=headers).status
                if ok(status):
                    problems.append(f"B could {verb} A's object ({status})")
        if not _intact(ctx, cast.get(_owner_role(resource), key="owner"), obj):
            problems.append("tenant A's object was changed through spoofed headers")
        return sorted(set(problems))

    judge_each(ctx, resources, judge)
    ctx.expect(not me_problems, "identity taken from client headers: " + "; ".join(sorted(set(me_problems))))


@check(
    "TEN-PARAM-SPOOF",
    controls=("valid-token", "no-token", "liveness"),
    title="with B's token, name tenant A in query parameters and body fields (tenant, tenant_id, tid) of each "
          "resource",
    rule="the tenant comes from the verified token, never from a parameter the client sends",
    severity=Severity.CRITICAL,
    references=TEN_REFS + ("API3:2023",),
    needs=("tenants", "documents"),
)
def param_spoof(ctx: CheckContext) -> None:
    resources = _resources(ctx)
    cast = Cast(ctx)
    first = cast.get(_owner_role(resources[0]), key="owner")
    ctx.baseline(first.tokens)
    admin_a = cast.get("admin", key="admin-a")
    # B's admin: a role that sees every object of its own tenant, so a switched tenant shows.
    intruder = cast.get("admin", other_tenant(ctx, first.user.tenant))

    def judge(resource: Resource) -> list[str]:
        owner = cast.get(_owner_role(resource), key="owner")
        obj = _create(ctx, resource, owner)
        problems: list[str] = []
        for tenant in _tenant_values(owner):
            for name in SPOOF_PARAMS:
                params = {name: tenant}
                if resource.offers("list") and obj.marker in _list(ctx, resource, intruder.tokens,
                                                                   f"B lists with ?{name}=A", params=params).text:
                    problems.append(f"?{name}= showed A's object in B's list")
                if ok(_call(ctx, "read", intruder.tokens, obj, obj.id, f"B reads with ?{name}=A",
                            params=params).status):
                    problems.append(f"?{name}= let B read A's object")
            fields = {name: tenant for name in SPOOF_PARAMS}
            if resource.offers("update") and ok(_call(ctx, "update", intruder.tokens, obj, obj.id,
                                                      "B updates with tenant fields", body=fields).status):
                problems.append("tenant fields in the body let B update A's object")
            if resource.offers("list"):
                planted = _create(ctx, resource, intruder, fields)
                if planted.marker in _list(ctx, resource, admin_a.tokens, "A's admin lists").text:
                    problems.append("tenant fields in the body let B create an object in tenant A")
        if not _intact(ctx, owner, obj):
            problems.append("tenant A's object was changed through tenant parameters")
        return sorted(set(problems))

    judge_each(ctx, resources, judge)


@check(
    "TEN-LIST-FILTER",
    controls=("valid-token", "no-token", "liveness"),
    title="list each resource as B with ?tenant=, ?tenant_id=, ?tid=, ?all=true, ?owner_id= naming A",
    rule="listing endpoints return only the caller's tenant's rows, whatever the query parameters say",
    severity=Severity.HIGH,
    references=TEN_REFS,
    needs=("tenants", "documents"),
)
def list_filter(ctx: CheckContext) -> None:
    resources = _resources(ctx)
    cast = Cast(ctx)
    first = cast.get(_owner_role(resources[0]), key="owner")
    ctx.baseline(first.tokens)
    admin_b = cast.get("admin", other_tenant(ctx, first.user.tenant))

    def judge(resource: Resource) -> list[str]:
        if not resource.offers("list"):
            raise NotApplicable("no list operation")
        owner = cast.get(_owner_role(resource), key="owner")
        obj = _create(ctx, resource, owner)
        own = _create(ctx, resource, admin_b)
        plain = _list(ctx, resource, admin_b.tokens, "B's admin lists")
        ctx.control(ok(plain.status) and own.marker in plain.text,
                    f"B's admin's {resource.name} list ({plain.status}) does not show B's own object")
        tricks: list[dict[str, str]] = [{"all": "true"}, {"all": "1"}]
        for tenant in _tenant_values(owner):
            tricks += [{name: tenant} for name in SPOOF_PARAMS]
        for user_id in _user_values(owner):
            tricks += [{"owner_id": user_id}, {"user_id": user_id}]
        leaked = []
        for params in tricks:
            query = "&".join(f"{k}={v}" for k, v in params.items())
            if obj.marker in _list(ctx, resource, admin_b.tokens, f"B's admin lists with ?{query}",
                                   params=params).text:
                leaked.append(f"?{query}")
        problems = ["tenant A's object appeared in tenant B's list with " + ", ".join(leaked)] if leaked else []
        admin_a = _list(ctx, resource, cast.get("admin", key="admin-a").tokens, "A's admin lists")
        if own.marker in admin_a.text:
            problems.append("tenant B's object appeared in tenant A's list")
        return problems

    judge_each(ctx, resources, judge)


def _attacker(ctx: CheckContext, cast: Cast, resource: Resource, owner: Member) -> Member:
    """Who probes another user's objects of ``resource``: a user of the owner's role in the same
    tenant, or one of another tenant where every user of the tenant may read (tenant-read)."""
    if resource.ownership == "tenant-read":
        if not ctx.profile.declares("tenants"):
            raise NotApplicable("every user may read its objects (ownership tenant-read) and there is no "
                                "second tenant")
        return cast.get(_owner_role(resource), other_tenant(ctx, owner.user.tenant))
    return cast.get(_owner_role(resource), key="peer", other_than=owner)


@check(
    "TEN-ID-NEIGHBOUR",
    controls=("valid-token", "no-token", "liveness"),
    title="for each resource with numeric ids: a user reads, updates and deletes the ids either side of their "
          "own object (another user's, written just before and after)",
    rule="a guessed neighbouring id of another user's object answers exactly like a missing one, and the object "
         "is left intact",
    severity=Severity.HIGH,
    references=TEN_REFS + ("ASVS 4.2.2",),
    needs=("documents",),
)
def id_neighbour(ctx: CheckContext) -> None:
    resources = [r for r in _resources(ctx) if r.id_kind == "numeric"]
    if not resources:
        raise NotApplicable("no declared resource has numeric ids (id_kind = \"numeric\") to guess")
    cast = Cast(ctx)
    ctx.baseline(cast.get(_owner_role(resources[0]), key="owner").tokens)

    def judge(resource: Resource) -> list[str]:
        victim = cast.get(_owner_role(resource), key="owner")
        attacker = _attacker(ctx, cast, resource, victim)
        before = _create(ctx, resource, victim)
        own = _create(ctx, resource, attacker)
        after = _create(ctx, resource, victim)
        if not own.id.isdigit():
            raise CannotJudge(f"the id {own.id!r} is not numeric, though id_kind says so")
        problems = []
        for guess in (int(own.id) - 1, int(own.id) + 1):
            if guess < 1:
                continue
            for verb in _verbs(resource):
                found = _unlike_missing(ctx, verb, attacker, own, str(guess), f"a user guessing id {guess}")
                if found:
                    problems.append(found)
        for obj in (before, after):
            if not _intact(ctx, victim, obj):
                problems.append(f"the object {obj.id}, next to the guesser's own, was changed or deleted")
        ctx.details.setdefault("ids", {})[resource.name] = {"own": own.id, "victim": [before.id, after.id]}
        return problems

    judge_each(ctx, resources, judge)


@check(
    "TEN-ID-ELSEWHERE",
    controls=("valid-token", "no-token", "liveness"),
    title="for each resource: a user names their own object in the path and another user's id in the query "
          "(?id=) or the body (id), to read, update, delete and list",
    rule="the object an operation acts on is the one its path names, checked for the caller; an id in the "
         "query or the body never reaches another user's object",
    severity=Severity.HIGH,
    references=TEN_REFS + ("API3:2023",),
    needs=("documents",),
)
def id_elsewhere(ctx: CheckContext) -> None:
    resources = _resources(ctx)
    cast = Cast(ctx)
    ctx.baseline(cast.get(_owner_role(resources[0]), key="owner").tokens)

    def judge(resource: Resource) -> list[str]:
        victim = cast.get(_owner_role(resource), key="owner")
        attacker = _attacker(ctx, cast, resource, victim)
        target = _create(ctx, resource, victim)
        own = _create(ctx, resource, attacker)
        names = list(dict.fromkeys((*ID_PARAMS, resource.id_field)))
        problems: list[str] = []
        for name in names:
            params = {name: target.id}
            response = _call(ctx, "read", attacker.tokens, own, own.id, f"reads own object with ?{name}=another's",
                             params=params)
            if target.marker in response.text:
                problems.append(f"read of the caller's own object with ?{name}= answered another user's object")
            if resource.offers("list"):
                response = _list(ctx, resource, attacker.tokens, f"lists with ?{name}=another's", params=params)
                if target.marker in response.text:
                    problems.append(f"the list with ?{name}= showed another user's object")
            if resource.offers("update"):
                _call(ctx, "update", attacker.tokens, own, own.id, f"updates own object with ?{name}=another's",
                      params=params)
                _call(ctx, "update", attacker.tokens, own, own.id, f"updates own object with {name} in the body",
                      body={name: target.id})
            if not _intact(ctx, victim, target):
                problems.append(f"an update of the caller's own object with {name} in the query or body changed "
                                "another user's object")
                return problems
        if resource.offers("delete"):
            for name in names:
                spare = _create(ctx, resource, attacker)
                _call(ctx, "delete", attacker.tokens, spare, spare.id, f"deletes own object with ?{name}=another's",
                      params={name: target.id})
                if not _intact(ctx, victim, target):
                    problems.append(f"a delete of the caller's own object with ?{name}= deleted another user's object")
                    break
        return problems

    judge_each(ctx, resources, judge)


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
