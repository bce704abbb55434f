"""The MFA checks (contract section 9) pass on the clean reference, fail with every fault that names
them, are not applicable where the profile does not declare MFA, and never leak the secrets they
learn into their evidence."""

from __future__ import annotations

import json
import re

import pytest
from reference_runs import run_on_reference

from conformance import profile, registry
from conformance.profile import ProfileError
from conformance.verdict import Verdict
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
