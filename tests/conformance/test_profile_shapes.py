"""Profiles for services not written for this suite: how each target shape is spoken (form and
OAuth2 bodies, client credentials, token JSON paths and cookies, a custom header, refresh and
logout by body, header or cookie), how test users are obtained without roles or sign-up, and the
errors a wrong profile gets (file, field and fix)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from recording import RecordingTarget, context

from conformance import profile
from conformance.api import Principal, Tokens
from conformance.profile import ProfileError
from conformance.verdict import NotApplicable

ACCESS = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwic2lkIjoiczEifQ.c2lnbmF0dXJl"
REFRESH = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwidHlwZSI6InJlZnJlc2gifQ.c2lnbmF0dXJl"


# Each profile below describes a foreign target on its own: nothing is read from the reference's.
SIGN_UP_LOGIN_ME = """
[operations.signup]
method = "POST"
path = "/signup"
[operations.login]
method = "POST"
path = "/login"
[operations.me]
path = "/me"
"""
OAUTH = """
capabilities = ["refresh", "logout"]
[users]
source = "accounts"
[[users.accounts]]
username = "ann"
password = "${PW}"
[client]
id = "web"
secret = "${CLIENT_SECRET}"
operations = ["login", "refresh", "logout"]
[operations.login]
method = "POST"
path = "/token"
body = "form"
extra = { grant_type = "password" }
[operations.refresh]
method = "POST"
path = "/token/refresh"
body = "form"
extra = { grant_type = "refresh_token" }
[operations.logout]
method = "POST"
path = "/token/revoke"
body = "form"
auth = "none"
refresh_in = "body"
fields = { refresh_token = "token" }
[operations.me]
path = "/me"
"""
SECRETS = {"PW": "Pw-ann-123456", "CLIENT_SECRET": "client-secret-value"}


def test_oauth2_password_grant_is_a_form_with_basic_client_credentials(tmp_path: Path) -> None:
    target = RecordingTarget((200, {"access_token": ACCESS, "refresh_token": REFRESH}, []))
    ctx = context(tmp_path, OAUTH, target, SECRETS)
    tokens = ctx.api.login(ctx.users.create("viewer"))  # the account's password is registered as a secret
    sent = target.requests[0]
    assert (sent["path"], sent["form"]) == ("/token", {"grant_type": "password", "username": "ann",
                                                       "password": SECRETS["PW"]})
    expected = base64.b64encode(b"web:client-secret-value").decode()
    assert sent["headers"]["Authorization"] == f"Basic {expected}"
    assert tokens.access == ACCESS and tokens.refresh == REFRESH
    evidence = json.dumps(ctx.evidence)
    assert SECRETS["CLIENT_SECRET"] not in evidence and expected not in evidence and SECRETS["PW"] not in evidence


def test_client_credentials_in_the_body_are_renamed_by_fields(tmp_path: Path) -> None:
    text = OAUTH.replace('operations = ["login", "refresh", "logout"]',
                         'operations = ["login"]\nmethod = "body"').replace(
        'extra = { grant_type = "password" }', 'extra = { grant_type = "password" }\nfields = { client_id = "cid" }')
    target = RecordingTarget((200, {"access_token": ACCESS}, []))
    ctx = context(tmp_path, text, target, SECRETS)
    ctx.api.login(Principal("ann", SECRETS["PW"], "", "viewer"))
    form = target.requests[0]["form"]
    assert form["cid"] == "web" and form["client_secret"] == SECRETS["CLIENT_SECRET"]
    assert "Authorization" not in target.requests[0]["headers"]


def test_refresh_grant_and_revocation_send_the_refresh_token_in_the_body(tmp_path: Path) -> None:
    target = RecordingTarget((200, {"access_token": ACCESS, "refresh_token": REFRESH}, []), (200, {}, []))
    ctx = context(tmp_path, OAUTH, target, SECRETS)
    tokens = Tokens(access=ACCESS, refresh=REFRESH)
    ctx.api.refresh_response(tokens)
    ctx.api.call("logout", auth=tokens)
    refresh, logout = target.requests
    assert refresh["form"] == {"grant_type": "refresh_token", "refresh_token": REFRESH}
    assert logout["form"] == {"token": REFRESH}
    assert logout["headers"]["Authorization"].startswith("Basic ")  # no access token: auth = "none"


HEADER_REFRESH = """
capabilities = ["signup", "refresh"]
[tokens]
access_field = "data.jwt"
refresh_field = "data.refresh_jwt"
header = "X-Access-Token"
scheme = ""
[operations.refresh]
method = "POST"
path = "/api/token/refresh"
refresh_in = "header"
""" + SIGN_UP_LOGIN_ME


def test_token_json_paths_custom_header_and_refresh_in_a_header(tmp_path: Path) -> None:
    target = RecordingTarget((200, {"data": {"jwt": ACCESS, "refresh_jwt": REFRESH}}, []),
                             (200, {"data": {"jwt": ACCESS + "x"}}, []), (200, {}, []))
    ctx = context(tmp_path, HEADER_REFRESH, target)
    tokens = ctx.api.login(Principal("ann", "pw-123456789", "t", "viewer"))
    assert (tokens.access, tokens.refresh) == (ACCESS, REFRESH)
    fresh = ctx.api.refresh(tokens)
    assert target.requests[1]["headers"] == {"X-Access-Token": REFRESH}
    assert fresh.refresh == REFRESH and fresh.refresh_kept  # no new refresh token: the old one stays
    ctx.api.me(fresh)
    assert target.requests[2]["headers"] == {"X-Access-Token": ACCESS + "x"}


def test_refresh_header_and_scheme_of_their_own(tmp_path: Path) -> None:
    text = HEADER_REFRESH.replace('scheme = ""',
                                  'scheme = ""\nrefresh_header = "X-Refresh-Token"\nrefresh_scheme = "Refresh"')
    target = RecordingTarget((200, {"data": {"jwt": ACCESS}}, []))
    ctx = context(tmp_path, text, target)
    ctx.api.refresh_response(Tokens(access=ACCESS, refresh=REFRESH))
    assert target.requests[0]["headers"] == {"X-Refresh-Token": f"Refresh {REFRESH}"}


COOKIES = """
capabilities = ["signup", "refresh", "logout", "cookies"]
[tokens]
delivery = "cookie"
access_cookie = "app_access"
refresh_cookie = "app_refresh"
csrf_cookie = "app_csrf"
csrf_header = "X-App-CSRF"
session_field = "session.id"
[operations.logout]
method = "POST"
path = "/auth/logout"
refresh_in = "cookie"
[operations.refresh]
method = "POST"
path = "/auth/refresh"
""" + SIGN_UP_LOGIN_ME


def test_cookie_delivery_refresh_and_logout_by_cookie(tmp_path: Path) -> None:
    set_cookies = [("Set-Cookie", f"app_access={ACCESS}; HttpOnly; Path=/"),
                   ("Set-Cookie", f"app_refresh={REFRESH}; HttpOnly; Path=/auth/refresh"),
                   ("Set-Cookie", "app_csrf=csrf-value-123; Path=/")]
    target = RecordingTarget((200, {"session": {"id": "s-1"}}, set_cookies), (200, {}, []), (200, {}, []),
                             (200, {}, []))
    ctx = context(tmp_path, COOKIES, target)
    tokens = ctx.api.login(Principal("ann", "pw-123456789", "t", "viewer"))
    assert tokens.session_id == "s-1" and tokens.refresh == REFRESH
    ctx.api.refresh_response(tokens)
    ctx.api.call("logout", auth=tokens)
    ctx.api.me(ACCESS)  # a bare token goes where this target reads tokens: the access cookie
    _login, refresh, logout, me = target.requests
    assert refresh["cookies"] == {"app_refresh": REFRESH}
    assert logout["cookies"] == {"app_access": ACCESS, "app_csrf": "csrf-value-123", "app_refresh": REFRESH}
    assert logout["headers"] == {"X-App-CSRF": "csrf-value-123"}
    assert me["cookies"] == {"app_access": ACCESS} and me["headers"] == {}


def test_sign_up_without_tenants_sends_no_tenant_and_any_role_is_a_fresh_user(tmp_path: Path) -> None:
    text = 'capabilities = ["signup"]\n[users]\nusername_template = "{name}@example.test"\n' \
           '[operations.signup]\nmethod = "POST"\npath = "/signup"\nbody = "form"\n' \
           'fields = { username = "email", password = "password" }\n' \
           '[operations.login]\nmethod = "POST"\npath = "/login"\n[operations.me]\npath = "/me"\n'
    target = RecordingTarget((201, {"user": {"id": 7}}, []), (201, {"user": {"id": 8}}, []))
    ctx = context(tmp_path, text, target)
    editor = ctx.users.create("editor")
    admin = ctx.users.create("admin")
    form = target.requests[0]["form"]
    assert set(form) == {"email", "password"} and form["email"].endswith("@example.test")
    assert (editor.role, editor.user_id, admin.user_id) == ("editor", "7", "8")
    assert len(target.requests) == 2  # no user administration was called


ACCOUNTS = """
capabilities = []
[operations.login]
method = "POST"
path = "/login"
[operations.me]
path = "/me"
[users]
source = "accounts"
[[users.accounts]]
username = "one"
password = "${PW1}"
[[users.accounts]]
username = "two"
password = "${PW2}"
"""


def test_accounts_are_handed_out_in_turn_and_a_second_user_is_another_account(tmp_path: Path) -> None:
    ctx = context(tmp_path, ACCOUNTS, RecordingTarget(), {"PW1": "pw-one-1234", "PW2": "pw-two-1234"})
    first = ctx.users.create("viewer")
    second = ctx.users.create("admin", distinct_from=first)  # without roles, any account stands for any role
    assert (first.username, second.username) == ("one", "two")
    assert ctx.redactor.text("pw-one-1234 pw-two-1234") == "[redacted] [redacted]"


def test_one_account_cannot_stand_for_two_users(tmp_path: Path) -> None:
    text = ACCOUNTS.split("[[users.accounts]]\nusername = \"two\"")[0]
    ctx = context(tmp_path, text, RecordingTarget(), {"PW1": "pw-one-1234"})
    first = ctx.users.create("viewer")
    with pytest.raises(NotApplicable, match="second viewer user"):
        ctx.users.create("viewer", distinct_from=first)


def test_operations_of_undeclared_capabilities_are_not_offered() -> None:
    loaded = profile.load(overrides={"capabilities": ["signup", "refresh"]})
    assert loaded.offers("refresh") and loaded.offers("me") and loaded.offers("login")
    assert not loaded.offers("document_create") and not loaded.offers("logout")


@pytest.mark.parametrize(
    ("text", "field_path", "fix_hint"),
    [
        ('[operations.refesh]\nmethod = "POST"\npath = "/r"\n', "operations.refesh", "operations.refresh"),
        ('[operations.login]\nmethod = "post"\n', "operations.login.method", "upper case"),
        ('[operations.login]\npath = "api/login"\n', "operations.login.path", "/api/login"),
        ('[operations.logout]\nauth = "bearer"\n', "operations.logout.auth", '"access", "none" or "basic"'),
        ('[operations.refresh]\nrefresh_in = "query"\n', "operations.refresh.refresh_in", '"body", "header"'),
        ('[client]\nid = "web"\nmethod = "jwt"\n', "client.method", '"basic" or "body"'),
        ('[client]\nsecret = "s3cret-value"\n', "client.id", "client_id"),
        ('[client]\nid = "web"\noperations = ["tokn"]\n', "client.operations[0]", "login"),
        ('[client]\nid = "web"\n[operations.login]\nauth = "basic"\n', "operations.login.auth", 'method = "body"'),
        ('[users]\nsource = "accounts"\n', "users.accounts", "[[users.accounts]]"),
        ('[users]\nsource = "accounts"\n[[users.accounts]]\nusername = "ann"\n', "users.accounts[0].password",
         "${APP_VIEWER_PASSWORD}"),
        ('[[users.accounts]]\nrole = "owner"\nusername = "a"\npassword = "b"\n', "users.accounts[0].role",
         "viewer"),
        ('[users]\nusername_template = "someone@example.test"\n', "users.username_template", "{name}"),
        ('[tokens]\naccess_field = ""\n', "tokens.access_field", "data.token"),
        ('capabilities = ["refresh"]\n[users]\nsource = "accounts"\n[[users.accounts]]\n'
         'username = "a"\npassword = "b"\n[operations.login]\npath = "/l"\n[operations.me]\npath = "/me"\n',
         "operations.refresh", "drop 'refresh'"),
        ('capabilities = []\n[users]\nsource = "accounts"\n[[users.accounts]]\nusername = "a"\npassword = "b"\n'
         '[operations.login]\npath = "/l"\n', "operations.me", "[operations.me]"),
    ],
)
def test_a_wrong_target_profile_names_the_field_and_the_fix(tmp_path: Path, text: str, field_path: str,
                                                            fix_hint: str) -> None:
    path = tmp_path / "target.toml"
    standalone = text.startswith("capabilities")
    path.write_text(text if standalone else 'extends = "reference"\n' + text)
    with pytest.raises(ProfileError) as caught:
        profile.load(path, environ={})
    assert caught.value.field_path == field_path
    assert fix_hint in str(caught.value) and str(path) in str(caught.value)


def test_every_example_profile_loads(tmp_path: Path) -> None:
    examples = sorted((Path(__file__).parents[2] / "examples" / "profiles").glob("*.toml"))
    assert len(examples) >= 3
    for example in examples:
        variables = {name: "http://127.0.0.1:9" if name.endswith("_URL") else "value"
                     for name in _variables(example.read_text())}
        loaded = profile.load(example, environ=variables)
        assert loaded.name and loaded.operation("login").path.startswith("/")


def _variables(text: str) -> set[str]:
    import re

    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))


def test_an_overridden_field_needs_no_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "target.toml"
    path.write_text('extends = "reference"\n[target]\nbase_url = "${SERVICE_URL}"\n')
    loaded = profile.load(path, environ={}, overrides={"target.base_url": "http://127.0.0.1:8080"})
    assert loaded.target.base_url == "http://127.0.0.1:8080"
