"""Shapes of real services a profile can now say, each seen on a service not written for this
suite: login by HTTP Basic with the user's own credentials, a refresh taking both tokens in the
body (or the refresh token in a header) and answering under another field, a session id header on
logout, claim names of the target's own, routes naming users by username or e-mail, objects named
by a field the client sent, another id field in listings, a self-service role route; and that an
operation the profile does not map is never called (never the reference's route)."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from recording import RecordingTarget, context
from reference_runs import run_on_reference

from conformance import profile, registry
from conformance.api import Principal, Tokens
from conformance.minting import ClaimNames, Minter, SigningKey, split
from conformance.runner import Deployment, run_check, unmet_needs
from conformance.targets.base import Headers, Response
from conformance.verdict import ControlFailed, NotApplicable, Verdict

ACCESS = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiNDIiLCJyb2xlIjoiYWRtaW4ifQ.c2ln"  # {"user_id": "42", "role": "admin"}
REFRESH = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiNDIiLCJ0eXBlIjoicmVmcmVzaCJ9.c2ln"

BASIC_LOGIN = """
name = "basic-login service"
capabilities = ["refresh", "logout"]
[tokens]
access_field = "access_token"
refresh_field = "refresh_token"
session_field = "session"
[operations.login]
method = "POST"
path = "/auth/login"
auth = "basic"
[operations.refresh]
method = "POST"
path = "/auth/refresh"
auth = "none"
send = ["refresh_token", "access_token"]
fields = { access_token = "accessToken" }
access_token_path = "token"
[operations.logout]
method = "POST"
path = "/auth/logout"
session_header = "X-Session-ID"
[operations.me]
path = "/me"
[[users.accounts]]
role = "viewer"
username = "ann"
password = "${ANN_PASSWORD}"
"""
SECRET = {"ANN_PASSWORD": "Ann-pass-1234"}


def test_login_by_http_basic_sends_the_accounts_own_credentials_and_no_body(tmp_path: Path) -> None:
    target = RecordingTarget((200, {"access_token": ACCESS, "refresh_token": REFRESH, "session": "s-9"}, []))
    ctx = context(tmp_path, BASIC_LOGIN, target, SECRET)
    tokens = ctx.api.login(ctx.users.create("viewer"))
    sent = target.requests[0]
    expected = base64.b64encode(b"ann:Ann-pass-1234").decode()
    assert sent["headers"]["Authorization"] == f"Basic {expected}"
    assert sent.get("json_body") is None and sent.get("form") is None
    assert (tokens.access, tokens.refresh, tokens.session_id) == (ACCESS, REFRESH, "s-9")
    evidence = json.dumps(ctx.evidence)
    assert expected not in evidence and SECRET["ANN_PASSWORD"] not in evidence


def test_a_refresh_sends_both_tokens_in_the_body_and_reads_its_own_token_field(tmp_path: Path) -> None:
    target = RecordingTarget((200, {"token": ACCESS + "x"}, []))
    ctx = context(tmp_path, BASIC_LOGIN, target, SECRET)
    fresh = ctx.api.refresh(Tokens(access=ACCESS, refresh=REFRESH))
    sent = target.requests[0]
    assert sent["json_body"] == {"refresh_token": REFRESH, "accessToken": ACCESS}
    assert "Authorization" not in sent["headers"]  # auth = "none": the access token goes in the body only
    assert fresh.access == ACCESS + "x" and fresh.refresh == REFRESH and fresh.refresh_kept


def test_a_refresh_token_in_a_header_with_the_access_token_in_the_body(tmp_path: Path) -> None:
    text = BASIC_LOGIN.replace('send = ["refresh_token", "access_token"]', 'send = ["access_token"]\n'
                               'refresh_in = "header"').replace(
        'session_field = "session"', 'session_field = "session"\nrefresh_header = "X-Refresh-Token"')
    target = RecordingTarget((200, {"token": ACCESS}, []))
    ctx = context(tmp_path, text, target, SECRET)
    ctx.api.refresh_response(Tokens(access=ACCESS, refresh=REFRESH))
    sent = target.requests[0]
    assert sent["headers"] == {"X-Refresh-Token": REFRESH}
    assert sent["json_body"] == {"accessToken": ACCESS}


def test_logout_sends_the_session_id_in_its_header(tmp_path: Path) -> None:
    target = RecordingTarget()
    ctx = context(tmp_path, BASIC_LOGIN, target, SECRET)
    ctx.api.call("logout", auth=Tokens(access=ACCESS, session_id="s-9"))
    assert target.requests[0]["headers"] == {"Authorization": f"Bearer {ACCESS}", "X-Session-ID": "s-9"}


def test_claims_are_read_and_minted_under_the_targets_names(tmp_path: Path) -> None:
    text = BASIC_LOGIN.replace('[tokens]', '[tokens]\nsubject_claim = "user_id"\nrole_claim = "scope"\n'
                                           'tenant_claim = "org"')
    ctx = context(tmp_path, text, RecordingTarget(), SECRET)
    assert ctx.api.claim(ACCESS, "subject") == "42"
    spec = ctx.profile.tokens
    minter = Minter(SigningKey("HS256", "k" * 32), issuer="", audience="",
                    names=ClaimNames(spec.subject_claim, spec.role_claim, spec.tenant_claim))
    claims = split(minter.mint(minter.claims(sub="42", tid="acme", sid="s", role="admin")))[1]
    assert (claims["user_id"], claims["org"], claims["scope"]) == ("42", "acme", "admin")
    assert not {"sub", "tid", "role"} & set(claims)
    deployed = Deployment(RecordingTarget(), ctx.profile, SigningKey("HS256", "k" * 32))  # type: ignore[arg-type]
    assert deployed.minter() is not None and deployed.minter().names.subject == "user_id"  # type: ignore[union-attr]


USERS_BY_NAME = """
name = "username-routed service"
capabilities = ["signup", "roles", "user_admin", "password_change", "documents"]
[users]
username_template = "{name}@example.test"
[operations.signup]
method = "POST"
path = "/register"
[operations.login]
method = "POST"
path = "/login"
[operations.me]
path = "/me"
[operations.me_update]
method = "PUT"
path = "/accounts/{username}/password"
[operations.me_role]
method = "PUT"
path = "/me/role"
[operations.users_list]
path = "/users"
id_field = "username"
[operations.user_create]
method = "POST"
path = "/users"
id_field = "username"
[operations.user_role]
method = "PUT"
path = "/users/{username}/role"
[operations.user_delete]
method = "DELETE"
path = "/people/{email}"
[operations.document_create]
method = "POST"
path = "/notes"
id_field = "title"
[operations.document_get]
path = "/notes/{title}"
"""


def test_routes_name_users_by_username_or_email_filled_from_what_the_suite_knows(tmp_path: Path) -> None:
    target = RecordingTarget((201, {"username": "bob@example.test"}, []))  # the answer has no "id"
    ctx = context(tmp_path, USERS_BY_NAME, target)
    created = ctx.api.call("user_create", auth=Tokens(access=ACCESS),
                           body={"username": "bob@example.test", "password": "pw-1234567", "role": "viewer"})
    user_id = ctx.api.object_id("user_create", created, {"username": "bob@example.test"})
    assert user_id == "bob@example.test"
    ctx.api.call("user_role", auth=Tokens(access=ACCESS), ids={"id": user_id}, body={"role": "editor"})
    ctx.api.call("user_delete", auth=Tokens(access=ACCESS), ids={"id": user_id})
    me = Principal("carol@example.test", "pw-1234567", "t", "viewer")
    ctx.api.call("me_update", auth=Tokens(access=ACCESS, user=me), body={"new_password": "x" * 12})
    ctx.api.call("me_role", auth=Tokens(access=ACCESS), body={"role": "admin"})
    paths = [request["path"] for request in target.requests[1:]]
    assert paths == ["/users/bob@example.test/role", "/people/bob@example.test",
                     "/accounts/carol@example.test/password", "/me/role"]


def test_a_listing_row_is_identified_by_the_operations_id_field(tmp_path: Path) -> None:
    ctx = context(tmp_path, USERS_BY_NAME, RecordingTarget())
    assert ctx.api.row_id("users_list", {"username": "bob", "pk": 3}) == "bob"
    assert ctx.api.row_id("users_list", {"id": 3}) == ""


def test_an_object_named_by_the_title_the_client_sent(tmp_path: Path) -> None:
    target = RecordingTarget((201, {"ok": True}, []))
    ctx = context(tmp_path, USERS_BY_NAME, target)
    created = ctx.api.call("document_create", auth=Tokens(access=ACCESS), body={"title": "memo-1", "body": "b"})
    doc_id = ctx.api.object_id("document_create", created, {"title": "memo-1"})
    ctx.api.call("document_get", auth=Tokens(access=ACCESS), ids={"id": doc_id})
    assert doc_id == "memo-1" and target.requests[1]["path"] == "/notes/memo-1"


def test_an_unknown_placeholder_is_an_error_never_sent_literally(tmp_path: Path) -> None:
    target = RecordingTarget()
    ctx = context(tmp_path, USERS_BY_NAME, target)
    with pytest.raises(ControlFailed, match=r"\{username\}"):
        ctx.api.call("user_role", auth=Tokens(access=ACCESS), ids={"id": "never-seen"}, body={"role": "editor"})
    assert target.requests == []


def test_the_signup_user_gets_its_id_from_the_field_it_sent(tmp_path: Path) -> None:
    text = USERS_BY_NAME.replace('[operations.signup]\nmethod = "POST"\npath = "/register"',
                                 '[operations.signup]\nmethod = "POST"\npath = "/register"\nid_field = "username"')
    target = RecordingTarget((201, {}, []))
    ctx = context(tmp_path, text, target)
    admin = ctx.users.tenant_admin()
    assert admin.user_id == admin.username and admin.placeholder("email") == admin.username


# ------------------------------------------------------------------ no inheritance of the reference's routes

FOREIGN = """
name = "a service with user administration but no user creation"
capabilities = ["signup", "roles", "user_admin"]
[target]
max_wait = 0
[roles]
member = 10
admin = 20
[permissions]
member = ["read"]
admin = ["read", "manage_users"]
[operations.signup]
method = "POST"
path = "/v1/join"
[operations.login]
method = "POST"
path = "/v1/session"
[operations.me]
path = "/v1/whoami"
[operations.users_list]
path = "/v1/members"
"""


def test_an_unmapped_operation_never_takes_the_references_route(tmp_path: Path) -> None:
    reference = profile.load()
    ctx = context(tmp_path, FOREIGN, RecordingTarget())
    loaded = ctx.profile
    assert loaded.roles_by_level() == ["member", "admin"]  # no viewer, editor or superadmin merged in
    for name in reference.operations:
        if name not in ("signup", "login", "me", "users_list"):
            assert name not in loaded.operations and not loaded.offers(name), name
    with pytest.raises(NotApplicable, match="operation user_create is not declared"):
        ctx.api.call("user_create", auth=Tokens(access=ACCESS), body={"username": "x"})
    with pytest.raises(NotApplicable, match="operation refresh is not declared"):
        ctx.api.refresh_response(Tokens(access=ACCESS, refresh=REFRESH))
    assert ctx.target.requests == []  # type: ignore[attr-defined]


def test_a_check_needing_an_undeclared_operation_is_not_applicable(tmp_path: Path) -> None:
    ctx = context(tmp_path, FOREIGN, RecordingTarget())
    check = registry.get("TOK-SIG-BROKEN")
    needing = dataclasses.replace(check, needs=frozenset({"op:user_create", "op:users_list"}))
    deployment = Deployment(RecordingTarget(), ctx.profile)  # type: ignore[arg-type]
    assert unmet_needs(needing, deployment) == ["operation user_create, which the profile does not declare"]
    result = run_check(needing, deployment)
    assert result.verdict is Verdict.NOT_APPLICABLE and "operation user_create" in result.reason
    typo = dataclasses.replace(check, needs=frozenset({"op:user_creat"}))
    with pytest.raises(ValueError, match="unknown need 'op:user_creat'"):
        unmet_needs(typo, deployment)


# Every capability but roles and cookies declared, each with one operation of its own at a path
# unlike the reference's (without roles, any role a check asks for is just a label).
FOREIGN_WIDE = FOREIGN.replace('capabilities = ["signup", "roles", "user_admin"]', "capabilities = " + json.dumps(
    [c for c in profile.CAPABILITIES if c not in ("cookies", "roles")])) + """
