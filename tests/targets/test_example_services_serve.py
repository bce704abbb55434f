"""Each newer example service serves as a real process and logs in over HTTP, and has the trait
its example is there for (what its profile in ``examples/profiles/`` describes)."""

from __future__ import annotations

import secrets

import pytest
import requests
from example_targets import Served

pytestmark = pytest.mark.served

TIMEOUT = 10


def _password() -> str:
    return "Pw-" + secrets.token_urlsafe(12)


def test_members_logs_in_and_blacklists_a_rotated_refresh_token(members_target: Served) -> None:
    url, env = members_target.url, members_target.environ
    login = requests.post(f"{url}/api/token/", json={"username": env["MEMBERS_ADMIN1"],
                                                     "password": env["MEMBERS_ADMIN1_PASSWORD"]}, timeout=TIMEOUT)
    assert login.status_code == 200, login.text
    pair = login.json()
    users = requests.get(f"{url}/api/users/", headers={"Authorization": f"Bearer {pair['access']}"}, timeout=TIMEOUT)
    assert users.status_code == 200 and env["MEMBERS_USER1"] in {u["username"] for u in users.json()}
    rotated = requests.post(f"{url}/api/token/refresh/", json={"refresh": pair["refresh"]}, timeout=TIMEOUT)
    assert rotated.status_code == 200 and rotated.json()["refresh"] != pair["refresh"]
    reused = requests.post(f"{url}/api/token/refresh/", json={"refresh": pair["refresh"]}, timeout=TIMEOUT)
    assert reused.status_code == 401


def test_members_staff_only_route_refuses_a_user(members_target: Served) -> None:
    url, env = members_target.url, members_target.environ
    login = requests.post(f"{url}/api/token/", json={"username": env["MEMBERS_USER1"],
                                                     "password": env["MEMBERS_USER1_PASSWORD"]}, timeout=TIMEOUT)
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Bearer {login.json()['access']}"}
    promote = requests.put(f"{url}/api/users/{env['MEMBERS_USER1']}/role/", json={"role": "admin"}, headers=auth,
                           timeout=TIMEOUT)
    assert promote.status_code == 403


def test_tracker_signs_up_by_email_and_logs_in_with_the_password_form(tracker_target: Served) -> None:
    url, password = tracker_target.url, _password()
    email = f"t{secrets.token_hex(4)}@example.com"
    assert requests.post(f"{url}/auth/register", json={"email": email, "password": password},
                         timeout=TIMEOUT).status_code == 201
    reserved = requests.post(f"{url}/auth/register", json={"email": "x@example.test", "password": password},
                             timeout=TIMEOUT)
    assert reserved.status_code == 422  # email-validator refuses special-use domains
    login = requests.post(f"{url}/auth/jwt/login", data={"username": email, "password": password}, timeout=TIMEOUT)
    assert login.status_code == 200, login.text
    me = requests.get(f"{url}/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"},
                      timeout=TIMEOUT)
    assert me.status_code == 200 and me.json()["email"] == email


def test_ledger_logs_in_by_basic_and_refreshes_with_both_tokens(ledger_target: Served) -> None:
    url, username, password = ledger_target.url, f"l{secrets.token_hex(4)}", _password()
    assert requests.post(f"{url}/api/signup", json={"username": username, "password": password},
                         timeout=TIMEOUT).status_code == 201
    assert requests.post(f"{url}/api/auth/login", auth=("nobody", password), timeout=TIMEOUT).status_code == 401
    login = requests.post(f"{url}/api/auth/login", auth=(username, password), timeout=TIMEOUT)
    assert login.status_code == 200, login.text
    pair = login.json()
    alone = requests.post(f"{url}/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=TIMEOUT)
    assert alone.status_code == 400
    both = requests.post(f"{url}/api/auth/refresh", json={"access_token": pair["access_token"],
                                                          "refresh_token": pair["refresh_token"]}, timeout=TIMEOUT)
    assert both.status_code == 200, both.text
    me = requests.get(f"{url}/api/me", headers={"Authorization": f"Bearer {both.json()['access_token']}"},
                      timeout=TIMEOUT)
    assert me.status_code == 200 and me.json()["username"] == username


def test_vault_accepts_an_access_token_once_and_renews_as_token(vault_target: Served) -> None:
    url, username, password = vault_target.url, f"v{secrets.token_hex(4)}", _password()
    assert requests.post(f"{url}/v1/users", json={"username": username, "password": password},
                         timeout=TIMEOUT).status_code == 201
    login = requests.post(f"{url}/v1/sessions", json={"username": username, "password": password}, timeout=TIMEOUT)
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert requests.get(f"{url}/v1/me", headers=auth, timeout=TIMEOUT).status_code == 200
    assert requests.get(f"{url}/v1/me", headers=auth, timeout=TIMEOUT).status_code == 401
    renewed = requests.post(f"{url}/v1/sessions/renew", json={"refresh_token": login.json()["refresh_token"]},
                            timeout=TIMEOUT)
    assert renewed.status_code == 200 and set(renewed.json()) == {"token"}
    me = requests.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {renewed.json()['token']}"}, timeout=TIMEOUT)
    assert me.status_code == 200 and me.json()["username"] == username
