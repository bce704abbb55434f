"""The MFA checks (contract section 9) pass on the clean reference, fail with every fault that names
them, are not applicable where the profile does not declare MFA, and never leak the secrets they
learn into their evidence."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pyotp
import pytest
from reference_runs import run_on_reference

from conformance import profile, registry
from conformance.deployments import profile_for_reference, reference_config
from conformance.profile import ProfileError
from conformance.runner import Deployment, run_check
from conformance.targets.inprocess import InProcessTarget, signing_key_of
from conformance.verdict import Result, Verdict
from reference_impl.faults import CATALOG

CHECK_IDS = sorted(c.id for c in registry.all_checks() if c.area == "mfa")
FAULT_CASES = [(fault.name, check_id) for fault in CATALOG for check_id in fault.caught_by
               if check_id.startswith("MFA-")]
BASE32_SECRET = re.compile(r"\b[A-Z2-7]{32}\b")


def test_every_mfa_rule_has_its_check_and_fault() -> None:
    assert set(CHECK_IDS) == {
        "MFA-ENROL", "MFA-LOGIN-CHALLENGE", "MFA-CHALLENGE-TYPE", "MFA-CHALLENGE-SINGLE-USE",
        "MFA-CHALLENGE-BOUND", "MFA-CODE-REPLAY", "MFA-CODE-WINDOW", "MFA-ATTEMPT-LIMIT",
        "MFA-BACKUP-SINGLE-USE", "MFA-BACKUP-NOT-EXPOSED", "MFA-DISABLE", "MFA-AUDIT"}
    assert {check_id for _fault, check_id in FAULT_CASES} == set(CHECK_IDS)
    for check_id in CHECK_IDS:
        check = registry.get(check_id)
        assert check.section == "9" and "mfa" in check.needs and check.controls


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_passes_on_the_clean_reference(check_id: str) -> None:
    result = run_on_reference(check_id)
    assert result.verdict is Verdict.PASS, result.reason


@pytest.mark.parametrize(("fault", "check_id"), FAULT_CASES)
def test_check_fails_with_the_fault_that_names_it(fault: str, check_id: str) -> None:
    result = run_on_reference(check_id, frozenset({fault}))
    assert result.verdict is Verdict.FAIL, f"{fault}: {result.verdict} {result.reason}"


def test_mfa_checks_are_not_applicable_without_the_capability() -> None:
    base = profile.load()
    without = base.with_overrides({"capabilities": [c for c in base.capabilities if c != "mfa"]})
    result = run_on_reference("MFA-CODE-REPLAY", base=without)
    assert result.verdict is Verdict.NOT_APPLICABLE and "'mfa'" in result.reason


def test_the_secret_and_backup_codes_never_reach_the_evidence() -> None:
    for check_id, fault in (("MFA-ENROL", "mfa-reenrol-unguarded"),
                            ("MFA-BACKUP-SINGLE-USE", "mfa-backup-code-reusable")):
        result = run_on_reference(check_id, frozenset({fault}))
        assert result.verdict is Verdict.FAIL  # a failure keeps its whole evidence, enrolment included
        assert any(record["request"]["url"] == "/auth/mfa/setup" for record in result.evidence)
        text = json.dumps(result.evidence)
        assert not BASE32_SECRET.search(text), check_id
        assert not re.search(r"\b[0-9a-f]{5}-[0-9a-f]{5}\b", text), check_id


def test_a_wrong_mfa_section_names_the_field_and_the_fix() -> None:
    with pytest.raises(ProfileError) as caught:
        profile.load(overrides={"mfa.algorithm": "MD5"})
    assert caught.value.field_path == "mfa.algorithm" and "SHA1" in caught.value.fix
    with pytest.raises(ProfileError) as caught:
        profile.load(overrides={"mfa.step": 0})
    assert caught.value.field_path == "mfa.step"


# ---------------------------------------------------------------------------- declared MFA accounts

# Against declared accounts (MFA on already, secret from the environment) these are judged; the
# others need a user the suite enrols, or would strip a shared account of its second factor.
JUDGED_ON_ACCOUNTS = {"MFA-ATTEMPT-LIMIT", "MFA-CHALLENGE-BOUND", "MFA-CHALLENGE-SINGLE-USE", "MFA-CHALLENGE-TYPE",
                      "MFA-CODE-REPLAY", "MFA-CODE-WINDOW", "MFA-LOGIN-CHALLENGE"}
ACCOUNTS_TOML = """
[[users.accounts]]
username = "${MFA_USER1}"
password = "${MFA_PASSWORD1}"
tenant = "t-declared"
totp_secret = "${MFA_SECRET1}"

