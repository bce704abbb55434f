"""The example targets as session fixtures (served by ``services.py``), and the notes accounts with
2FA on that an operator enrolls before a run."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import requests
from example_targets import NOTES_MFA_ACCOUNT_COUNT, Served
from services import serve_ledger, serve_members, serve_notes, serve_portal, serve_shop, serve_tracker, serve_vault


@pytest.fixture(scope="session")
def notes_target(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_notes(tmp_path_factory.mktemp("notes"), redis_server)


@pytest.fixture(scope="session")
def shop_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_shop(tmp_path_factory.mktemp("shop"))


@pytest.fixture(scope="session")
def portal_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_portal(tmp_path_factory.mktemp("portal"))


@pytest.fixture(scope="session")
def members_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_members(tmp_path_factory.mktemp("members"))


@pytest.fixture(scope="session")
def tracker_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_tracker(tmp_path_factory.mktemp("tracker"))


@pytest.fixture(scope="session")
def ledger_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_ledger(tmp_path_factory.mktemp("ledger"))


@pytest.fixture(scope="session")
def vault_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_vault(tmp_path_factory.mktemp("vault"))


# Accounts of notes with 2FA on, enrolled by an operator (this fixture) before the suite runs: the
# suite gets only what the profile's [[users.accounts]] read from the environment.
@pytest.fixture(scope="session")
def notes_mfa_accounts(notes_target: Served) -> dict[str, str]:
    import pyotp

    environ = {}
    for n in range(1, NOTES_MFA_ACCOUNT_COUNT + 1):
        username, password = f"operator-mfa-{n}-{secrets.token_hex(3)}", "Pw-" + secrets.token_urlsafe(12)
        api = notes_target.url + "/api"
        assert requests.post(f"{api}/register", json={"username": username, "password": password},
                             timeout=10).status_code == 201
        login = requests.post(f"{api}/login", json={"username": username, "password": password}, timeout=10)
        auth = {"X-Access-Token": login.json()["data"]["jwt"]}
        secret = requests.post(f"{api}/2fa/setup", headers=auth, timeout=10).json()["secret"]
        enabled = requests.post(f"{api}/2fa/enable", headers=auth, json={"otp": pyotp.TOTP(secret).now()}, timeout=10)
        assert enabled.status_code == 200, enabled.text
        environ |= {f"NOTES_MFA_USER{n}": username, f"NOTES_MFA_PASSWORD{n}": password,
                    f"NOTES_MFA_SECRET{n}": secret}
    return environ