[operations.refresh]
method = "POST"
path = "/v1/session/renew"
[operations.logout]
method = "DELETE"
path = "/v1/session"
[operations.logout_all]
method = "DELETE"
path = "/v1/sessions"
[operations.sessions_list]
path = "/v1/sessions"
[operations.me_update]
method = "POST"
path = "/v1/whoami/secret"
[operations.me_delete]
method = "DELETE"
path = "/v1/whoami"
[operations.documents_list]
path = "/v1/files"
[operations.audit]
path = "/v1/journal"
[operations.jwks]
path = "/v1/keys"
[operations.mfa_setup]
method = "POST"
path = "/v1/second-factor"
"""


class AgreeableTarget(RecordingTarget):
    """Logs anyone in, and accepts any request that carries a token (refusing those without one),
    so that checks go as far as they can and reach every operation they would call."""

    OPEN = {("POST", "/v1/session"), ("POST", "/v1/session/renew"), ("POST", "/v1/join"), ("GET", "/v1/keys")}

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        self.requests.append({"method": method, "path": path, **kwargs})
        body: dict[str, Any] = {}
        if (method, path) == ("POST", "/v1/session"):
            body = {"access_token": ACCESS, "refresh_token": REFRESH}
        elif path == "/v1/join":
            body = {"id": str(len(self.requests))}
        elif (method, path) not in self.OPEN and not (kwargs.get("headers") or {}).get("Authorization"):
            return Response(401, Headers([]), b'{"error": "unauthorized"}', 0.0)
        return Response(200, Headers([]), json.dumps(body).encode(), 0.0)


def test_no_check_reaches_a_reference_route_the_profile_does_not_map(tmp_path: Path) -> None:
    """Every check, run against a target that agrees to everything, described by a foreign profile
    that declares every capability but maps only some operations: not one request goes to a route
    of the reference's that the profile does not map."""
    loaded = profile.load(_write(tmp_path, FOREIGN_WIDE))
    mapped = {(op.method, op.path) for op in loaded.operations.values()}
    reference = [(op.method, re.compile(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(op.path)) + "$"))
                 for op in profile.load().operations.values() if (op.method, op.path) not in mapped]
    sent: set[tuple[str, str]] = set()
    for check in registry.all_checks():
        if check.area == "properties":
            continue  # the property checks build their own paths from the profile's operations
        target = AgreeableTarget()
        run_check(check, Deployment(target, loaded))  # type: ignore[arg-type]
        sent |= {(request["method"], request["path"]) for request in target.requests}
    reached = sorted((method, path) for method, path in sent
                     if any(method == ref_method and pattern.match(path) for ref_method, pattern in reference))
    assert len(sent & mapped) >= 8, f"too few operations were reached for the test to prove anything: {sent}"
    assert not reached, f"checks reached routes of the reference the profile does not map: {reached}"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "foreign.toml"
    path.write_text(text)
    return path