[[users.accounts]]
username = "${MFA_USER2}"
password = "${MFA_PASSWORD2}"
tenant = "t-declared"
totp_secret = "${MFA_SECRET2}"
"""


def _with_mfa_accounts(target: Any) -> dict[str, str]:
    """Two accounts of the in-process reference with MFA on, set up as an operator would (the suite
    is not involved): what the profile's ${VARS} read."""
    environ = {}
    for n in (1, 2):
        username, password = f"mfa-user-{n}", secrets.token_urlsafe(12)
        target.provision_user(username=username, password=password, tenant="t-declared", role="viewer")
        login = target.request("POST", "/auth/login", json_body={"username": username, "password": password,
                                                                 "tenant": "t-declared"}).json()
        auth = {"Authorization": f"Bearer {login['access_token']}"}
        secret = target.request("POST", "/auth/mfa/setup", headers=auth, json_body={}).json()["secret"]
        code = pyotp.TOTP(secret).at(target.clock.now())
        assert target.request("POST", "/auth/mfa/confirm", headers=auth, json_body={"code": code}).status == 200
        environ |= {f"MFA_USER{n}": username, f"MFA_PASSWORD{n}": password, f"MFA_SECRET{n}": secret}
    return environ


def _run_on_declared_accounts(check_id: str, faults: frozenset[str] = frozenset()) -> tuple[Result, dict[str, str]]:
    config = reference_config(faults)
    target = InProcessTarget(config)
    try:
        environ = _with_mfa_accounts(target)
        text = (profile.DEFAULT_PROFILE.read_text() + ACCOUNTS_TOML).replace('[mfa]\n', '[mfa]\nsource = "accounts"\n')
        base = profile.loads(text, source="reference + declared MFA accounts", environ=environ)
        described = profile_for_reference(base, config)
        signing = signing_key_of(target.app)
        deployment = Deployment(target, described, signing)
        deployment.redactor.add(signing.key, config.secret_key)
        for account in described.users.accounts:
            deployment.redactor.add(account.password, account.totp_secret)
        return run_check(registry.get(check_id), deployment), environ
    finally:
        target.close()


def test_an_account_secret_comes_from_the_environment_and_is_checked() -> None:
    text = profile.DEFAULT_PROFILE.read_text() + ACCOUNTS_TOML
    secret = pyotp.random_base32()
    environ = {"MFA_USER1": "a", "MFA_PASSWORD1": "p", "MFA_SECRET1": secret, "MFA_USER2": "b",
               "MFA_PASSWORD2": "q", "MFA_SECRET2": secret.lower()}
    loaded = profile.loads(text, source="t.toml", environ=environ)
    assert [a.totp_secret for a in loaded.users.accounts] == [secret, secret]
    with pytest.raises(ProfileError) as caught:
        profile.loads(text, source="t.toml", environ={**environ, "MFA_SECRET2": "not-base32!"})
    assert caught.value.field_path == "users.accounts[1].totp_secret" and "not-base32" not in str(caught.value)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_on_declared_accounts_a_check_is_judged_or_says_why_not(check_id: str) -> None:
    result, environ = _run_on_declared_accounts(check_id)
    if check_id not in JUDGED_ON_ACCOUNTS:
        assert result.verdict is Verdict.NOT_APPLICABLE and "declared accounts" in result.reason, result.reason
        return
    expected = Verdict.PARTIAL if check_id == "MFA-CODE-WINDOW" else Verdict.PASS  # confirmation not judged
    assert result.verdict is expected, result.reason
    text = json.dumps(result.evidence) + json.dumps(result.details) + result.reason
    assert environ["MFA_SECRET1"] not in text and environ["MFA_SECRET2"] not in text
    assert environ["MFA_PASSWORD1"] not in text and environ["MFA_PASSWORD2"] not in text


@pytest.mark.parametrize(("fault", "check_id"), [case for case in FAULT_CASES if case[1] in JUDGED_ON_ACCOUNTS])
def test_on_declared_accounts_a_check_fails_with_its_fault(fault: str, check_id: str) -> None:
    result, _environ = _run_on_declared_accounts(check_id, frozenset({fault}))
    assert result.verdict is Verdict.FAIL, f"{fault}: {result.verdict} {result.reason}"


def test_a_check_that_waits_for_a_step_keeps_its_sessions_in_use() -> None:
    # Told the window is 0 steps, the phone has one code per step, so MFA-DISABLE (three codes) waits
    # for steps; an idle timeout shorter than such a wait must not be what ends its sessions.
    base = profile.load().with_overrides({"mfa.window": 0})
    result = run_on_reference("MFA-DISABLE", base=base, idle_timeout=10)
    assert result.verdict is Verdict.PASS, result.reason
    caught = run_on_reference("MFA-DISABLE", frozenset({"mfa-disable-without-code"}), base=base, idle_timeout=10)
    assert caught.verdict is Verdict.FAIL, caught.reason
