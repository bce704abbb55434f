"""The whole suite over HTTP against the example targets, each described by its profile in
``examples/profiles/``. Every check's verdict is pinned: what the service's real behaviour
deserves, failures included. A check added to the registry must be placed in one of the sets.

Why the failures are failures (each is how the service really behaves):

notes (Flask-JWT-Extended): tokens carry no iss or aud and the extension does not require exp,
so tokens with a foreign or missing issuer/audience, or without exp, are accepted; logout
blocklists only the presented access token (the refresh token and older access tokens of the
login keep working); a password change revokes nothing, and one without the old password crashes
(500: the view reads ``data["old_password"]``) instead of being refused; refresh does not rotate, so reuse
cannot be judged (error, as the suite reports checks it cannot decide); an unknown user is
answered without hashing (timing); errors are ``{"msg": ...}`` with 422 for a bad token; no
maximum password length; a JSON list as login body crashes the view (500).

shop (FastAPI): uvicorn trusts X-Forwarded-For from 127.0.0.1 by default, so a client on
loopback escapes the per-address login limit; errors are FastAPI's ``{"detail": ...}`` without
``error="invalid_token"``.

portal (cookies + CSRF): cookies lack Secure (the development default); reuse of a rotated refresh
token is refused but does not end the session; logout deletes the refresh cookie on Path=/ while
it was set on /auth/refresh, so browsers keep it; 401 answers carry no WWW-Authenticate.

members (DRF + simplejwt), tracker (fastapi-users), ledger (Flask, HTTP Basic) and vault (single-use
access tokens): the reason is beside each pin in pinned.py. Pins marked PROVISIONAL record a limit
of the suite met on these services (checks that ask for a "viewer" where the profile's roles are
user and admin; role checks that cannot fill {username} for a pre-provisioned account; a claim
check that ignores tokens.subject_claim; a state model that assumes session eviction): they are
expected to change when the suite is fixed, and are not deviations of the service.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from example_targets import NOTES_MFA_ACCOUNT_COUNT, Served, declared_accounts_still_log_in, run_suite, verdicts
from pinned import EXPECTED, NOTES_MFA_ACCOUNTS, expected_verdicts

from conformance import registry

pytestmark = pytest.mark.served

# Secrets each target's profile reads: none may appear in any result (reason, evidence, details).
SECRET_VARIABLES = {"notes": ("NOTES_JWT_SECRET",), "shop": ("SHOP_CLIENT_SECRET", "SHOP_PASSWORD1", "SHOP_PASSWORD2"),
                    "portal": (),
                    "members": ("MEMBERS_SECRET_KEY", "MEMBERS_ADMIN1_PASSWORD", "MEMBERS_ADMIN2_PASSWORD",
                                "MEMBERS_USER1_PASSWORD", "MEMBERS_USER2_PASSWORD"),
                    "tracker": ("TRACKER_SECRET",), "ledger": ("LEDGER_JWT_SECRET",), "vault": ("VAULT_JWT_SECRET",)}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_check_is_pinned_exactly_once(name: str) -> None:
    assert set(expected_verdicts(name)) == {check.id for check in registry.all_checks()}


# Every target's whole run is made twice: one check at a time, and side by side with the profile's
# default concurrency ([target] max_concurrency). Both must give the pinned verdicts: running checks
# side by side changes how long a run takes, never what it finds.
@pytest.fixture(params=[1, None], ids=["serial", "side-by-side"])
def jobs(request: pytest.FixtureRequest) -> int | None:
    return request.param


def _run_and_compare(target: Served, *, jobs: int | None) -> None:
    result = run_suite(target.profile, target.environ, jobs=jobs)
    assert result.stopped is None and result.exit_code() in (0, 1), f"the run did not end by itself: {result.stopped}"
    got = verdicts(result)
    expected = expected_verdicts(target.name)
    wrong = {check_id: f"got {got.get(check_id)}, pinned {verdict}"
             for check_id, verdict in expected.items() if got.get(check_id) != verdict}
    reasons = {r.check_id: r.reason for r in result.results if r.check_id in wrong}
    assert not wrong, "\n".join(f"{k}: {v} ({reasons.get(k, '')})" for k, v in sorted(wrong.items()))
    not_applicable = [r for r in result.results if str(r.verdict) == "not-applicable"]
    assert all(r.reason for r in not_applicable), "every not-applicable verdict says why"
    report = json.dumps([r.to_dict() for r in result.results])
    secrets = [target.environ[name] for name in SECRET_VARIABLES[target.name]]
    if target.name == "shop":  # the client credentials also travel base64-encoded in a Basic header
        pair = f"{target.environ['SHOP_CLIENT_ID']}:{target.environ['SHOP_CLIENT_SECRET']}"
        secrets.append(base64.b64encode(pair.encode()).decode())
    assert not [s for s in secrets if s in report], "a secret of the profile reached the results"
    assert not (left := declared_accounts_still_log_in(target.profile, target.environ)), left


def test_notes_flask_jwt_extended_verdicts(notes_target: Served, jobs: int | None) -> None:
    _run_and_compare(notes_target, jobs=jobs)


# branch mfa: notes pointed at accounts with 2FA on, enrolled by an operator beforehand; the profile
# reads their secrets from the environment (docs/targets.md shows the same [[users.accounts]]).
NOTES_MFA_ACCOUNTS_TOML = "".join(f"""
[[users.accounts]]
username = "${{NOTES_MFA_USER{n}}}"
password = "${{NOTES_MFA_PASSWORD{n}}}"
totp_secret = "${{NOTES_MFA_SECRET{n}}}"
""" for n in range(1, NOTES_MFA_ACCOUNT_COUNT + 1))


def test_notes_mfa_verdicts_on_declared_accounts(notes_target: Served, notes_mfa_accounts: dict[str, str],
                                                 tmp_path: Path) -> None:
    # Side by side only: the pace of this run is set by the accounts' TOTP steps (each login waits
    # for a code no earlier login of its account used), not by how many checks are in flight: with
    # two accounts serial and side by side gave the same verdicts in the same time (117.5 s, 119.2 s).
    profile_path = tmp_path / "notes-mfa-accounts.toml"
    profile_path.write_text(notes_target.profile.read_text() + NOTES_MFA_ACCOUNTS_TOML)
    environ = {**notes_target.environ, **notes_mfa_accounts}
    result = run_suite(profile_path, environ, area="mfa", jobs=None, **{"mfa.source": "accounts"})
    got = verdicts(result)
    reasons = {r.check_id: r.reason for r in result.results}
    expected = {check_id: verdict for check_id, (verdict, _why) in NOTES_MFA_ACCOUNTS.items()}
    wrong = {c: f"got {got.get(c)}, pinned {v} ({reasons.get(c, '')})" for c, v in expected.items() if got.get(c) != v}
    assert not wrong, "\n".join(f"{k}: {v}" for k, v in sorted(wrong.items()))
    report = json.dumps([r.to_dict() for r in result.results])
    secrets = [value for name, value in notes_mfa_accounts.items() if "USER" not in name]
    assert not [s for s in secrets if s in report], "a secret of the profile reached the results"


def test_shop_fastapi_oauth2_verdicts(shop_target: Served, jobs: int | None) -> None:
    _run_and_compare(shop_target, jobs=jobs)


def test_portal_cookie_csrf_verdicts(portal_target: Served, jobs: int | None) -> None:
    _run_and_compare(portal_target, jobs=jobs)


def test_members_drf_simplejwt_verdicts(members_target: Served, jobs: int | None) -> None:
    # Pre-provisioned accounts (two per role): side by side, each check in flight leases its own.
    _run_and_compare(members_target, jobs=jobs)


def test_tracker_fastapi_users_verdicts(tracker_target: Served, jobs: int | None) -> None:
    _run_and_compare(tracker_target, jobs=jobs)


def test_ledger_basic_login_verdicts(ledger_target: Served, jobs: int | None) -> None:
    _run_and_compare(ledger_target, jobs=jobs)


def test_vault_single_use_tokens_verdicts(vault_target: Served, jobs: int | None) -> None:
    _run_and_compare(vault_target, jobs=jobs)