def test_no_declared_maximum_password_length_probes_only_what_is_declared() -> None:
    result = run_on_reference("CRED-PASSWORD-LENGTH", base=profile.load(overrides={"passwords.max_length": 0}))
    assert result.verdict is Verdict.PASS, result.reason
    assert sorted(result.details["statuses"]) == ["128 (the contract's maximum (the target declares none))",
                                                  "7 (one under the minimum)", "8 (exactly the minimum)"]


SIGNUP_MAKES_USERS = """
name = "sign-up makes plain users"
capabilities = ["signup", "roles"]
[roles]
user = 10
admin = 20
[permissions]
user = ["read"]
admin = ["read", "manage_users"]
[users]
source = "signup"
signup_role = "user"
[[users.accounts]]
role = "admin"
username = "root"
password = "${ROOT_PASSWORD}"
[operations.signup]
method = "POST"
path = "/register"
[operations.login]
method = "POST"
path = "/login"
[operations.me]
path = "/me"
"""


def test_a_signup_of_plain_users_never_stands_for_an_admin(tmp_path: Path) -> None:
    target = RecordingTarget((201, {"id": 5}, []))
    ctx = context(tmp_path, SIGNUP_MAKES_USERS, target, {"ROOT_PASSWORD": "root-pass-123"})
    user = ctx.users.create("user")
    assert (user.role, user.user_id, target.requests[0]["path"]) == ("user", "5", "/register")
    admin = ctx.users.create("admin")
    assert (admin.username, admin.role) == ("root", "admin") and ctx.users.tenant_admin().username == "root"
    assert len(target.requests) == 1  # the admin is the declared account, not a sign-up
    with pytest.raises(profile.ProfileError) as caught:
        context(tmp_path, SIGNUP_MAKES_USERS.replace('signup_role = "user"', 'signup_role = "member"'),
                RecordingTarget(), {"ROOT_PASSWORD": "x"})
    assert caught.value.field_path == "users.signup_role" and "user, admin" in caught.value.fix
