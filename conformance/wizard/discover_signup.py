"""Sign-up for ``authconform init``: the routes that look like one, from the OpenAPI document
(with the password limits its schema states) or probed at the usual paths, and the throwaway
account init signs up with (an e-mail address where the route wants one)."""

from __future__ import annotations

import secrets
from typing import Any

from conformance.api import Principal
from conformance.targets.base import Response
from conformance.wizard.draft import DraftOperation, Value
from conformance.wizard.probing import ABSENT, REDIRECTS, ProbeContext, attempt

SIGNUP_PATHS = ("{dir}/register", "{dir}/signup", "/register", "/signup", "/auth/register", "/auth/signup",
                "/api/register", "/api/signup", "/api/auth/register", "/api/auth/signup", "/users/register",
                "/api/users/register", "/users", "/api/users")
# The domain of the throwaway addresses init signs up with: RFC 2606 reserves it for examples, and
# unlike example.test it is not a special-use name that e-mail validators (email-validator) refuse.
EMAIL_DOMAIN = "example.com"


def signup_candidates(ctx: ProbeContext, login: DraftOperation) -> list[DraftOperation]:
    if ctx.document is not None:
        found = []
        ops = ctx.document.find("POST", r"(register|sign-?up|signup)/?$")
        ops += [op for op in ctx.document.find("POST", r"/(users|accounts)/?$") if not op.secured]
        for op in dict.fromkeys(ops):
            fields = op.credential_fields()
            if fields:
                if op.is_email(fields["username"]):
                    ctx.email_signups.add(op.path)
                _password_limits(ctx, op.properties.get(fields["password"], {}))
                found.append(DraftOperation("POST", op.path, op.body or "json", fields,
                                            note="from the OpenAPI document"))
        return found
    found = []
    for tried in ctx.paths(SIGNUP_PATHS, dir=ctx.directory()):
        path, probe = ctx.probe_route("POST", tried, body={})
        if probe is None or probe.status in ABSENT or probe.status in (401, 403, *REDIRECTS):
            continue
        # A Basic login names no fields: sign-up then most likely takes the usual two.
        fields = dict(login.fields) or {"username": "username", "password": "password"}
        found.append(DraftOperation("POST", path, login.body, fields, note="probed"))
    return found


def _password_limits(ctx: ProbeContext, schema: dict[str, Any]) -> None:
    for key, name in (("minLength", "min_length"), ("maxLength", "max_length")):
        if isinstance(schema.get(key), int):
            ctx.draft.passwords[name] = Value(schema[key], f"the OpenAPI document's {key}")


def takes_email(ctx: ProbeContext, signup: DraftOperation) -> bool:
    return signup.fields.get("username") == "email" or signup.path in ctx.email_signups


def throwaway_account(ctx: ProbeContext, signup: DraftOperation) -> Principal:
    """A fresh account for ``signup`` (its tenant the one given, where one is)."""
    name = f"authconform-init-{secrets.token_hex(4)}"
    username = f"{name}@{EMAIL_DOMAIN}" if takes_email(ctx, signup) else name
    password = "Init-" + secrets.token_urlsafe(12) + "9a"
    tenant = ctx.options.tenant or f"authconform-init-{secrets.token_hex(3)}"
    return Principal(username=username, password=password, tenant=tenant, role="")


def sign_up(ctx: ProbeContext, signup: DraftOperation, account: Principal) -> Response | None:
    """``Api.signup`` through ``signup`` (None when the target did not answer)."""
    return attempt(lambda: ctx.api("signup", signup).signup(account))


def record_signup(ctx: ProbeContext, signup: DraftOperation) -> None:
    """A sign-up init created its user with: the suite signs up a fresh user per check the same way."""
    ctx.draft.operations["signup"] = signup
    ctx.draft.declare("signup", f"observed: {signup.method} {signup.path} created a user")
    ctx.draft.users["source"] = Value("signup", "fresh users per check")
    if takes_email(ctx, signup):
        ctx.draft.users["username_template"] = Value("{name}@" + EMAIL_DOMAIN, "sign-up wants an e-mail address")


def signup_unused(ctx: ProbeContext, login: DraftOperation) -> None:
    """With a given account, a sign-up route is still worth knowing: written, not tried."""
    if not ctx.options.signup:
        return
    for signup in signup_candidates(ctx, login):
        signup.guess, signup.note = True, "found; not tried (init logged in with the given account)"
        ctx.draft.operations["signup"] = signup
        ctx.draft.declare("signup", f"{signup.method} {signup.path} answers like a sign-up; not tried", guess=True)
        ctx.say(f"signup: {signup.method} {signup.path} looks like a sign-up (not tried: an account was given)")
        return
