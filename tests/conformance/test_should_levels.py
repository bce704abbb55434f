"""The SHOULD rules of the contract have their level: a check of one ends non-strict when the rule
is broken, and the kill matrix counts that as the kill of its fault."""

from __future__ import annotations

import os

from conformance import registry, selftest
from conformance.registry import Level
from conformance.verdict import Verdict
from reference_impl.faults import BY_NAME

SHOULD_CHECKS = {"RL-HEADERS", "CRED-WWW-AUTH-ERROR", "TEN-CROSS-TENANT-BODY"}


def test_the_should_rules_of_the_contract_have_their_level() -> None:
    assert {c.id for c in registry.all_checks() if c.level is Level.SHOULD} == SHOULD_CHECKS
    for check_id in SHOULD_CHECKS:
        assert "SHOULD" in registry.get(check_id).rule
        assert [f for f in BY_NAME.values() if check_id in f.caught_by], f"no fault for {check_id}"


def test_the_kill_matrix_counts_non_strict_for_a_should_check_and_fail_for_a_must_one() -> None:
    assert selftest.killing_verdict("CRED-WWW-AUTH-ERROR") == str(Verdict.NON_STRICT)
    assert selftest.killing_verdict("CRED-ERROR-FORMAT") == str(Verdict.FAIL)

    def outcome(fault: str, check_id: str, verdict: Verdict) -> selftest.Outcome:
        return selftest.Outcome(fault, {}, {check_id: str(verdict)}, {check_id: ""}, 0.0)

    matrix = selftest.Matrix([outcome("www-authenticate-no-error", "CRED-WWW-AUTH-ERROR", Verdict.NON_STRICT),
                              outcome("no-www-authenticate", "CRED-ERROR-FORMAT", Verdict.NON_STRICT)], 0.0)
    killed = {row["fault"]: row["killed"] for row in matrix.build()["matrix"]}
    assert killed == {"www-authenticate-no-error": True, "no-www-authenticate": False}


def test_a_self_test_task_leaves_the_environment_of_its_caller_alone() -> None:
    before = dict(os.environ)
    done = selftest.execute(selftest.Task("www-authenticate-no-error", (), ("CRED-WWW-AUTH-ERROR",)))
    assert done.verdicts == {"CRED-WWW-AUTH-ERROR": str(Verdict.NON_STRICT)}
    assert dict(os.environ) == before
