"""Multi-factor authentication in the reference (contract section 9): enrolment, the two-step
login, code replay and window, attempt limits, backup codes, disabling, the audit trail."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest

from reference_impl.mfa import BackupCode, MfaFactor

from .conftest import PASSWORD, Clock, Harness, Login

STEP = 30
# Many logins of one account in a minute: the login limiter is not what these tests are about.
ROOMY_LOGIN = {"login_limit_account": 100, "login_limit_ip": 400}


@dataclass
class Enrolled:
    login: Login
    secret: str
    backup_codes: list[str]

    def code(self, now: float, steps: int = 0) -> str:
        return str(pyotp.TOTP(self.secret).at(now + steps * STEP))


@pytest.fixture
def ref(make: Any) -> Harness:
    harness: Harness = make(**ROOMY_LOGIN)
    return harness


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def enrol(ref: Harness, clock: Clock, role: str = "viewer", **kwargs: Any) -> Enrolled:
    login = ref.login(role, **kwargs)
    setup = ref.call("POST", "/auth/mfa/setup", login)
    assert setup.status_code == 200, setup.json
    secret = str(setup.json["secret"])
    confirm = ref.call("POST", "/auth/mfa/confirm", login, json={"code": pyotp.TOTP(secret).at(clock.now())})
    assert confirm.status_code == 200, confirm.json
    clock.advance(STEP)  # the confirming code's step is spent
    return Enrolled(login, secret, confirm.json["backup_codes"])


def password_step(ref: Harness, user: Enrolled) -> Any:
    return ref.client.post("/auth/login", json={"username": user.login.username, "password": PASSWORD,
                                                "tenant": user.login.tenant})


def challenge(ref: Harness, user: Enrolled) -> str:
    answer = password_step(ref, user)
    assert answer.status_code == 200 and answer.json["mfa_required"] is True, answer.json
    return str(answer.json["mfa_token"])


def verify(ref: Harness, token: str, code: str, **kwargs: Any) -> Any:
    return ref.client.post("/auth/mfa/verify", json={"mfa_token": token, "code": code}, **kwargs)


def test_setup_answers_a_fresh_secret_and_uri_and_mfa_is_off_until_confirmed(ref: Harness, clock: Clock) -> None:
    login = ref.login()
    first = ref.call("POST", "/auth/mfa/setup", login).json
    second = ref.call("POST", "/auth/mfa/setup", login).json
    assert first["secret"] != second["secret"]
    base64.b32decode(second["secret"])
    assert second["otpauth_uri"].startswith("otpauth://totp/") and f"secret={second['secret']}" in second[
        "otpauth_uri"]
    relogin = ref.client.post("/auth/login", json={"username": login.username, "password": PASSWORD,
                                                   "tenant": login.tenant})
    assert "access_token" in (relogin.json or {})  # not on yet
    wrong = ref.call("POST", "/auth/mfa/confirm", login, json={"code": "000000" if pyotp.TOTP(
        second["secret"]).now() != "000000" else "111111"})
    assert wrong.status_code == 403
    stale = ref.call("POST", "/auth/mfa/confirm", login, json={"code": pyotp.TOTP(first["secret"]).now()})
    assert stale.status_code == 403  # only the latest setup's secret confirms
    ok = ref.call("POST", "/auth/mfa/confirm", login, json={"code": pyotp.TOTP(second["secret"]).now()})
    assert ok.status_code == 200 and len(ok.json["backup_codes"]) == 10


def test_setup_again_while_enabled_needs_a_code_or_the_password(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    assert ref.call("POST", "/auth/mfa/setup", user.login).status_code == 403
    assert ref.call("POST", "/auth/mfa/setup", user.login, json={"password": "wrong-password"}).status_code == 403
    assert ref.call("POST", "/auth/mfa/setup", user.login, json={"password": PASSWORD}).status_code == 200
    code = user.code(clock.now())
    assert ref.call("POST", "/auth/mfa/setup", user.login, json={"code": code}).status_code == 200
    assert ref.call("POST", "/auth/mfa/setup", user.login, json={"code": code}).status_code == 403  # spent


def test_secrets_are_never_answered_after_enrolment(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock, "admin")
    answers = [ref.get("/users/me", user.login).get_data(as_text=True),
               ref.get("/users", user.login).get_data(as_text=True)]
    token = challenge(ref, user)
    answers.append(verify(ref, token, user.code(clock.now())).get_data(as_text=True))
    for text in answers:
        assert user.secret not in text
        assert not any(code in text for code in user.backup_codes)


def test_login_with_mfa_answers_only_a_challenge_then_verify_gives_the_pair(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    answer = password_step(ref, user)
    assert set(answer.json) == {"mfa_required", "mfa_token", "expires_in"}
    claims = _claims(answer.json["mfa_token"])
    assert claims["type"] == "mfa" and claims["exp"] - claims["iat"] == 300
    with ref.app.app_context():
        assert not ref.services.store.list_sessions(user.login.user_id, clock.now(), None)[1:]  # only enrol's
    pair = verify(ref, answer.json["mfa_token"], user.code(clock.now()))
    assert pair.status_code == 200 and {"access_token", "refresh_token", "session_id"} <= set(pair.json)
    assert pair.json["session_id"] == claims["sid"]
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {pair.json['access_token']}"}
                          ).status_code == 200
    assert ref.client.post("/auth/refresh", json={"refresh_token": pair.json["refresh_token"]}).status_code == 200


def test_the_challenge_expires_after_its_ttl(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    token = challenge(ref, user)
    clock.advance(301)
    assert verify(ref, token, user.code(clock.now())).status_code == 401


def test_the_challenge_is_neither_access_nor_refresh_token_nor_the_reverse(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    token = challenge(ref, user)
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert ref.client.post("/auth/refresh", json={"refresh_token": token}).status_code == 401
    for wrong_kind in (user.login.access, user.login.refresh):
        assert verify(ref, wrong_kind, user.code(clock.now())).status_code == 401


def test_a_challenge_is_spent_by_its_first_success(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    token = challenge(ref, user)
    assert verify(ref, token, user.code(clock.now())).status_code == 200
    again = verify(ref, token, user.backup_codes[0])
    assert again.status_code == 401
    assert verify(ref, challenge(ref, user), user.backup_codes[0]).status_code == 200  # the code was not used up


def test_a_code_counts_for_its_challenges_user_only(ref: Harness, clock: Clock) -> None:
    victim = enrol(ref, clock)
    attacker = enrol(ref, clock)
    stolen = challenge(ref, victim)
    code = attacker.code(clock.now())
    assert verify(ref, stolen, code, headers=attacker.login.auth).status_code == 401
    assert verify(ref, stolen, code).status_code == 401


def test_a_code_is_accepted_one_step_either_side_and_only_once(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    clock.advance(STEP * 4 + 10)
    now = clock.now()
    assert verify(ref, challenge(ref, user), user.code(now, -2)).status_code == 401
    assert verify(ref, challenge(ref, user), user.code(now, 2)).status_code == 401
    assert verify(ref, challenge(ref, user), user.code(now, -1)).status_code == 200
    assert verify(ref, challenge(ref, user), user.code(now)).status_code == 200
    assert verify(ref, challenge(ref, user), user.code(now)).status_code == 401  # replayed in its step
    assert verify(ref, challenge(ref, user), user.code(now, -1)).status_code == 401  # older than the last used
    assert verify(ref, challenge(ref, user), user.code(now, 1)).status_code == 200


def test_attempts_are_limited_per_challenge(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    token = challenge(ref, user)
    wrong = "123456" if user.code(clock.now()) != "123456" else "654321"
    statuses = [verify(ref, token, wrong).status_code for _ in range(5)]
    assert statuses == [401] * 5
    limited = verify(ref, token, user.code(clock.now()))
    assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_failures_are_limited_per_account_across_challenges(make: Any, clock: Clock) -> None:
    ref = make(**ROOMY_LOGIN, mfa_attempt_limit=3)
    user = enrol(ref, clock)
    wrong = "123456" if user.code(clock.now()) != "123456" else "654321"
    for _ in range(3):
        assert verify(ref, challenge(ref, user), wrong).status_code == 401
    assert verify(ref, challenge(ref, user), user.code(clock.now())).status_code == 429
    clock.advance(301)
    assert verify(ref, challenge(ref, user), user.code(clock.now())).status_code == 200


def test_backup_codes_are_argon2id_hashes_each_usable_once(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    with ref.app.app_context():
        from reference_impl.db import db

        rows = list(db().query(BackupCode).filter_by(user_id=user.login.user_id))
        assert len(rows) == 10 and all(row.digest.startswith("$argon2id$") for row in rows)
        assert sum(ref.services.passwords.verify(row.digest, user.backup_codes[0]) for row in rows) == 1
        assert not any(user.backup_codes[0] in row.digest for row in rows)
    first = verify(ref, challenge(ref, user), user.backup_codes[0])
    assert first.status_code == 200
    assert verify(ref, challenge(ref, user), user.backup_codes[0]).status_code == 401
    assert verify(ref, challenge(ref, user), user.backup_codes[1]).status_code == 200


def test_regenerating_backup_codes_replaces_the_whole_set(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    assert ref.call("POST", "/auth/mfa/backup-codes", user.login).status_code == 403
    fresh = ref.call("POST", "/auth/mfa/backup-codes", user.login, json={"password": PASSWORD})
    assert fresh.status_code == 200 and len(fresh.json["backup_codes"]) == 10
    assert verify(ref, challenge(ref, user), user.backup_codes[2]).status_code == 401
    assert verify(ref, challenge(ref, user), fresh.json["backup_codes"][0]).status_code == 200


def test_disabling_needs_password_and_code_and_ends_the_other_sessions(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    other = verify(ref, challenge(ref, user), user.backup_codes[0]).json
    code = user.code(clock.now())
    assert ref.call("POST", "/auth/mfa/disable", user.login, json={"password": PASSWORD}).status_code == 403
    assert ref.call("POST", "/auth/mfa/disable", user.login, json={"code": code}).status_code == 403
    assert ref.call("POST", "/auth/mfa/disable", user.login,
                    json={"password": "wrong-password", "code": code}).status_code == 403
    clock.advance(STEP)
    done = ref.call("POST", "/auth/mfa/disable", user.login, json={"password": PASSWORD,
                                                                   "code": user.code(clock.now())})
    assert done.status_code == 200
    assert ref.me(user.login) == 200
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {other['access_token']}"}
                          ).status_code == 401
    assert "access_token" in password_step(ref, user).json
    with ref.app.app_context():
        from reference_impl.db import db

        assert db().get(MfaFactor, user.login.user_id) is None


def test_every_mfa_event_is_audited(ref: Harness, clock: Clock) -> None:
    _, root, tenant = ref.user("superadmin")
    auditor = ref.login(username=root, tenant=tenant)
    user = enrol(ref, clock, tenant=tenant)
    verify(ref, challenge(ref, user), "000000" if user.code(clock.now()) != "000000" else "111111")
    verify(ref, challenge(ref, user), user.backup_codes[0])
    ref.call("POST", "/auth/mfa/disable", user.login, json={"password": PASSWORD, "code": user.code(clock.now())})
    actions = {event["action"] for event in ref.get("/audit", auditor).json["events"]}
    assert {"mfa.setup", "mfa.enabled", "mfa.challenge_issued", "mfa.verify_failed", "mfa.backup_code_used",
            "mfa.verified", "mfa.disabled"} <= actions
    text = ref.get("/audit", auditor).get_data(as_text=True)
    assert user.secret not in text and user.backup_codes[0] not in text


def test_deleting_the_account_drops_its_factor(ref: Harness, clock: Clock) -> None:
    user = enrol(ref, clock)
    assert ref.call("DELETE", "/users/me", user.login).status_code == 204
    with ref.app.app_context():
        from reference_impl.db import db

        assert db().get(MfaFactor, user.login.user_id) is None
        assert not db().query(BackupCode).filter_by(user_id=user.login.user_id).all()


# ---------------------------------------------------------------------------- the faults


@pytest.mark.parametrize("fault", ["mfa-password-step-tokens"])
def test_fault_password_step_answers_tokens(make: Any, clock: Clock, fault: str) -> None:
    ref = make(**ROOMY_LOGIN, faults={fault})
    answer = password_step(ref, enrol(ref, clock))
    assert answer.json["mfa_required"] is True and "access_token" in answer.json


def test_fault_challenge_as_access(make: Any, clock: Clock) -> None:
    ref = make(**ROOMY_LOGIN, faults={"mfa-challenge-as-access"})
    token = challenge(ref, enrol(ref, clock))
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_fault_challenge_reusable_and_unbound(make: Any, clock: Clock) -> None:
    ref = make(**ROOMY_LOGIN, faults={"mfa-challenge-reusable", "mfa-challenge-unbound"})
    victim, attacker = enrol(ref, clock), enrol(ref, clock)
    token = challenge(ref, victim)
    assert verify(ref, token, victim.code(clock.now())).status_code == 200
    assert verify(ref, token, victim.backup_codes[0]).status_code == 200
    assert verify(ref, challenge(ref, victim), attacker.code(clock.now(), 1),
                  headers=attacker.login.auth).status_code == 200


def test_fault_replay_wide_window_no_limit(make: Any, clock: Clock) -> None:
    ref = make(**ROOMY_LOGIN, faults={"mfa-code-replay", "mfa-wide-window", "mfa-no-attempt-limit"})
    user = enrol(ref, clock)
    code = user.code(clock.now())
    assert verify(ref, challenge(ref, user), code).status_code == 200
    assert verify(ref, challenge(ref, user), code).status_code == 200
    assert verify(ref, challenge(ref, user), user.code(clock.now(), -5)).status_code == 200
    token = challenge(ref, user)
    for _ in range(8):
        assert verify(ref, token, "12345x").status_code == 401
    assert verify(ref, token, code).status_code == 200


def test_fault_backup_codes(make: Any, clock: Clock) -> None:
    ref = make(**ROOMY_LOGIN, faults={"mfa-backup-code-reusable", "mfa-backup-codes-in-clear"})
    user = enrol(ref, clock, "admin")
    assert verify(ref, challenge(ref, user), user.backup_codes[0]).status_code == 200
    assert verify(ref, challenge(ref, user), user.backup_codes[0]).status_code == 200
    assert user.backup_codes[3] in ref.get("/users", user.login).get_data(as_text=True)


def test_fault_disable_without_code_and_not_audited(make: Any, clock: Clock) -> None:
    ref = make(**ROOMY_LOGIN, faults={"mfa-disable-without-code", "mfa-not-audited", "mfa-reenrol-unguarded"})
    _, root, tenant = ref.user("superadmin")
    auditor = ref.login(username=root, tenant=tenant)
    user = enrol(ref, clock, tenant=tenant)
    assert ref.call("POST", "/auth/mfa/setup", user.login).status_code == 200
    assert ref.call("POST", "/auth/mfa/disable", user.login, json={"password": PASSWORD}).status_code == 200
    assert not [e for e in ref.get("/audit", auditor).json["events"] if e["action"].startswith("mfa.")]
